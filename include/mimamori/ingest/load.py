"""Load one source's files of a run month into ``raw.<raw_table>``, atomically, or reject them.

Per source and month it is all or nothing: every file of the source is read and checked first;
if anything is wrong, the offending files move to quarantine, the problems go to
``ingest.rejections`` and :class:`IngestRejected` is raised, and no raw table of that source is
touched. Otherwise one transaction replaces the month's rows of every raw table of the source
(``delete … where run_month`` + COPY) and records per-file lineage in ``ingest.file_loads``.
Re-running a month therefore yields the same tables (apart from ``loaded_at``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import sql

from mimamori.ingest.registry import LINEAGE_COLUMNS, FileSpec, Source, load_registry
from mimamori.ingest.validate import ParsedFile, Rejection, check_file, month_bounds

RAW_SCHEMA = "raw"
INGEST_SCHEMA = "ingest"

INGEST_DDL = """
create table if not exists ingest.file_loads (
    run_month text not null,
    source text not null,
    file text not null,
    raw_table text not null,
    rows_read integer not null,
    rows_loaded integer not null,
    sha256 text not null,
    loaded_at timestamptz not null default now(),
    primary key (run_month, source, file)
);
create table if not exists ingest.rejections (
    run_month text not null,
    source text not null,
    file text not null,
    rule text not null,
    rows integer[] not null default '{}',
    "column" text,
    message_ja text not null,
    message_en text not null,
    recorded_at timestamptz not null default now()
);
create index if not exists rejections_run_month_source_idx on ingest.rejections (run_month, source);
"""

#: Serialises DDL of concurrent source loads (parallel Airflow tasks) on first use.
_DDL_LOCK = 0x6D696D61  # 'mima'


@dataclass(frozen=True)
class FileResult:
    file: str
    raw_table: str
    rows_read: int
    rows_loaded: int
    sha256: str | None


@dataclass(frozen=True)
class SourceResult:
    source: str
    run_month: str
    files: list[FileResult]
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejections


class IngestRejected(Exception):
    """A source's files for a month were rejected; ``.result.rejections`` says why (no values)."""

    def __init__(self, result: SourceResult):
        self.result = result
        rules = sorted({r.rule for r in result.rejections})
        super().__init__(
            f"{result.source} {result.run_month}: {len(result.rejections)} problem(s) "
            f"({', '.join(rules)}); nothing of this source was loaded\n"
            + "\n".join(r.message_en for r in result.rejections)
        )


def _log_noop(_: str) -> None:
    pass


def ensure_ingest_tables(conn) -> None:
    """Create the ``ingest`` bookkeeping tables if absent.

    ``conn`` must be in autocommit mode: the DDL runs in its own short transaction, so parallel
    loads of different sources do not serialise on it.
    """
    present = conn.execute(
        "select to_regclass('ingest.file_loads') is not null and to_regclass('ingest.rejections') is not null"
    ).fetchone()[0]
    if present:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        for stmt in INGEST_DDL.split(";"):
            if stmt.strip():
                conn.execute(stmt)


def raw_table_columns(spec: FileSpec) -> list[tuple[str, str]]:
    """(name, PostgreSQL type) of ``raw.<raw_table>``: the contract's columns, then lineage."""
    return [(c.column, c.pg_type) for c in spec.columns] + [
        ("run_month", "text not null"),
        ("source_file", "text not null"),
        ("source_row_number", "integer not null"),
        ("file_sha256", "text not null"),
        ("loaded_at", "timestamptz not null default now()"),
    ]


def ensure_raw_table(conn, spec: FileSpec) -> None:
    """Create ``raw.<raw_table>`` if absent; add columns the registry gained since (never drops)."""
    table = sql.Identifier(RAW_SCHEMA, spec.raw_table)
    cols = raw_table_columns(spec)
    conn.execute(
        sql.SQL("create table if not exists {} ({})").format(
            table, sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in cols)
        )
    )
    existing = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (RAW_SCHEMA, spec.raw_table),
        ).fetchall()
    }
    for name, type_ in cols:
        if name not in existing:  # a column added to the contract: older months have it null
            conn.execute(
                sql.SQL("alter table {} add column {} {}").format(
                    table, sql.Identifier(name), sql.SQL(type_.replace(" not null", ""))
                )
            )
    conn.execute(
        sql.SQL("create index if not exists {} on {} (run_month)").format(
            sql.Identifier(f"{spec.raw_table}_run_month_idx"), table
        )
    )


def quarantine(path: Path, quarantine_dir: Path, run_month: str, source: str) -> Path:
    """Move a rejected file to ``quarantine_dir/<run_month>/<source>/`` (name kept; timestamped if taken)."""
    target_dir = Path(quarantine_dir) / run_month / source
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


def record_rejections(conn, run_month: str, source: str, rejections: list[Rejection]) -> None:
    """Replace the month+source's rows of ``ingest.rejections`` (one transaction)."""
    ensure_ingest_tables(conn)
    with conn.transaction():
        conn.execute("delete from ingest.rejections where run_month = %s and source = %s", (run_month, source))
        with conn.cursor() as cur:
            cur.executemany(
                'insert into ingest.rejections (run_month, source, file, rule, rows, "column", message_ja, message_en)'
                " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (run_month, source, r.file, r.rule, list(r.rows), r.column, r.message_ja, r.message_en)
                    for r in rejections
                ],
            )


def _copy_rows(conn, parsed: ParsedFile, run_month: str) -> int:
    spec = parsed.spec
    names = [c.column for c in spec.columns] + ["run_month", "source_file", "source_row_number", "file_sha256"]
    stmt = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(RAW_SCHEMA, spec.raw_table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    tail = (run_month, spec.file)
    sha = parsed.sha256
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row, number in zip(parsed.rows, parsed.row_numbers, strict=False):
            copy.write_row((*row, *tail, number, sha))
    return len(parsed.rows)


def _resolve(source: str | Source, registry: dict[str, Source] | None) -> Source:
    if isinstance(source, Source):
        return source
    registry = registry if registry is not None else load_registry()
    try:
        return registry[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r} (registry has {', '.join(sorted(registry))})") from None


def ingest_source(
    source: str | Source,
    run_month: str,
    inbox: Path,
    conninfo: str,
    quarantine_dir: Path,
    *,
    log: Callable[[str], None] = print,
    registry: dict[str, Source] | None = None,
) -> SourceResult:
    """Load ``inbox/<run_month>/<source>/<file>`` for every file of the source, or reject them all.

    Raises :class:`IngestRejected` (with the :class:`SourceResult` and its rejections) when any
    rule fails; then the offending files are in ``quarantine_dir/<run_month>/<source>/``, the
    problems in ``ingest.rejections``, and raw is as before. ``conninfo`` should be the loader's.
    """
    import psycopg

    src = _resolve(source, registry)
    month_bounds(run_month)  # validates the format
    log = log or _log_noop
    folder = Path(inbox) / run_month / src.source
    started = time.monotonic()
    parsed_files = [check_file(src, spec, folder / spec.file, run_month) for spec in src.files]
    if folder.is_dir():
        expected = {spec.file for spec in src.files}
        for extra in sorted(p.name for p in folder.iterdir() if p.name not in expected):
            log(f"{src.source}/{extra}: not in the registry, ignored")
    rejections = [r for p in parsed_files for r in p.rejections]
    for p in parsed_files:
        if p.sha256 is not None:
            log(
                f"{src.source}/{p.spec.file}: {p.rows_read} rows read"
                + (f", {len(p.rejections)} problem(s)" if p.rejections else "")
            )

    if rejections:
        files = [FileResult(p.spec.file, p.spec.raw_table, p.rows_read, 0, p.sha256) for p in parsed_files]
        result = SourceResult(src.source, run_month, files, rejections)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            record_rejections(conn, run_month, src.source, rejections)
        for p in parsed_files:
            if p.rejections and p.path.is_file():
                target = quarantine(p.path, Path(quarantine_dir), run_month, src.source)
                log(f"{src.source}/{p.spec.file}: moved to quarantine {target}")
        for r in rejections:
            log(f"REJECTED {src.source}: {r.message_en}")
        raise IngestRejected(result)

    results: list[FileResult] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ensure_ingest_tables(conn)
        with conn.transaction():
            _load(conn, src, run_month, parsed_files, results, log)
    log(
        f"{src.source} {run_month}: {sum(f.rows_loaded for f in results)} rows in {len(results)} file(s), "
        f"{time.monotonic() - started:.1f}s"
    )
    return SourceResult(src.source, run_month, results, [])


def _load(
    conn,
    src: Source,
    run_month: str,
    parsed_files: list[ParsedFile],
    results: list[FileResult],
    log: Callable[[str], None],
) -> None:
    """The one transaction of a successful source load (the caller opened it)."""
    # One loader per source and month at a time; a concurrent re-run waits instead of interleaving.
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ingest:{src.source}:{run_month}",))
    for p in parsed_files:
        spec = p.spec
        ensure_raw_table(conn, spec)
        conn.execute(
            sql.SQL("delete from {} where run_month = %s").format(sql.Identifier(RAW_SCHEMA, spec.raw_table)),
            (run_month,),
        )
        loaded = _copy_rows(conn, p, run_month)
        results.append(FileResult(spec.file, spec.raw_table, p.rows_read, loaded, p.sha256))
        log(f"{src.source}/{spec.file}: {loaded} rows loaded into {RAW_SCHEMA}.{spec.raw_table}")
    conn.execute("delete from ingest.file_loads where run_month = %s and source = %s", (run_month, src.source))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ingest.file_loads (run_month, source, file, raw_table, rows_read, rows_loaded, sha256)"
            " values (%s, %s, %s, %s, %s, %s, %s)",
            [(run_month, src.source, f.file, f.raw_table, f.rows_read, f.rows_loaded, f.sha256) for f in results],
        )
    conn.execute("delete from ingest.rejections where run_month = %s and source = %s", (run_month, src.source))


def ingest_month(
    run_month: str,
    inbox: Path,
    conninfo: str,
    quarantine_dir: Path,
    *,
    sources: list[str] | None = None,
    log: Callable[[str], None] = print,
    registry: dict[str, Source] | None = None,
) -> dict[str, SourceResult]:
    """Every (or the named) source of the registry; a rejected source does not stop the others.

    Returns {source: SourceResult}; rejected ones have ``.rejections`` (nothing is raised).
    """
    registry = registry if registry is not None else load_registry()
    names = sources or list(registry)
    results: dict[str, SourceResult] = {}
    for name in names:
        try:
            results[name] = ingest_source(name, run_month, inbox, conninfo, quarantine_dir, log=log, registry=registry)
        except IngestRejected as exc:
            results[name] = exc.result
    return results


__all__ = [
    "FileResult",
    "SourceResult",
    "IngestRejected",
    "ingest_source",
    "ingest_month",
    "ensure_ingest_tables",
    "ensure_raw_table",
    "raw_table_columns",
    "LINEAGE_COLUMNS",
]
