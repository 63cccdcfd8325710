"""One place per fact: no list of items, types, departments or outcomes outside the seeds and the registry.

Items, types, the conference's outcomes (要支援 …) and departments live in
``dbt_project/seeds/rules/`` and ``include/sources/``; code reads them through
:mod:`mimamori.vocabulary`, SQL joins the seed, the case screen's check constraint is generated
from it. A *list* is two or more codes of one kind together in one literal (a list, tuple, set,
dict, call or comparison; in SQL one line; in dbt YAML an ``accepted_values`` list or a test
expression), or an assertion on how many there are. Prose (comments, docstrings, YAML
descriptions) may name codes; code may not list them.

Not scanned, and why:
- ``include/mimamori/synth/``: the synthetic town's generator and its independent reference
  evaluator write and read the departments' files item by item — that per-item code is the
  cross-check of the dbt models, listed apart in the data-engineer manual (outcomes are scanned
  there too: the conference simulator reads them from the seed like everyone else);
- ``dbt_project/models/intermediate/items/int_items__facts_*.sql``: each fact model is where an
  item's rule lives (a source value → item code); the recipe for a new item edits one of them;
- tests' fixtures (they name the items a case is about); tests are scanned for count assertions.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest
import yaml
from mimamori import vocabulary

ROOT = Path(__file__).resolve().parents[2]
PY_ROOTS = ("include", "dags", "superset")
SQL_ROOTS = ("dbt_project/models", "dbt_project/macros", "dbt_project/tests", "dbt_project/analyses")
YAML_ROOTS = ("dbt_project/models", "dbt_project/seeds", "dbt_project/tests", "dbt_project/macros")
SKIP_PARTS = ("synth", "__pycache__", ".local")
#: kinds scanned in the synthetic town's code too (its per-item code is the exception, not outcomes)
SYNTH_KINDS = ("outcome",)
FACT_MODEL = re.compile(r"^int_items__facts_.*\.sql$")


def _codes() -> dict[str, frozenset[str]]:
    sources = frozenset(p.stem for p in (ROOT / "include" / "sources").glob("*.yaml"))
    return {
        "item": frozenset(vocabulary.items()),
        "type": frozenset(vocabulary.types()),
        "department": sources,
        "outcome": frozenset(vocabulary.outcomes()),
    }


def _files(roots: tuple[str, ...], suffixes: tuple[str, ...], skip: tuple[str, ...] = SKIP_PARTS) -> list[Path]:
    out = []
    for root in roots:
        for path in sorted((ROOT / root).rglob("*")):
            if path.suffix in suffixes and not any(part in skip for part in path.parts):
                out.append(path)
    return out


def _synth_files() -> list[Path]:
    return [p for p in _files(("include",), (".py",), ("__pycache__", ".local")) if "synth" in p.parts]


def _literal_groups(tree: ast.AST):
    """(line, [string constants]) for every literal or call whose direct parts are strings."""
    for node in ast.walk(tree):
        parts: list[ast.AST] = []
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            parts = list(node.elts)
        elif isinstance(node, ast.Dict):
            parts = [k for k in node.keys if k is not None] + list(node.values)
        elif isinstance(node, ast.Call):
            parts = list(node.args)
        elif isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
        strings = [p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)]
        if len(strings) >= 2:
            yield node.lineno, strings


def _count_assertions(tree: ast.AST, counts: dict[str, int]):
    """``len(<something named like items/types/catalogue>) == N`` where N is the seeds' count."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or not isinstance(node.left, ast.Call):
            continue
        func = node.left.func
        if not (isinstance(func, ast.Name) and func.id == "len") or not node.left.args:
            continue
        subject = ast.unparse(node.left.args[0]).lower()
        for comp in node.comparators:
            if not (isinstance(comp, ast.Constant) and isinstance(comp.value, int)):
                continue
            for kind, n in counts.items():
                if comp.value == n and any(word in subject for word in (kind, "catalogue", "item", "type")):
                    yield node.lineno, kind, comp.value


def _embedded_sql_groups(tree: ast.AST):
    """(line, ['quoted', 'strings']) per line of every string constant: SQL held in Python (a DDL,
    a query) lists codes as ``in ('a', 'b')`` inside one string."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "'" in node.value:
            for n, text in enumerate(node.value.splitlines()):
                strings = _SQL_STRING.findall(text)
                if len(strings) >= 2:
                    yield node.lineno + n, strings


def python_lists(paths: list[Path], codes: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, strings in [*_literal_groups(tree), *_embedded_sql_groups(tree)]:
            for kind, known in codes.items():
                hits = sorted({s for s in strings if s in known})
                if len(hits) >= 2:
                    found.append(f"{path.relative_to(ROOT)}:{line}: {kind} codes {hits}")
    return found


_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/|\{#.*?#\}", re.S)
_SQL_STRING = re.compile(r"'([^']*)'")


def sql_lists(paths: list[Path], codes: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for path in paths:
        if FACT_MODEL.match(path.name):
            continue
        text = _SQL_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text(encoding="utf-8"))
        for n, line in enumerate(text.splitlines(), start=1):
            strings = set(_SQL_STRING.findall(line))
            for kind, known in codes.items():
                hits = sorted(strings & known)
                if len(hits) >= 2:
                    found.append(f"{path.relative_to(ROOT)}:{n}: {kind} codes {hits}")
    return found


def _yaml_strings(node, keypath: str):
    """(keypath, strings) for every ``values:`` list and every SQL-bearing string (an ``expression``,
    a ``where``) in a dbt YAML document; descriptions and unit-test fixture rows are not looked at."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{keypath}.{key}"
            if key == "values" and isinstance(value, list):
                yield here, [v for v in value if isinstance(v, str)]
            elif key in ("expression", "where", "condition") and isinstance(value, str):
                yield here, _SQL_STRING.findall(value)
            else:
                yield from _yaml_strings(value, here)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            name = value.get("name") if isinstance(value, dict) else None
            yield from _yaml_strings(value, f"{keypath}[{name or n}]")


def yaml_lists(paths: list[Path], codes: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for keypath, strings in _yaml_strings(doc, ""):
            for kind, known in codes.items():
                hits = sorted(set(strings) & known)
                if len(hits) >= 2:
                    found.append(f"{path.relative_to(ROOT)}:{keypath}: {kind} codes {hits}")
    return found


def test_no_code_lists_in_python_or_sql():
    codes = _codes()
    found = python_lists(_files(PY_ROOTS, (".py",)), codes) + sql_lists(_files(SQL_ROOTS, (".sql",)), codes)
    found += python_lists(_synth_files(), {kind: codes[kind] for kind in SYNTH_KINDS})
    found += yaml_lists(_files(YAML_ROOTS, (".yml", ".yaml")), codes)
    assert found == [], (
        "lists that belong in the seeds/registry (read them through mimamori.vocabulary):\n" + "\n".join(found)
    )


def test_no_count_assertions():
    codes = _codes()
    counts = {kind: len(known) for kind, known in codes.items()}
    found = []
    for path in _files((*PY_ROOTS, "tests"), (".py",)):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += [
            f"{path.relative_to(ROOT)}:{ln}: len(...) == {n} ({kind})"
            for ln, kind, n in _count_assertions(tree, counts)
        ]
    assert found == [], "counts of items/types/departments belong to the seeds, not to code:\n" + "\n".join(found)


def test_the_scan_finds_what_it_forbids(tmp_path):
    """The scanners are not blind: planted lists of each kind and a count assertion are found."""
    codes = _codes()
    item_a, item_b = sorted(codes["item"])[:2]
    type_a, type_b = sorted(codes["type"])[:2]
    dep_a, dep_b = sorted(codes["department"])[:2]
    out_a, out_b = sorted(codes["outcome"])[:2]
    py = tmp_path / "planted.py"
    py.write_text(
        f"LABELS = {{{item_a!r}: 'x', {item_b!r}: 'y'}}\n"
        f"TYPES = ({type_a!r}, {type_b!r})\n"
        f"ok = source in ({dep_a!r}, {dep_b!r})\n"
        f"FOLLOWED = frozenset({{{out_a!r}, {out_b!r}}})\n"
        f'DDL = """\ncreate table t (\n  outcome text check (outcome in (\'{out_a}\', \'{out_b}\'))\n)"""\n'
        f"assert len(ITEMS) == {len(codes['item'])}\n",
        encoding="utf-8",
    )
    sql = tmp_path / "planted.sql"
    sql.write_text(f"-- {item_a} and {item_b} in a comment are prose\nwhere item_code in ('{item_a}', '{item_b}')\n")
    # relative_to(ROOT) needs paths under the repo: report by name instead
    found_py = [f.split(": ", 1)[1] for f in _relative(python_lists, py, codes)]
    assert any(f.startswith("item codes") for f in found_py)
    assert any(f.startswith("type codes") for f in found_py)
    assert any(f.startswith("department codes") for f in found_py)
    assert any(f.startswith("outcome codes") for f in found_py)
    assert any(f.split(":")[1] == "7" and "outcome codes" in f for f in _relative(python_lists, py, codes)), (
        "a list inside SQL held in a Python string is found, on its own line"
    )
    counts = {kind: len(known) for kind, known in codes.items()}
    assert list(_count_assertions(ast.parse(py.read_text()), counts))
    found_sql = _relative(sql_lists, sql, codes)
    assert len(found_sql) == 1 and ":2:" in found_sql[0]
    outcome_sql = tmp_path / "outcome.sql"
    outcome_sql.write_text(f"count(*) filter (where outcome in ('{out_a}', '{out_b}'))\n", encoding="utf-8")
    assert [f.split(": ", 1)[1] for f in _relative(sql_lists, outcome_sql, codes)] == [
        f"outcome codes {sorted([out_a, out_b])}"
    ]
    yml = tmp_path / "planted.yml"
    yml.write_text(
        "models:\n  - name: m\n    description: prose may name "
        f"{out_a} and {out_b}\n    columns:\n      - name: outcome\n        data_tests:\n"
        f"          - accepted_values:\n              arguments:\n                values: ['{out_a}', '{out_b}']\n"
        "    data_tests:\n      - judgement_expression_is_true:\n          arguments:\n"
        f"            expression: \"code in ('{out_a}', '{out_b}')\"\n",
        encoding="utf-8",
    )
    found_yml = _relative(yaml_lists, yml, codes)
    assert len(found_yml) == 2 and all("outcome codes" in f for f in found_yml), found_yml


def _relative(scanner, path: Path, codes) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return scanner([path], codes)
    finally:
        ROOT = saved


def test_vocabulary_fails_loudly_on_a_broken_seed(tmp_path):
    rules = tmp_path / "dbt_project" / "seeds" / "rules"
    rules.mkdir(parents=True)
    for name in ("item_catalogue.csv", "types.csv"):
        (rules / name).write_text((ROOT / "dbt_project" / "seeds" / "rules" / name).read_text(encoding="utf-8"))
    with (ROOT / "dbt_project" / "seeds" / "rules" / "type_items.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows.append([rows[1][0], "I99", "1", "", "false"])
    (rules / "type_items.csv").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(vocabulary.VocabularyError, match=r"type_items.csv:\d+: item 'I99'"):
        vocabulary.type_items(tmp_path)
    other = tmp_path / "other"  # a new root (the readers cache per root)
    (other / "dbt_project" / "seeds" / "rules").mkdir(parents=True)
    (other / "dbt_project" / "seeds" / "rules" / "types.csv").write_text("type_code,label_ja\nx,y\n", encoding="utf-8")
    with pytest.raises(vocabulary.VocabularyError, match="types.csv: missing column"):
        vocabulary.types(other)


def test_outcomes_need_exactly_one_that_means_needs_support(tmp_path):
    """pool, fit and the report split outcomes into 要支援 and the rest: a seed with two (or no)
    needs-support outcomes is refused, not half-used."""
    seed = ROOT / "dbt_project" / "seeds" / "rules" / "conference_outcomes.csv"
    lines = seed.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("is_needs_support")
    for n in (2, 0):
        root = tmp_path / f"n{n}"
        (root / "dbt_project" / "seeds" / "rules").mkdir(parents=True)
        rows = [line.split(",") for line in lines[1:]]
        if n == 2:  # the last outcome (支援不要) made a second "needs support"
            rows[-1][col] = "true"
        else:
            for row in rows:
                row[col] = "false"
        assert sum(r[col] == "true" for r in rows) == n
        text = "\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n"
        (root / "dbt_project" / "seeds" / "rules" / "conference_outcomes.csv").write_text(text, encoding="utf-8")
        with pytest.raises(vocabulary.VocabularyError, match="exactly one outcome must be is_needs_support"):
            vocabulary.outcomes(root)
