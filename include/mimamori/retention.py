"""Retention: delete what is past its retention period, audit the purge (counts only).

``purge(settings, run_month) -> dict`` reads the rules as dbt built them:

- ``rules.retention`` (seed ``dbt_project/seeds/rules/retention.csv``): per table (``schema.table``)
  or schema (``schema.*``) the column that dates a row, its kind (``month`` YYYY-MM text, ``date``,
  ``timestamp``) and the retention in months; ``basis = never`` is never purged (the audit log,
  the purge log); a table not listed is never touched;
- ``rules.item_catalogue.retention_months`` for ``basis = catalogue`` (``raw.*``): the raw rows
  of a source (``raw.<source>__<entity>``) are kept for the largest retention of the items that
  source feeds.

A row is expired when its date is before the first day of (run month − retention months): with
36 months and run month 2026-10, rows of 2023-09 and earlier go, 2023-10 … 2026-10 stay. Rows
another kept row still refers to (a withdrawn correction whose withdrawal is kept) stay until the
referring row expires. Everything runs in one transaction as the cluster superuser (the tables
belong to loader and transformer); each target gets a ``casework.purge_log`` row (table, cut-off,
count — never a value; the table is created by the dbt on-run-start hook with the other casework
tables). ``dry_run`` counts without deleting.

Superseded attempts (:func:`prune_superseded`): raw keeps every attempt of a month side by side
(mimamori.attempts), but once a newer attempt of the month is published, the raw rows of the
attempts before it — and rows loaded before attempts existed — are personal data with no further
use: they are deleted, one ``purge_log`` row per table. Their ``ingest.*`` records stay (the
month's history shows every try); attempts after the published one stay until the next
publication (they explain a failed re-run).

CLI: ``python -m mimamori.retention --month 2026-10 [--dry-run]``. The monthly DAG runs both after
publish (task ``retention_purge``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from datetime import date
from typing import Any

from psycopg import sql

from mimamori.months import validate_month
from mimamori.settings import Settings, get_settings

log = logging.getLogger("mimamori.retention")


def cutoff_month(run_month: str, retention_months: int) -> str:
    """The first kept month: run month − retention months (rows dated before it are expired)."""
    year, month = map(int, validate_month(run_month).split("-"))
    total = year * 12 + (month - 1) - int(retention_months)
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _tables(conn, schema: str, column: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select c.table_name from information_schema.columns c"
            " join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name"
            " where c.table_schema = %s and c.column_name = %s and t.table_type = 'BASE TABLE'"
            " order by c.table_name",
            (schema, column),
        ).fetchall()
    ]


def _self_references(conn, schema: str, table: str) -> list[tuple[str, str]]:
    """(referencing column, referenced column) of the table's foreign keys to itself."""
    return conn.execute(
        "select a.attname, af.attname from pg_constraint k"
        " join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace"
        " join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]"
        " join pg_attribute af on af.attrelid = k.confrelid and af.attnum = k.confkey[1]"
        " where k.contype = 'f' and k.conrelid = k.confrelid and n.nspname = %s and c.relname = %s",
        (schema, table),
    ).fetchall()


def _expired(column: str, kind: str, cutoff: str) -> sql.Composable:
    col = sql.Identifier(column)
    if kind == "month":
        return sql.SQL("{} < {}").format(col, sql.Literal(cutoff))
    first = date.fromisoformat(cutoff + "-01")
    if kind == "date":
        return sql.SQL("{} < {}::date").format(col, sql.Literal(first))
    return sql.SQL("{} < ({}::date::timestamp at time zone 'Asia/Tokyo')").format(col, sql.Literal(first))


def plan(conn, run_month: str) -> list[dict[str, Any]]:
    """[{target, date_column, date_kind, retention_months, cutoff}] for every table to purge."""
    validate_month(run_month)
    rules = conn.execute(
        "select target, date_column, date_kind, retention_months, basis from rules.retention order by target"
    ).fetchall()
    catalogue = conn.execute("select sources, retention_months from rules.item_catalogue").fetchall()
    per_source: dict[str, int] = {}
    for sources, months in catalogue:
        for source in (sources or "").split():
            per_source[source] = max(per_source.get(source, 0), int(months or 0))
    out: list[dict[str, Any]] = []
    explicit = {t for t, *_ in rules if not t.endswith(".*")}
    for target, column, kind, months, basis in rules:
        if basis == "never":
            continue
        schema, _, table = target.partition(".")
        tables = _tables(conn, schema, column) if table == "*" else [table]
        for name in tables:
            if table == "*" and f"{schema}.{name}" in explicit:
                continue  # an explicit row for the table wins over schema.*
            if not conn.execute("select to_regclass(%s) is not null", (f"{schema}.{name}",)).fetchone()[0]:
                continue
            keep = per_source.get(name.split("__")[0], 0) if basis == "catalogue" else int(months or 0)
            if keep <= 0:
                continue  # unknown source or no retention: never purged
            out.append(
                {
                    "target": f"{schema}.{name}",
                    "date_column": column,
                    "date_kind": kind,
                    "retention_months": keep,
                    "cutoff": cutoff_month(run_month, keep),
                }
            )
    never = {t for t, *_rest, b in rules if b == "never"}
    return [p for p in out if p["target"] not in never]


def purge(settings: Settings, run_month: str, *, dry_run: bool = False, executed_by: str | None = None) -> dict:
    """Delete the expired rows of every table in rules.retention; one purge_log row per target."""
    from mimamori import db

    validate_month(run_month)
    executed_by = executed_by or getpass.getuser()
    deleted: dict[str, int] = {}
    cutoffs: dict[str, str] = {}
    with db.connect(settings) as conn:
        with conn.transaction():
            conn.execute("set local lock_timeout = '60s'")
            for p in plan(conn, run_month):
                schema, name = p["target"].split(".")
                table = sql.Identifier(schema, name)
                where = _expired(p["date_column"], p["date_kind"], p["cutoff"])
                for ref_col, key_col in _self_references(conn, schema, name):
                    # keep a row that a kept row still refers to (e.g. a correction's withdrawal)
                    where = sql.SQL("{} and not exists (select 1 from {} k where k.{} = {}.{} and not (k.{}))").format(
                        where,
                        table,
                        sql.Identifier(ref_col),
                        sql.Identifier(name),
                        sql.Identifier(key_col),
                        _expired(p["date_column"], p["date_kind"], p["cutoff"]),
                    )
                if dry_run:
                    n = conn.execute(sql.SQL("select count(*) from {} where {}").format(table, where)).fetchone()[0]
                else:
                    n = conn.execute(sql.SQL("delete from {} where {}").format(table, where)).rowcount
                    conn.execute(
                        "insert into casework.purge_log (run_month, target, cutoff, rows_deleted, executed_by)"
                        " values (%s, %s, %s, %s, %s)",
                        (run_month, p["target"], p["cutoff"], n, executed_by),
                    )
                deleted[p["target"]] = int(n)
                cutoffs[p["target"]] = p["cutoff"]
    total = sum(deleted.values())
    log.info(
        "retention %s: %s %d row(s) in %d table(s)",
        run_month,
        "would delete" if dry_run else "deleted",
        total,
        sum(1 for n in deleted.values() if n),
    )
    return {"run_month": run_month, "dry_run": dry_run, "deleted": deleted, "cutoffs": cutoffs, "total": total}


def _superseded(conn, run_month: str) -> tuple[str | None, list[str]]:
    """(the month's published attempt, the attempts that started loading before it)."""
    present = conn.execute(
        "select to_regclass('ingest.file_loads') is not null and exists (select 1 from information_schema.columns"
        " where table_schema = 'published' and table_name = 'publication' and column_name = 'run_id')"
    ).fetchone()[0]
    if not present:
        return None, []
    row = conn.execute(
        "select run_id from published.publication where run_month = %s and run_id is not null"
        " order by published_at desc limit 1",
        (run_month,),
    ).fetchone()
    if not row:
        return None, []
    older = conn.execute(
        "with starts as (select run_id, min(loaded_at) as started from ingest.file_loads where run_month = %s"
        " group by run_id)"
        " select older.run_id from starts as older join starts as published on published.run_id = %s"
        " where older.run_id <> published.run_id and older.started < published.started",
        (run_month, row[0]),
    ).fetchall()
    return row[0], [r[0] for r in older]


def prune_superseded(settings: Settings, run_month: str, *, dry_run: bool = False, executed_by: str | None = None):
    """Delete the month's raw rows of attempts before the published one (and rows without an attempt)."""
    from mimamori import db
    from mimamori.ingest.registry import load_registry

    validate_month(run_month)
    executed_by = executed_by or getpass.getuser()
    deleted: dict[str, int] = {}
    with db.connect(settings) as conn:
        with conn.transaction():
            conn.execute("set local lock_timeout = '60s'")
            published, older = _superseded(conn, run_month)
            tables = [spec.raw_table for source in load_registry().values() for spec in source.files]
            for name in tables if published else []:
                if not conn.execute("select to_regclass(%s) is not null", (f"raw.{name}",)).fetchone()[0]:
                    continue
                table = sql.Identifier("raw", name)
                where = sql.SQL("run_month = %s and (run_id is null or run_id = any(%s))")
                if dry_run:
                    query = sql.SQL("select count(*) from {} where {}").format(table, where)
                    n = conn.execute(query, (run_month, older)).fetchone()[0]
                else:
                    n = conn.execute(
                        sql.SQL("delete from {} where {}").format(table, where), (run_month, older)
                    ).rowcount
                if n and not dry_run:
                    conn.execute(
                        "insert into casework.purge_log (run_month, target, cutoff, rows_deleted, executed_by)"
                        " values (%s, %s, %s, %s, %s)",
                        (run_month, f"raw.{name}", f"superseded by {published}", n, executed_by),
                    )
                deleted[f"raw.{name}"] = int(n)
    total = sum(deleted.values())
    log.info(
        "retention %s: %d raw row(s) of superseded attempts %s", run_month, total, "counted" if dry_run else "deleted"
    )
    return {"run_month": run_month, "published": published, "superseded": older, "deleted": deleted, "total": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.retention", description="保存期間を過ぎたデータを削除する"
    )
    parser.add_argument("--month", required=True, help="処理対象月 YYYY-MM（この月を基準に保存期間を数える）")
    parser.add_argument("--dry-run", action="store_true", help="削除せずに件数だけ数える")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = purge(get_settings(), args.month, dry_run=args.dry_run)
    result["superseded_attempts"] = prune_superseded(get_settings(), args.month, dry_run=args.dry_run)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
