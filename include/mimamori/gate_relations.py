"""The relations the quality gates read, resolved through dbt's manifest — never a silently dropped check.

``include/mimamori/expectations/thresholds.yml`` names the relations and columns each gate checks. A name there is
what dbt's manifest (``<state>/dbt/target/manifest.json``, written by every dbt command that
mimamori.dbt runs) calls a relation of the project:

- a model or seed as ``schema.table`` (``marts.child_type_scores``) or by its model name
  (``int_identity__links``);
- a raw table as ``raw.<raw_table>`` or ``<raw_table>`` (a dbt source);
- the published history of a model tagged ``publish`` as ``history.<table>`` (mimamori.publish).

:class:`Resolver` turns a configured name into the relation in the warehouse and checks that the
configured columns are there. Whatever it cannot find raises :class:`GateConfigError` naming the
configuration key: a gate whose check cannot run fails the run instead of passing without it (the
"every flag has evidence" check once never ran for months because its relation was misnamed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from mimamori.settings import Settings

log = logging.getLogger("mimamori.quality")

THRESHOLDS = "include/mimamori/expectations/thresholds.yml"
PUBLISH_TAG = "publish"
HISTORY = "history"


class GateConfigError(RuntimeError):
    """A gate's configuration names a relation or column that does not exist: the check cannot run."""


def manifest_path(settings: Settings) -> Path:
    return settings.state_dir / "dbt" / "target" / "manifest.json"


def _parse(settings: Settings) -> None:
    from mimamori import dbt

    lines: list[str] = []
    result = dbt.run(settings, ["parse"], log=lines.append)
    if not result.ok:
        raise GateConfigError(
            "dbt parse failed, so the gates cannot resolve their relations:\n" + "\n".join(lines[-20:])
        )


def _project_mtime(settings: Settings) -> float:
    """When a file of the dbt project (models, seeds, macros, its YAML) last changed."""
    from mimamori import dbt

    root = dbt.project_dir(settings)
    newest = (root / "dbt_project.yml").stat().st_mtime
    for folder in ("models", "seeds", "macros"):
        for path in (root / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def dbt_relations(manifest: dict) -> dict[str, str]:
    """Every name a gate's configuration may use → ``schema.table`` (see the module's docstring)."""
    out: dict[str, str] = {}
    bare: dict[str, str] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        table = node.get("alias") or node["name"]
        qualified = f"{node['schema']}.{table}"
        out[qualified] = qualified
        bare.setdefault(node["name"], qualified)
        if node.get("resource_type") == "model" and PUBLISH_TAG in (node.get("tags") or []):
            out[f"{HISTORY}.{table}"] = f"{HISTORY}.{table}"
    for node in manifest.get("sources", {}).values():
        table = node.get("identifier") or node["name"]
        qualified = f"{node['schema']}.{table}"
        out[qualified] = qualified
        bare.setdefault(table, qualified)
    return {**bare, **out}


def relation_info(conn, relation: str) -> tuple[str | None, set[str]]:
    """(schema-qualified name or None, its columns). A bare name is looked up in any schema."""
    if "." in relation:
        schema, table = relation.split(".", 1)
        row = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = %s and table_name = %s",
            (schema, table),
        ).fetchone()
    else:
        row = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_name = %s"
            " and table_schema not in ('pg_catalog', 'information_schema') order by table_schema limit 1",
            (relation,),
        ).fetchone()
    if not row:
        return None, set()
    cols = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s", row
        ).fetchall()
    }
    return f"{row[0]}.{row[1]}", cols


class Resolver:
    """Configured relation names → warehouse relations, through the dbt manifest.

    ``schemas``: logical schema (as the manifest names it) → the schema actually read; tests point
    the gates at fixture schemas with it, as mimamori.access and mimamori.superset_assets do.
    The manifest is read once; dbt parses the project first when there is none or when a file of
    the project changed since it was written (a raw gate before the month's build, after an edit).
    """

    def __init__(self, settings: Settings, conn, schemas: dict[str, str] | None = None) -> None:
        self.settings, self.conn, self.schemas = settings, conn, dict(schemas or {})
        self._relations: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        path = manifest_path(self.settings)
        if not path.exists() or path.stat().st_mtime < _project_mtime(self.settings):
            _parse(self.settings)
        if not path.exists():
            raise GateConfigError(f"no dbt manifest at {path}: the gates resolve their relations through it")
        self._relations = dbt_relations(json.loads(path.read_text(encoding="utf-8")))
        return self._relations

    def qualified(self, key: str, relation: str) -> str:
        """The manifest's ``schema.table`` for a configured name (``key``: where it is configured)."""
        relations = self._relations if self._relations is not None else self._load()
        if not isinstance(relation, str) or relation not in relations:
            raise GateConfigError(
                f"{THRESHOLDS} {key} names {relation!r}, which is no relation of the dbt project "
                f"(a model, seed, raw source or history.<published model>; manifest {manifest_path(self.settings)})"
            )
        schema, table = relations[relation].split(".", 1)
        return f"{self.schemas.get(schema, schema)}.{table}"

    def __call__(
        self, key: str, relation: str, columns: Iterable[tuple[str, str]] = (), *, may_be_absent: bool = False
    ) -> tuple[str | None, set[str]]:
        """(``schema.table``, its columns) of a configured relation; ``columns``: (config key, column)
        pairs that must exist. ``may_be_absent``: a relation that is legitimately not there yet
        (the history before the first publication) gives (None, set()) instead of an error."""
        qualified = self.qualified(key, relation)
        actual, cols = relation_info(self.conn, qualified)
        if actual is None:
            if may_be_absent:
                return None, set()
            raise GateConfigError(
                f"{THRESHOLDS} {key} names {relation!r}, but {qualified} is not in the warehouse (has dbt built it?)"
            )
        missing = [(k, c) for k, c in columns if c not in cols]
        if missing:
            named = ", ".join(f"{k} = {c!r}" for k, c in missing)
            raise GateConfigError(f"{THRESHOLDS} {named}: no such column in {actual} ({key} = {relation!r})")
        return actual, cols
