"""What dbt gives a model's Jinja, for sqlfluff's jinja templater (.sqlfluff library_path).

sqlfluff lints with its plain jinja templater (fast, offline, no database, no `dbt parse`), so the
names the project's macros use from dbt are provided here: the vars of dbt_project.yml (with a
valid run month and attempt), `execute` true so the compiled branch is what gets linted, a
`history` relation that exists (int_items__score_history's full form), and harmless stand-ins for
`env_var`, `log`, `modules`, `exceptions`, `target`, `model`. Every top-level name here is put
into the Jinja context ahead of sqlfluff's own dbt builtins (ref/source/config/this stay theirs).
"""

from __future__ import annotations

import re as _re
import types as _types
from pathlib import Path as _Path

import yaml as _yaml

_PROJECT = _Path(__file__).resolve().parents[2]
_VARS = (_yaml.safe_load((_PROJECT / "dbt_project.yml").read_text(encoding="utf-8")) or {}).get("vars") or {}
# What the monthly DAG passes (mimamori.dbt.run): a month and an attempt id.
_VARS |= {"run_month": "2026-10", "run_id": "lint"}

_MISSING = object()


def var(name, default=_MISSING):
    """dbt's var(): dbt_project.yml's vars; an unknown name without a default is an error, as in dbt."""
    if name in _VARS:
        return _VARS[name]
    if default is _MISSING:
        raise KeyError(f"var {name!r} is not in dbt_project.yml vars and has no default")
    return default


def env_var(name, default=""):
    """Offline and reproducible: never the linting machine's environment."""
    return default


def log(message, info=False):
    return ""


execute = True


class _Relation:
    def __init__(self, schema, identifier):
        self.schema, self.identifier = schema, identifier

    def __str__(self):
        return f"{self.schema}.{self.identifier}"


class _Adapter:
    @staticmethod
    def get_relation(database=None, schema=None, identifier=None):
        return _Relation(schema, identifier)


adapter = _Adapter()


class _CompilerError(Exception):
    pass


def _raise_compiler_error(message):
    raise _CompilerError(message)


exceptions = _types.SimpleNamespace(raise_compiler_error=_raise_compiler_error)
modules = _types.SimpleNamespace(re=_re)
target = _types.SimpleNamespace(database="mimamori", schema="public", name="lint", type="postgres")
model = _types.SimpleNamespace(config=_types.SimpleNamespace(materialized="table"))


# --- the identity matcher's macros (macros/identity/normalize.sql, match.sql), as stand-ins ------
# .sqlfluff excludes those two files: a name normalisation expands to hundreds of nested replace()
# and per-character subqueries (beyond sqlfluff's parse depth) and the pair scoring to 17k
# characters; the two pair models alone took most of the lint time. sqlfluff never reports inside
# a macro's expansion, so what a model needs from them is the shape: an expression, or a query.


def _expression(name):
    def render(*args, **kwargs):
        return f"{name}({', '.join(str(a) for a in args)})"

    render.__name__ = name
    return render


for _name in (
    "identity_address_norm",
    "identity_alias_norm",
    "identity_clean",
    "identity_code_point",
    "identity_fold_kanji",
    "identity_is_latin",
    "identity_kana_key",
    "identity_kana_norm",
    "identity_kana_part",
    "identity_latin_fold",
    "identity_map_gaiji",
    "identity_name_main",
    "identity_name_norm",
    "identity_name_part",
    "identity_name_part_raw",
    "identity_name_text",
    "identity_reading_key",
    "identity_strip_variation_selectors",
    "identity_token_key",
    "identity_like_pattern",
):
    globals()[_name] = _expression(_name)


def identity_private_use_class():
    return "[\\uE000-\\uF8FF]"


def identity_candidate_pairs(left, right, blocking_rules, max_block_size=200, dedupe=False):
    return f"select l.id as left_id, r.id as right_id from {left} as l cross join {right} as r"


def identity_score_pairs(pairs, left, right, comparisons, weights, functions="rules", levels=None):
    return f"select scored_pairs.* from {levels or pairs} as scored_pairs"


def identity_resolve_pairs(scored, link_threshold, review_threshold, tie_margin, require_name=True):
    return f"select resolved_pairs.* from {scored} as resolved_pairs"


def identity_resolve_dedupe(scored, link_threshold, review_threshold, require_name=True):
    return f"select resolved_pairs.* from {scored} as resolved_pairs"


def identity_create_functions(schema):
    return ""
