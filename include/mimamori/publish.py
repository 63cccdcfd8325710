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
3. a row in ``published.publication`` records the month, the time, the tables and the gate
   summary: the latest row is "the month the dashboards show";
4. every table of ``published``, ``published_pseudo`` and ``history`` loses all its privileges and
   policies and gets exactly what the audience declaration gives (``mimamori.access``: grants,
   column privileges, row-level security), so a rebuilt table never keeps or loses an old grant.

Any error rolls everything back: readers keep seeing the previous month, whole. Readers are
never shown a half-published month (PostgreSQL's transactional DDL; TRUNCATE holds its lock until
commit, so a concurrent dashboard query waits a moment and then reads the new month).
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field

from psycopg import sql

from mimamori.settings import Settings

log = logging.getLogger("mimamori.publish")

PUBLISHED = "published"
PSEUDO = "published_pseudo"
HISTORY = "history"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_LOCK = 0x7075626C  # 'publ'

PUBLICATION_DDL = """
create table if not exists published.publication (
    run_month text not null,
    published_at timestamptz not null default clock_timestamp(),
    tables text[] not null,
    pseudo_tables text[] not null default '{}',
    skipped_sources text[] not null default '{}',
    gate_summary jsonb not null default '{}'::jsonb
)
"""


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


def _publish_one(conn, run_month: str, relation: str, target_schema: str, history_name: str) -> tuple[str, int]:
    src_schema, name = _split(relation)
    src_cols = _columns(conn, src_schema, name)
    if src_cols is None:
        raise PublishError(f"source relation {relation} does not exist")
    col_names = [c for c, _ in src_cols]
    has_month = "run_month" in col_names
    src = sql.Identifier(src_schema, name)
    where = sql.SQL("where run_month = {}").format(sql.Literal(run_month)) if has_month else sql.SQL("")
    cols = sql.SQL(", ").join(map(sql.Identifier, col_names))
    target = sql.Identifier(target_schema, name)

    # 1. the published table: same columns -> truncate + insert (identity, grants, views kept)
    existing = _columns(conn, target_schema, name)
    if existing == src_cols:
        conn.execute(sql.SQL("truncate {}").format(target))
        conn.execute(sql.SQL("insert into {} ({}) select {} from {} {}").format(target, cols, cols, src, where))
    else:
        nxt = sql.Identifier(target_schema, f"{name}__next")
        conn.execute(sql.SQL("drop table if exists {}").format(nxt))
        conn.execute(sql.SQL("create table {} as select {} from {} {}").format(nxt, cols, src, where))
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
        conn.execute(sql.SQL("create table {} as select {}{} from {} with no data").format(hist, head, cols, src))
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
    for column, type_ in src_cols:
        if column not in have:  # a column added since: older months have it null
            conn.execute(
                sql.SQL("alter table {} add column {} {}").format(hist, sql.Identifier(column), sql.SQL(type_))
            )
    conn.execute(sql.SQL("delete from {} where run_month = {}").format(hist, sql.Literal(run_month)))
    if has_month:
        cur = conn.execute(sql.SQL("insert into {} ({}) select {} from {} {}").format(hist, cols, cols, src, where))
    else:
        cur = conn.execute(
            sql.SQL("insert into {} (run_month, {}) select {}, {} from {}").format(
                hist, cols, sql.Literal(run_month), cols, src
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


def publish(
    settings: Settings,
    run_month: str,
    tables: list[str],
    pseudo_tables: list[str] | None = None,
    *,
    gate_summary: dict | None = None,
    skipped_sources: list[str] | None = None,
    declaration=None,
) -> PublishResult:
    """Publish the run month's ``tables`` (and ``pseudo_tables``) in one transaction, or nothing.

    ``tables``/``pseudo_tables``: fully-qualified source relations (``marts.children``); the
    published name is the table name. ``gate_summary``: e.g. ``quality.summary(results)`` (counts
    only), stored in ``published.publication``. ``declaration``: the audience declaration
    (default: this checkout's seeds). Raises :class:`PublishError` (or the database error, or
    :class:`mimamori.access.AccessConfigError`) with everything rolled back.
    """
    from mimamori import access
    from mimamori.stack import pg

    if not _MONTH.match(run_month or ""):
        raise PublishError(f"run_month must be YYYY-MM, got {run_month!r}")
    pseudo_tables = list(pseudo_tables or [])
    if not tables and not pseudo_tables:
        raise PublishError("nothing to publish")
    names = [_split(t)[1] for t in tables]
    pnames = [_split(t)[1] for t in pseudo_tables]
    if len(set(names)) != len(names) or len(set(pnames)) != len(pnames) or "publication" in names + pnames:
        raise PublishError("published table names must be unique and not 'publication'")
    started = time.monotonic()
    result = PublishResult(run_month=run_month, published_at="")
    with pg.connect(settings, role="transformer") as conn:
        with conn.transaction():
            conn.execute("set local lock_timeout = '60s'")
            conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK,))
            conn.execute(PUBLICATION_DDL)
            access.drop_dependent_views(conn)
            for relation in tables:
                published, rows = _publish_one(conn, run_month, relation, PUBLISHED, _split(relation)[1])
                result.tables.append(published)
                result.history_rows[f"{HISTORY}.{_split(relation)[1]}"] = rows
            for relation in pseudo_tables:
                hist_name = f"pseudo__{_split(relation)[1]}"
                published, rows = _publish_one(conn, run_month, relation, PSEUDO, hist_name)
                result.pseudo_tables.append(published)
                result.history_rows[f"{HISTORY}.{hist_name}"] = rows
            _drop_unpublished(conn, PSEUDO, pnames)
            conn.execute(
                "create or replace view published_pseudo.publication as"
                " select run_month, published_at, pseudo_tables as tables from published.publication"
            )
            published_at = conn.execute(
                "insert into published.publication (run_month, tables, pseudo_tables, skipped_sources, gate_summary)"
                " values (%s, %s, %s, %s, %s::jsonb) returning published_at",
                (
                    run_month,
                    result.tables,
                    result.pseudo_tables,
                    sorted(skipped_sources or []),
                    json.dumps(gate_summary or {}, ensure_ascii=False),
                ),
            ).fetchone()[0]
            required = ["published.publication", "published_pseudo.publication", *result.tables, *result.pseudo_tables]
            result.access = access.apply_published(conn, declaration, require=required)
            result.access["casework_tables"] = access.apply_casework(conn, declaration)
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


def current_publication(settings: Settings) -> dict | None:
    """The latest publication row — the month the dashboards show — or None."""
    from mimamori.stack import pg

    with pg.connect(settings, role="transformer", autocommit=True) as conn:
        if not conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
            return None
        row = conn.execute(
            "select run_month, published_at, tables, pseudo_tables, skipped_sources, gate_summary"
            " from published.publication order by published_at desc limit 1"
        ).fetchone()
    if not row:
        return None
    keys = ("run_month", "published_at", "tables", "pseudo_tables", "skipped_sources", "gate_summary")
    return dict(zip(keys, row, strict=True))
