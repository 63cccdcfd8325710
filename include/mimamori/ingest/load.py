"""Load one source's files of a run month into ``raw.<raw_table>`` for one attempt, or reject them.

Per source, month and attempt it is all or nothing, and every path ends in one of the two:

- **loaded** — one transaction writes every file's rows (tagged with the attempt's ``run_id``),
  ``ingest.file_loads`` and the ``load`` step of ``ingest.run_steps``;
- **rejected** — every file is read and checked first; any problem, including one that only
  shows when the database refuses the rows (``load_error``), records the problems in
  ``ingest.rejections`` and the ``load`` step together, moves the offending files to
  quarantine and raises :class:`IngestRejected`; no raw row of this attempt remains.

Attempts are kept side by side: a new attempt never deletes or changes another attempt's rows
(a retry of the *same* attempt replaces its own). Which attempt the models read is explicit
(dbt var ``run_id``); superseded attempts' raw rows go when a newer one of the month is
published (mimamori.retention.prune_superseded). Anything else that fails — the database
unreachable — raises as it is: the load did not happen, and the caller records that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import sql

from mimamori import attempts
from mimamori.ingest.filenames import guess_meant, unexpected_entries
from mimamori.ingest.limits import Limits
from mimamori.ingest.registry import LINEAGE_COLUMNS, FileSpec, RegistryError, Source, load_registry
from mimamori.ingest.validate import ParsedFile, Rejection, check_file, make_rejection, month_bounds

RAW_SCHEMA = "raw"
INGEST_SCHEMA = "ingest"

INGEST_DDL = (
    """
create table if not exists ingest.file_loads (
    run_month text not null,
    source text not null,
    file text not null,
    raw_table text not null,
    run_id text not null,
    rows_read integer not null,
    rows_loaded integer not null,
    sha256 text not null,
    loaded_at timestamptz not null default now(),
    primary key (run_month, source, file, run_id)
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
    recorded_at timestamptz not null default now(),
    run_id text not null
);
create index if not exists rejections_run_month_source_idx on ingest.rejections (run_month, source, run_id);
-- notices (never a reason to hold the month back) have the rejections' shape
create table if not exists ingest.notices (like ingest.rejections including defaults including constraints);
create index if not exists notices_run_month_source_idx on ingest.notices (run_month, source, run_id);
"""
    + attempts.STEPS_DDL
    + ";"
    + """
create table if not exists ingest.deliveries (
    run_month text not null,
    source text not null,
    run_id text not null,
    delivered_file text not null,
    raw_table text not null,
    contract_file text not null,
    sha256 text not null,
    rows_loaded integer not null,
    columns jsonb not null default '{}'::jsonb,
    mapping_file text,
    mapping_sha256 text,
    recorded_at timestamptz not null default now(),
    primary key (run_month, source, run_id, delivered_file, raw_table)
)
"""
)

#: An ingest schema from before attempts (no run_id): its rows become the attempt 'legacy'.
UPGRADE_DDL = """
alter table ingest.file_loads add column if not exists run_id text;
update ingest.file_loads set run_id = 'legacy' where run_id is null;
alter table ingest.file_loads alter column run_id set not null;
alter table ingest.file_loads drop constraint if exists file_loads_pkey;
alter table ingest.file_loads add primary key (run_month, source, file, run_id);
alter table ingest.rejections add column if not exists run_id text;
update ingest.rejections set run_id = 'legacy' where run_id is null;
alter table ingest.rejections alter column run_id set not null;
drop index if exists ingest.rejections_run_month_source_idx;
create index if not exists rejections_run_month_source_idx on ingest.rejections (run_month, source, run_id);
"""

#: Serialises DDL of concurrent source loads (parallel Airflow tasks) on first use.
_DDL_LOCK = 0x6D696D61  # 'mima'
#: SQLSTATE classes of errors the rows cause (data exception, integrity, program limit): a rejection.
DATA_ERROR_CLASSES = ("22", "23", "54")


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
    run_id: str = ""
    #: NOTICE_RULES findings (unexpected file names, identical rows): mailed, never blocking
    notices: list[Rejection] = field(default_factory=list)

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


class _LoadRefused(Exception):
    """Internal: the database refused a file's rows; carries the file's rejection."""

    def __init__(self, rejection: Rejection):
        super().__init__(rejection.message_en)
        self.rejection = rejection


def _log_noop(_: str) -> None:
    pass


def _has_column(conn, relation: str, column: str) -> bool:
    return conn.execute(
        "select exists (select 1 from pg_attribute where attrelid = to_regclass(%s) and attname = %s"
        " and not attisdropped)",
        (relation, column),
    ).fetchone()[0]


def _ingest_ready(conn) -> bool:
    ready = conn.execute(
        "select to_regclass('ingest.run_steps') is not null and to_regclass('ingest.deliveries') is not null"
        " and to_regclass('ingest.notices') is not null"
    ).fetchone()[0]
    return ready and _has_column(conn, "ingest.file_loads", "run_id")


def ensure_ingest_tables(conn) -> None:
    """Create (or upgrade to attempts) the ``ingest`` bookkeeping tables.

    ``conn`` must be in autocommit mode: the DDL runs in its own short transaction, so parallel
    loads of different sources do not serialise on it.
    """
    if _ingest_ready(conn):
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        if _ingest_ready(conn):
            return
        legacy = conn.execute("select to_regclass('ingest.file_loads') is not null").fetchone()[0] and not (
            _has_column(conn, "ingest.file_loads", "run_id")
        )
        for stmt in (UPGRADE_DDL if legacy else "").split(";") + INGEST_DDL.split(";"):
            if stmt.strip():
                conn.execute(stmt)


def raw_table_columns(spec: FileSpec) -> list[tuple[str, str]]:
    """(name, PostgreSQL type) of ``raw.<raw_table>``: the contract's columns, then lineage.

    ``run_id`` comes last and may be null: rows loaded before attempts existed have none.
    """
    types = {
        "run_month": "text not null",
        "source_file": "text not null",
        "source_row_number": "integer not null",
        "file_sha256": "text not null",
        "loaded_at": "timestamptz not null default now()",
        "run_id": "text",
    }
    return [(c.column, c.pg_type) for c in spec.columns] + [(name, types[name]) for name in LINEAGE_COLUMNS]


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
        for r in conn.execute(  # pg_attribute: information_schema costs ~8 ms a call
            "select attname from pg_attribute where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped",
            (f"{RAW_SCHEMA}.{spec.raw_table}",),
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
        sql.SQL("create index if not exists {} on {} (run_month, run_id)").format(
            sql.Identifier(f"{spec.raw_table}_run_month_run_id_idx"), table
        )
    )


def quarantine(path: Path, quarantine_dir: Path, run_month: str, source: str) -> Path:
    """Move a rejected file to ``quarantine_dir/<run_month>/<source>/`` (name kept; timestamped if taken)."""
    target_dir = Path(quarantine_dir) / run_month / source
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists() or target.is_symlink():
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


def _delete_attempt(conn, src: Source, run_month: str, run_id: str, with_raw: bool) -> None:
    """Remove what this attempt recorded for the source (a retry of the same attempt starts clean)."""
    if with_raw:
        for spec in src.files:
            ensure_raw_table(conn, spec)
            conn.execute(
                sql.SQL("delete from {} where run_month = %s and run_id = %s").format(
                    sql.Identifier(RAW_SCHEMA, spec.raw_table)
                ),
                (run_month, run_id),
            )
    for table in ("file_loads", "rejections", "deliveries", "notices"):
        conn.execute(
            sql.SQL("delete from {} where run_month = %s and source = %s and run_id = %s").format(
                sql.Identifier(INGEST_SCHEMA, table)
            ),
            (run_month, src.source, run_id),
        )


def _insert_findings(conn, table: str, run_month: str, src: Source, run_id: str, findings: list[Rejection]) -> None:
    """Rows of ``ingest.rejections`` or ``ingest.notices`` (same shape: rule, rows, column, messages)."""
    if not findings:
        return
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL(
                'insert into {} (run_month, source, file, rule, rows, "column", message_ja, message_en, run_id)'
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(INGEST_SCHEMA, table)),
            [
                (run_month, src.source, r.file, r.rule, list(r.rows), r.column, r.message_ja, r.message_en, run_id)
                for r in findings
            ],
        )


def record_rejections(
    conn, run_month: str, src: Source, run_id: str, rejections: list[Rejection], notices: list[Rejection] = ()
) -> None:
    """The attempt's rejection of the source: its rows gone, the problems (and notices) and the step recorded."""
    ensure_ingest_tables(conn)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ingest:{src.source}:{run_month}:{run_id}",))
        _delete_attempt(conn, src, run_month, run_id, with_raw=True)
        _insert_findings(conn, "rejections", run_month, src, run_id, rejections)
        _insert_findings(conn, "notices", run_month, src, run_id, list(notices))
        detail = {"rules": sorted({r.rule for r in rejections}), "files": sorted({r.file for r in rejections})}
        attempts.record_step(conn, run_month, run_id, "load", "rejected", source=src.source, detail=detail)


def _copy_rows(conn, parsed: ParsedFile, run_month: str, run_id: str) -> int:
    spec = parsed.spec
    names = [c.column for c in spec.columns] + [
        "run_month",
        "source_file",
        "source_row_number",
        "file_sha256",
        "run_id",
    ]
    stmt = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(RAW_SCHEMA, spec.raw_table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    sha = parsed.sha256
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        if not parsed.row_files:
            for row, number in zip(parsed.rows, parsed.row_numbers, strict=False):
                copy.write_row((*row, run_month, spec.file, number, sha, run_id))
        else:  # made by a town's mapping: each row's lineage is the file it was delivered in
            shas = {d.name: d.sha256 for d in parsed.delivered}
            for row, number, file in zip(parsed.rows, parsed.row_numbers, parsed.row_files, strict=True):
                copy.write_row((*row, run_month, file, number, shas.get(file, sha), run_id))
    return len(parsed.rows)


def _copy_or_refuse(conn, src: Source, parsed: ParsedFile, run_month: str, run_id: str) -> int:
    """COPY one file; a refusal caused by its rows becomes the file's ``load_error`` rejection.

    The database's message is never kept (it can quote a value): only its SQLSTATE.
    """
    import psycopg

    try:
        return _copy_rows(conn, parsed, run_month, run_id)
    except psycopg.Error as exc:
        code = exc.sqlstate or ""
        if code[:2] not in DATA_ERROR_CLASSES:
            raise  # the machinery (connection, disk, lock): not the file's fault
        detail = f"SQLSTATE {code}"
    except Exception as exc:  # noqa: BLE001 - a value the COPY could not take: the file is refused
        detail = exc.__class__.__name__
    raise _LoadRefused(make_rejection(src.source, parsed.spec.file, "load_error", detail_ja=detail, detail_en=detail))


#: ``town`` not given: the setting MIMAMORI_TOWN_DIR decides (the DAG's loads pass nothing).
FROM_SETTINGS = object()


def _mapping_path(source: str, town) -> Path | None:
    """The town's mapping file for ``source`` (``<town>/sources/<source>.yaml``), if there is one."""
    if town is FROM_SETTINGS:
        from mimamori.settings import get_settings

        town = get_settings().town_dir
    if town is None:
        return None
    from mimamori.sources.mapping import town_mapping_paths

    return town_mapping_paths(Path(town)).get(source)


def _unique(rejections: list[Rejection]) -> list[Rejection]:
    seen: set[tuple] = set()
    out = []
    for r in rejections:
        if r.key() not in seen:
            seen.add(r.key())
            out.append(r)
    return out


def _resolve(source: str | Source, registry: dict[str, Source] | None) -> Source:
    if isinstance(source, Source):
        return source
    registry = registry if registry is not None else load_registry()
    try:
        return registry[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r} (registry has {', '.join(sorted(registry))})") from None


def _read_source(
    src: Source,
    folder: Path,
    run_month: str,
    limits: Limits,
    log,
    *,
    mapping_path: Path | None = None,
    registry: dict[str, Source] | None = None,
) -> tuple[list[ParsedFile], list[Rejection]]:
    """Every contract file read and checked, one after the other (each logged as it is read), and
    the notices of the folder: entries the registry does not name (never read, see filenames).

    With a town's mapping for the source (``mapping_path``), the files are the department's own
    exports, made into the contract's files by :mod:`mimamori.sources`; an export the mapping does
    not take is the same ``unexpected_file_name`` notice, naming the mapping's file patterns.
    """

    def logged(parsed: ParsedFile) -> ParsedFile:
        if parsed.sha256 is not None or parsed.rejections:
            problems = f", {len(parsed.rejections)} problem(s)" if parsed.rejections else ""
            via = f" from {', '.join(d.name for d in parsed.delivered)}" if parsed.delivered else ""
            log(f"{src.source}/{parsed.spec.file}: {parsed.rows_read} rows read{via}{problems}")
        return parsed

    if mapping_path is not None:
        parsed_files = [logged(p) for p in _read_mapped(src, folder, run_month, limits, mapping_path)]
        taken = {spec.file for spec in src.files} | {d.name for p in parsed_files for d in p.delivered}
        return parsed_files, _mapped_notices(src, folder, taken, mapping_path, registry, log)
    # each file logged as soon as it is read, before the next is opened
    parsed_files = [logged(check_file(src, spec, folder / spec.file, run_month, limits)) for spec in src.files]
    extras = unexpected_entries(src, folder, registry)
    for extra in extras:
        log(f"{src.source}/{extra.name}: not a file name of the registry, not read (notice to the owner)")
    present = {p.spec.file for p in parsed_files if not any(r.rule == "missing_file" for r in p.rejections)}
    for parsed in parsed_files:
        look_alikes = [e.name for e in extras if e.meant == parsed.spec.file]
        if look_alikes:
            parsed.rejections[:] = [_missing_with_look_alikes(r, look_alikes) for r in parsed.rejections]
    notices = [_unexpected_notice(src, extra, present) for extra in extras]
    return parsed_files, notices


def _mapping_patterns(src: Source, mapping_path: Path) -> list[str]:
    """The file-name patterns of the mapping's inputs ([] when the mapping cannot be read: that is its own rejection)."""
    from mimamori.sources.mapping import MappingError, load_mapping

    try:
        mapping = load_mapping(mapping_path, {src.source: src})
    except (MappingError, OSError, UnicodeDecodeError):
        return []
    return [p for spec in mapping.inputs.values() for p in spec.patterns]


def _mapped_notices(src: Source, folder: Path, taken: set[str], mapping_path: Path, registry, log) -> list[Rejection]:
    """Entries of a mapped source's folder that no input of its mapping takes: never read, and the
    owner hears of it as of a contract folder's stray file — with the pattern it probably missed."""
    import fnmatch
    import unicodedata

    patterns = _mapping_patterns(src, mapping_path)
    by_stem = {p.replace("*", "").replace("?", ""): p for p in patterns}
    present = {p for p in patterns if any(fnmatch.fnmatchcase(name, p) for name in taken)}
    notices = []
    for extra in unexpected_entries(src, folder, registry):
        if extra.name in taken or any(
            fnmatch.fnmatchcase(unicodedata.normalize("NFC", extra.name), p) for p in patterns
        ):
            continue  # taken, or an input's own file its reading refused (that is a rejection already)
        log(f"{src.source}/{extra.name}: taken by no input of the mapping, not read (notice to the owner)")
        guess = guess_meant(extra.name, list(by_stem))
        extra = dataclasses.replace(extra, meant=by_stem[guess] if guess else None)
        notices.append(_unexpected_notice(src, extra, present, expected=patterns))
    return notices


def _read_mapped(src: Source, folder: Path, run_month: str, limits: Limits, mapping_path: Path) -> list[ParsedFile]:
    """The source's contract files made from the town's own exports; every failure a rejection."""
    from mimamori.sources.apply import mapping_invalid, read_mapped_source
    from mimamori.sources.mapping import MappingError, load_mapping

    try:
        mapping = load_mapping(mapping_path, {src.source: src})
        return read_mapped_source(mapping, src, folder, run_month, limits)
    except MappingError as exc:
        parsed = ParsedFile(spec=src.files[0], path=folder / src.files[0].file)
        parsed.rejections = mapping_invalid(src.source, exc)
        return [parsed]
    except Exception as exc:  # noqa: BLE001 - nobody foresaw it: the source is rejected, the run goes on
        import logging

        logging.getLogger("mimamori.ingest").error(
            "%s: unexpected %s while mapping", src.source, exc.__class__.__name__
        )
        parsed = ParsedFile(spec=src.files[0], path=folder / src.files[0].file)
        detail = exc.__class__.__name__
        parsed.rejections = [
            make_rejection(src.source, mapping_path.name, "internal_error", detail_ja=detail, detail_en=detail)
        ]
        return [parsed]


def _missing_with_look_alikes(r: Rejection, look_alikes: list[str]) -> Rejection:
    if r.rule != "missing_file":
        return r
    names = "」「".join(look_alikes)
    return make_rejection(
        r.source,
        r.file,
        "missing_file",
        detail_ja=f"同じフォルダの「{names}」はファイル名が違うため読み込んでいません。"
        f"ファイル名を「{r.file}」に直して置き直してください",
        detail_en=f"{', '.join(look_alikes)} in the same folder has another name and was not read;"
        f" rename it to {r.file}",
    )


def _unexpected_notice(src: Source, extra, present: set[str], expected: list[str] | None = None) -> Rejection:
    """``expected``: the names the folder takes — the registry's files, or a mapping's file patterns."""
    names = expected if expected is not None else [spec.file for spec in src.files]
    expected = "、".join(names) or "（対応表を読めないため不明）"
    what_ja, what_en = ("フォルダ", "a folder") if extra.is_dir else ("ファイル", "a file")
    if extra.other_source:
        detail_ja = (
            f"「{extra.other_file}」は別の提供元（{extra.other_source}）のファイル名です。"
            f"提出フォルダ {extra.other_source}/ に置いてください。このフォルダで想定しているファイル名: {expected}"
        )
        detail_en = f"{extra.other_file} belongs to source {extra.other_source}: put it in {extra.other_source}/"
    elif extra.meant and extra.meant in present:
        detail_ja = (
            f"想定しているファイル名は「{extra.meant}」で、そちらは届いて読み込みました。"
            f"この{what_ja}は読み込んでいません（不要なら削除してください）"
        )
        detail_en = f"the expected {extra.meant} was delivered and read; this {what_en} was not"
    elif extra.meant:
        detail_ja = f"想定しているファイル名は「{extra.meant}」です。名前を直して置き直してください"
        detail_en = f"the expected name is {extra.meant}: rename it and deliver it again"
    else:
        detail_ja = f"このフォルダで想定しているファイル名: {expected}"
        detail_en = f"the names expected in this folder: {', '.join(names)}"
    return make_rejection(src.source, extra.name, "unexpected_file_name", detail_ja=detail_ja, detail_en=detail_en)


def _reject(conninfo, src, run_month, run_id, parsed_files, rejections, notices, quarantine_dir, log) -> IngestRejected:
    import psycopg

    files = [FileResult(p.spec.file, p.spec.raw_table, p.rows_read, 0, p.sha256) for p in parsed_files]
    result = SourceResult(src.source, run_month, files, rejections, run_id, notices)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        record_rejections(conn, run_month, src, run_id, rejections, notices)
    # A file a data rule rejected moves to quarantine (its department delivers it again); a
    # mapping problem (IT_RULES) leaves the delivered files where they are: the mapping is fixed
    # and the month re-run on them.
    bad = {r.file for r in rejections if not r.for_it}
    moved: set[Path] = set()
    for p in parsed_files:
        paths = [(d.name, d.path) for d in p.delivered] or [(p.spec.file, p.path)]
        for name, path in paths:
            if name not in bad or path in moved or not (path.exists() or path.is_symlink()):
                continue
            moved.add(path)
            try:
                target = quarantine(path, Path(quarantine_dir), run_month, src.source)
                log(f"{src.source}/{name}: moved to quarantine {target}")
            except OSError as exc:  # the rejection stands; IT sees the file still in the inbox
                log(f"{src.source}/{name}: could not be moved to quarantine ({exc.__class__.__name__})")
    for r in rejections:
        log(f"REJECTED {src.source}: {r.message_en}")
    return IngestRejected(result)


def ingest_source(
    source: str | Source,
    run_month: str,
    inbox: Path,
    conninfo: str,
    quarantine_dir: Path,
    *,
    run_id: str | None = None,
    limits: Limits | None = None,
    log: Callable[[str], None] = print,
    registry: dict[str, Source] | None = None,
    town: Path | str | None | object = FROM_SETTINGS,
) -> SourceResult:
    """Load ``inbox/<run_month>/<source>/<file>`` for every file of the source, or reject them all.

    ``run_id``: the attempt (default: a new ``cli__…`` one). Raises :class:`IngestRejected` (with
    the :class:`SourceResult` and its rejections) when any rule fails or the database refuses a
    file's rows; then the offending files are in ``quarantine_dir/<run_month>/<source>/``, the
    problems in ``ingest.rejections``, and no raw row of this attempt exists for the source.
    ``conninfo`` should be the loader's. ``town``: the town folder whose ``sources/<source>.yaml``
    maps the department's own exports (default: the setting ``MIMAMORI_TOWN_DIR``; None: the
    contract layout).
    """
    import psycopg

    src = _resolve(source, registry)
    month_bounds(run_month)  # validates the format
    run_id = run_id or attempts.new_attempt_id()
    limits = limits or Limits.from_settings()
    log = log or _log_noop
    started = time.monotonic()
    mapping_path = _mapping_path(src.source, town)
    if registry is None:
        try:
            registry = load_registry()
        except RegistryError:  # a source handed in alone: no other folder to point to
            registry = None
    folder = Path(inbox) / run_month / src.source
    parsed_files, notices = _read_source(
        src, folder, run_month, limits, log, mapping_path=mapping_path, registry=registry
    )
    rejections = _unique([r for p in parsed_files for r in p.rejections])
    notices += [n for p in parsed_files for n in p.notices]
    if not rejections:
        results: list[FileResult] = []
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                ensure_ingest_tables(conn)
                with conn.transaction():
                    _load(conn, src, run_month, run_id, parsed_files, results, log)
                    _insert_findings(conn, "notices", run_month, src, run_id, notices)
        except _LoadRefused as exc:
            rejections = [exc.rejection]
        else:
            log(
                f"{src.source} {run_month}: {sum(f.rows_loaded for f in results)} rows in {len(results)} file(s)"
                f" for attempt {run_id}, {time.monotonic() - started:.1f}s"
            )
            for n in notices:
                log(f"NOTICE {src.source}: {n.message_en}")
            return SourceResult(src.source, run_month, results, [], run_id, notices)
    raise _reject(conninfo, src, run_month, run_id, parsed_files, rejections, notices, quarantine_dir, log)


def _load(
    conn,
    src: Source,
    run_month: str,
    run_id: str,
    parsed_files: list[ParsedFile],
    results: list[FileResult],
    log: Callable[[str], None],
) -> None:
    """The one transaction of a successful source load (the caller opened it)."""
    # One loader per source, month and attempt at a time; a concurrent retry waits.
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ingest:{src.source}:{run_month}:{run_id}",))
    _delete_attempt(conn, src, run_month, run_id, with_raw=True)
    for p in parsed_files:
        spec = p.spec
        loaded = _copy_or_refuse(conn, src, p, run_month, run_id)
        results.append(FileResult(spec.file, spec.raw_table, p.rows_read, loaded, p.sha256))
        log(f"{src.source}/{spec.file}: {loaded} rows loaded into {RAW_SCHEMA}.{spec.raw_table}")
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ingest.file_loads (run_month, source, file, raw_table, run_id, rows_read, rows_loaded,"
            " sha256) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (run_month, src.source, f.file, f.raw_table, run_id, f.rows_read, f.rows_loaded, f.sha256)
                for f in results
            ],
        )
        cur.executemany(
            "insert into ingest.deliveries (run_month, source, run_id, delivered_file, raw_table, contract_file,"
            " sha256, rows_loaded, columns, mapping_file, mapping_sha256)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)",
            [
                (
                    run_month,
                    src.source,
                    run_id,
                    d.name,
                    p.spec.raw_table,
                    p.spec.file,
                    d.sha256,
                    d.rows,
                    json.dumps(d.columns, ensure_ascii=False),
                    p.mapping,
                    p.mapping_sha256,
                )
                for p in parsed_files
                for d in p.delivered
            ],
        )
    detail = {"files": [{"file": f.file, "rows": f.rows_loaded, "sha256": f.sha256} for f in results]}
    attempts.record_step(conn, run_month, run_id, "load", "loaded", source=src.source, detail=detail)


def ingest_month(
    run_month: str,
    inbox: Path,
    conninfo: str,
    quarantine_dir: Path,
    *,
    sources: list[str] | None = None,
    run_id: str | None = None,
    limits: Limits | None = None,
    log: Callable[[str], None] = print,
    registry: dict[str, Source] | None = None,
    town: Path | str | None | object = FROM_SETTINGS,
) -> dict[str, SourceResult]:
    """Every (or the named) source of the registry as ONE attempt; a rejected source does not stop the others.

    Returns {source: SourceResult}; rejected ones have ``.rejections`` (nothing is raised).
    ``town``: as for :func:`ingest_source`.
    """
    registry = registry if registry is not None else load_registry()
    run_id = run_id or attempts.new_attempt_id()
    names = sources or list(registry)
    results: dict[str, SourceResult] = {}
    for name in names:
        try:
            results[name] = ingest_source(
                name,
                run_month,
                inbox,
                conninfo,
                quarantine_dir,
                run_id=run_id,
                limits=limits,
                log=log,
                registry=registry,
                town=town,
            )
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
