"""Atomic publication of a month: what the dashboards, the case screen and the analyst read.

Called only when every gate passed (sources under ``skip`` excepted, see
``mimamori.quality.publication_decision``). In ONE transaction, for every source relation (e.g.
``marts.children``) and pseudonymised relation:

1. ``published.<name>`` (``published_pseudo.<name>``) gets exactly the month's rows: truncate +
   insert when the table's columns are unchanged, otherwise a new table built beside it replaces it;
   ``published_pseudo`` holds exactly the month's pseudonymised tables (one no longer published
   is dropped: the analyst must not keep reading a table taken away from it);
2. ``history.<name>`` (``history.pseudo__<name>``) has the month's rows replaced — other months
   are kept — so every published month stays selectable;
3. a row in ``published.publication`` records the month, the attempt (``run_id``), the time, the
   tables and the gate summary: the latest row is "the month the dashboards show";
4. every table of ``published``, ``published_pseudo`` and ``history`` loses all its privileges and
   policies and gets exactly what the audience declaration gives (``mimamori.access``: grants,
   column privileges, row-level security), so a rebuilt table never keeps or loses an old grant.

Every published and history row carries ``run_id``, the attempt whose raw rows the models read
(mimamori.attempts); ``verify`` (the monthly DAG's verdict over this attempt's steps) runs inside
the transaction, after the lock, and refuses by raising.

Any error rolls everything back: readers keep seeing the previous month, whole. Readers are
never shown a half-published month (PostgreSQL's transactional DDL; TRUNCATE holds its lock until
commit, so a concurrent dashboard query waits a moment and then reads the new month).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import psycopg
from psycopg import sql

from mimamori.settings import Settings

log = logging.getLogger("mimamori.publish")

PUBLISHED = "published"
PSEUDO = "published_pseudo"
HISTORY = "history"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_LOCK = 0x7075626C  # 'publ'
DEADLOCK_RETRIES = 3

PUBLICATION_DDL = """
create table if not exists published.publication (
    run_month text not null,
    published_at timestamptz not null default clock_timestamp(),
    tables text[] not null,
    pseudo_tables text[] not null default '{}',
    skipped_sources text[] not null default '{}',
    gate_summary jsonb not null default '{}'::jsonb
);
alter table published.publication add column if not exists run_id text
"""
#: The lineage column every published and history row gets: the attempt that produced it.
LINEAGE = ("run_id", "text")


class PublishError(RuntimeError):
    """Publication refused or failed; nothing was changed."""


@dataclass
class PublishResult:
    run_month: str
    published_at: str
    tables: list[str] = field(default_factory=list)
    pseudo_tables: list[str] = field(default_factory=list)
    history_rows: dict[str, int] = field(default_factory=dict)
    access: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    run_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _split(relation: str) -> tuple[str, str]:
    parts = relation.split(".")
    if len(parts) != 2 or not all(_IDENT.match(p) for p in parts):
        raise PublishError(f"a source relation must be schema.table in snake_case, got {relation!r}")
    return parts[0], parts[1]


def _columns(conn, schema: str, table: str) -> list[tuple[str, str]] | None:
    rows = conn.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a"
        " join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (schema, table),
    ).fetchall()
    return [(r[0], r[1]) for r in rows] or None


def _publish_one(
    conn,
    run_month: str,
    relation: str,
    target_schema: str,
    history_name: str,
    run_id: str | None,
) -> tuple[str, int]:
    src_schema, name = _split(relation)
    src_cols = _columns(conn, src_schema, name)
    if src_cols is None:
        raise PublishError(f"source relation {relation} does not exist")
    if LINEAGE[0] in {c for c, _ in src_cols}:
        raise PublishError(f"source relation {relation} has a column {LINEAGE[0]}, which publication adds")
    col_names = [c for c, _ in src_cols]
    has_month = "run_month" in col_names
    src = sql.Identifier(src_schema, name)
    where = sql.SQL("where run_month = {}").format(sql.Literal(run_month)) if has_month else sql.SQL("")
    # The published columns: the source's, then the attempt (a constant of this publication).
    cols = sql.SQL(", ").join(map(sql.Identifier, [*col_names, LINEAGE[0]]))
    select = sql.SQL("{}, {}::text as {}").format(
        sql.SQL(", ").join(map(sql.Identifier, col_names)),
        sql.Literal(run_id),
        sql.Identifier(LINEAGE[0]),
    )
    target = sql.Identifier(target_schema, name)

    # 1. the published table: same columns -> truncate + insert (identity, grants, views kept)
    existing = _columns(conn, target_schema, name)
    if existing == [*src_cols, LINEAGE]:
        conn.execute(sql.SQL("truncate {}").format(target))
        conn.execute(sql.SQL("insert into {} ({}) select {} from {} {}").format(target, cols, select, src, where))
    else:
        nxt = sql.Identifier(target_schema, f"{name}__next")
        conn.execute(sql.SQL("drop table if exists {}").format(nxt))
        conn.execute(sql.SQL("create table {} as select {} from {} {}").format(nxt, select, src, where))
        if existing:
            conn.execute(sql.SQL("drop table {}").format(target))
        conn.execute(sql.SQL("alter table {} rename to {}").format(nxt, sql.Identifier(name)))
    if "person_id" in col_names:  # the case screen opens one child at a time
        conn.execute(
            sql.SQL("create index if not exists {} on {} (person_id)").format(
                sql.Identifier(f"{name}__person_idx"), target
            )
        )

    # 2. history: replace the month's rows, keep the others
    hist = sql.Identifier(HISTORY, history_name)
    hist_cols = _columns(conn, HISTORY, history_name)
    if hist_cols is None:
        head = sql.SQL("") if has_month else sql.SQL("{}::text as run_month, ").format(sql.Literal(run_month))
        conn.execute(sql.SQL("create table {} as select {}{} from {} with no data").format(hist, head, select, src))
        conn.execute(
            sql.SQL("create index {} on {} (run_month)").format(sql.Identifier(f"{history_name}__run_month_idx"), hist)
        )
        hist_cols = _columns(conn, HISTORY, history_name)
    if "person_id" in col_names:  # dashboards and the case screen look children up per month
        conn.execute(
            sql.SQL("create index if not exists {} on {} (run_month, person_id)").format(
                sql.Identifier(f"{history_name}__month_person_idx"), hist
            )
        )
    have = {c for c, _ in hist_cols}
    for column, type_ in [*src_cols, LINEAGE]:
        if column not in have:  # a column added since: older months have it null
            conn.execute(
                sql.SQL("alter table {} add column {} {}").format(hist, sql.Identifier(column), sql.SQL(type_))
            )
    conn.execute(sql.SQL("delete from {} where run_month = {}").format(hist, sql.Literal(run_month)))
    if has_month:
        cur = conn.execute(sql.SQL("insert into {} ({}) select {} from {} {}").format(hist, cols, select, src, where))
    else:
        cur = conn.execute(
            sql.SQL("insert into {} (run_month, {}) select {}, {} from {}").format(
                hist, cols, sql.Literal(run_month), select, src
            )
        )
    conn.execute(sql.SQL("analyze {}").format(hist))
    return f"{target_schema}.{name}", cur.rowcount


def _drop_unpublished(conn, schema: str, names: list[str]) -> None:
    """The analyst reads exactly this month's pseudonymised tables: a table published to it in an
    earlier month and no longer (e.g. item_relevance, docs/disclosure.md) is dropped, not left
    readable with stale data. Its history copy stays (no analyst grant)."""
    stale = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind = 'r' and not (c.relname = any(%s))",
        (schema, names),
    ).fetchall()
    for (name,) in stale:
        conn.execute(sql.SQL("drop table {}").format(sql.Identifier(schema, name)))
        log.info("dropped %s.%s: no longer published to its readers", schema, name)


def _check_request(run_month: str, tables: list[str], pseudo_tables: list[str]) -> None:
    if not _MONTH.match(run_month or ""):
        raise PublishError(f"run_month must be YYYY-MM, got {run_month!r}")
    if not tables and not pseudo_tables:
        raise PublishError("nothing to publish")
    names = [_split(t)[1] for t in tables]
    pnames = [_split(t)[1] for t in pseudo_tables]
    if len(set(names)) != len(names) or len(set(pnames)) != len(pnames) or "publication" in names + pnames:
        raise PublishError("published table names must be unique and not 'publication'")


def _publish_in(
    conn,
    result: PublishResult,
    tables,
    pseudo_tables,
    gate_summary,
    skipped_sources,
    declaration,
):
    """The publication's work inside its transaction (after the lock and ``verify``): copy every table
    with its history, record the publication, apply the audience declaration; its published_at."""
    from mimamori import access

    run_month, run_id = result.run_month, result.run_id
    for stmt in PUBLICATION_DDL.split(";"):
        conn.execute(stmt)
    access.drop_dependent_views(conn)
    for relation in tables:
        published, rows = _publish_one(conn, run_month, relation, PUBLISHED, _split(relation)[1], run_id)
        result.tables.append(published)
        result.history_rows[f"{HISTORY}.{_split(relation)[1]}"] = rows
    for relation in pseudo_tables:
        hist_name = f"pseudo__{_split(relation)[1]}"
        published, rows = _publish_one(conn, run_month, relation, PSEUDO, hist_name, run_id)
        result.pseudo_tables.append(published)
        result.history_rows[f"{HISTORY}.{hist_name}"] = rows
    _drop_unpublished(conn, PSEUDO, [_split(t)[1] for t in pseudo_tables])
    conn.execute(
        "create or replace view published_pseudo.publication as"
        " select run_month, published_at, pseudo_tables as tables from published.publication"
    )
    published_at = conn.execute(
        "insert into published.publication"
        " (run_month, tables, pseudo_tables, skipped_sources, gate_summary, run_id)"
        " values (%s, %s, %s, %s, %s::jsonb, %s) returning published_at",
        (
            run_month,
            result.tables,
            result.pseudo_tables,
            sorted(skipped_sources or []),
            json.dumps(gate_summary or {}, ensure_ascii=False),
            run_id,
        ),
    ).fetchone()[0]
    required = [
        "published.publication",
        "published_pseudo.publication",
        *result.tables,
        *result.pseudo_tables,
    ]
    result.access = access.apply_published(conn, declaration, require=required)
    result.access["casework_tables"] = access.apply_casework(conn, declaration)
    return published_at


def publish(
    settings: Settings,
    run_month: str,
    tables: list[str],
    pseudo_tables: list[str] | None = None,
    *,
    gate_summary: dict | None = None,
    skipped_sources: list[str] | None = None,
    declaration=None,
    run_id: str | None = None,
    verify: Callable | None = None,
) -> PublishResult:
    """Publish the run month's ``tables`` (and ``pseudo_tables``) in one transaction, or nothing.

    ``tables``/``pseudo_tables``: fully-qualified source relations (``marts.children``); the
    published name is the table name. ``gate_summary``: e.g. ``quality.summary(results)`` (counts
    only), stored in ``published.publication``. ``declaration``: the audience declaration
    (default: this checkout's seeds). ``run_id``: the attempt the marts were built from, stamped
    on every row (default: the month's latest attempt, what a manual build reads).
    ``verify(conn)``: called in the transaction after the lock, before anything changes; it
    refuses by raising. Raises :class:`PublishError` (or the database error, verify's, or
    :class:`mimamori.access.AccessConfigError`) with everything rolled back.
    """
    from mimamori import db

    pseudo_tables = list(pseudo_tables or [])
    _check_request(run_month, tables, pseudo_tables)
    started = time.monotonic()
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        # a deadlock (with autovacuum, seen under load) rolls everything back: publishing again is safe
        try:
            result = PublishResult(run_month=run_month, published_at="", run_id=run_id)
            with db.connect(settings, role="transformer") as conn:
                with conn.transaction():
                    conn.execute("set local lock_timeout = '60s'")
                    conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK,))
                    if verify is not None:
                        verify(conn)
                    result.run_id = run_id = run_id or _latest_attempt(conn, run_month)
                    published_at = _publish_in(
                        conn,
                        result,
                        tables,
                        pseudo_tables,
                        gate_summary,
                        skipped_sources,
                        declaration,
                    )
            break
        except psycopg.errors.DeadlockDetected:
            if attempt == DEADLOCK_RETRIES:
                raise
            log.warning(
                "publish %s: deadlock, publishing again (%d of %d)",
                run_month,
                attempt + 1,
                DEADLOCK_RETRIES,
            )
    result.published_at = published_at.isoformat()
    result.seconds = round(time.monotonic() - started, 2)
    log.info(
        "published %s: %d table(s), %d pseudonymised, history rows %s (%.1fs)",
        run_month,
        len(result.tables),
        len(result.pseudo_tables),
        result.history_rows,
        result.seconds,
    )
    return result


def _latest_attempt(conn, run_month: str) -> str | None:
    from mimamori.attempts import latest_attempt

    return latest_attempt(conn, run_month)


def current_publication(settings: Settings) -> dict | None:
    """The latest publication row — the month the dashboards show — or None."""
    from mimamori import db

    with db.connect(settings, role="transformer", autocommit=True) as conn:
        if not conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
            return None
        row = conn.execute(  # run_id read tolerantly: a publication table from before attempts has none
            "select run_month, published_at, tables, pseudo_tables, skipped_sources, gate_summary,"
            " to_jsonb(p) ->> 'run_id' from published.publication as p order by published_at desc limit 1"
        ).fetchone()
    if not row:
        return None
    keys = (
        "run_month",
        "published_at",
        "tables",
        "pseudo_tables",
        "skipped_sources",
        "gate_summary",
        "run_id",
    )
    return dict(zip(keys, row, strict=True))
