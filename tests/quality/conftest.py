"""Fixtures of the quality-gate tests: synthetic raw months, identity links and marts in the test cluster.

Run months 1999-01 (previous), 1999-02 (clean) and 1999-03 (broken) keep these rows clear of
every month other suites use; identity and marts fixtures live in the schema ``qa_quality``.
Everything is removed at the end of the session. Values are made up (架空); ``PERSONAL`` lists
the strings that must never appear in a result, a log, a data-docs page or an e-mail.
"""

from __future__ import annotations

import copy
import datetime as dt
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_data import (  # noqa: E402, F401
    ADDRESSES,
    ATTEMPT,
    BAD,
    BIRTHS,
    CLEAN,
    GATE_SCHEMAS,
    HISTORY_SCHEMA,
    KANA,
    MONTHS,
    NAMES,
    PERSONAL,
    PREV,
    ROWS,
    SCHEMA,
)


def extraction_date(run_month: str) -> dt.date:
    y, m = map(int, run_month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return dt.date(y, m, 5)


def value_for(col, i: int, run_month: str):
    base = col.base_type
    if col.column == "extracted_on":
        return extraction_date(run_month)
    if col.column in ("name",):
        return NAMES[i % len(NAMES)]
    if col.column == "name_kana":
        return KANA[i % len(KANA)]
    if col.column == "address":
        return ADDRESSES[i % len(ADDRESSES)]
    if col.column.endswith("birth_date") or col.column == "birth_date":
        return BIRTHS[i % len(BIRTHS)]
    if base == "id":
        return f"QA{i:06d}"
    if base == "text":
        return f"値{i}"
    if base == "date":
        return dt.date(1998, 1 + i % 12, 1 + i % 28)
    if base == "date_end":
        return dt.date(2005, 3, 31)
    if base == "month":
        return dt.date(1998, 4, 1)
    if base == "int":
        return i % 5
    if base == "flag":
        return i % 2 == 0
    if base == "code":
        codes = list(col.codes)
        return codes[i % len(codes)]
    raise AssertionError(col.type)


def insert_month(conn, spec, run_month: str, rows: int = ROWS) -> None:
    cols = [c.column for c in spec.columns] + ["run_month", "source_file", "source_row_number", "file_sha256", "run_id"]
    sql = f'insert into raw."{spec.raw_table}" ({", ".join(cols)}) values ({", ".join(["%s"] * len(cols))})'
    data = [
        tuple(value_for(c, i, run_month) for c in spec.columns) + (run_month, spec.file, i + 2, "0" * 64, ATTEMPT)
        for i in range(rows)
    ]
    with conn.cursor() as cur:
        cur.executemany(sql, data)


def _cleanup(conn, registry) -> None:
    for source in registry.values():
        for spec in source.files:
            if conn.execute("select to_regclass(%s) is not null", (f"raw.{spec.raw_table}",)).fetchone()[0]:
                conn.execute(f'delete from raw."{spec.raw_table}" where run_month = any(%s)', (list(MONTHS),))
    for table in ("ingest.file_loads", "ingest.rejections", "ingest.notices", "ingest.alerts_sent", "ingest.run_steps"):
        if conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]:
            conn.execute(f"delete from {table} where run_month = any(%s)", (list(MONTHS),))
    conn.execute(f"drop schema if exists {SCHEMA} cascade")
    conn.execute(f"drop schema if exists {HISTORY_SCHEMA} cascade")


@pytest.fixture(scope="session")
def registry():
    from mimamori.ingest.registry import load_registry

    return load_registry()


@pytest.fixture(scope="session")
def thresholds(settings):
    from mimamori.quality import load_thresholds

    # the relations as thresholds.yml names them (dbt's names); the gates read them in the fixture
    # schemas (GATE_SCHEMAS). The children's ages are checked on the scores only (no fixture children).
    t = copy.deepcopy(load_thresholds(settings))
    t["marts"]["ages"] = [{"relation": "marts.child_type_scores", "column": "age"}]
    return t


@pytest.fixture(scope="session")
def quality_data(warehouse, registry):
    """Raw months PREV/CLEAN (clean) and BAD (faults injected), identity links, marts."""
    from mimamori.ingest.load import ensure_ingest_tables, ensure_raw_table
    from mimamori.stack import pg

    with pg.connect(warehouse, role="loader", autocommit=True) as loader:
        ensure_ingest_tables(loader)
        for source in registry.values():
            for spec in source.files:
                with loader.transaction():
                    ensure_raw_table(loader, spec)
    with pg.connect(warehouse, autocommit=True) as conn:
        _cleanup(conn, registry)
        for source in registry.values():
            for month in MONTHS:
                if month == BAD and source.source == "gakko":
                    continue  # rejected at ingestion: nothing loaded
                for spec in source.files:
                    insert_month(conn, spec, month)
                    conn.execute(
                        "insert into ingest.file_loads (run_month, source, file, raw_table, rows_read, rows_loaded,"
                        " sha256, run_id) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                        (month, source.source, spec.file, spec.raw_table, ROWS, ROWS, "0" * 64, ATTEMPT),
                    )
        _break_bad_month(conn, registry)
        _identity_links(conn, registry)
        _marts(conn)
        for schema in (SCHEMA, HISTORY_SCHEMA):
            conn.execute(f"grant usage on schema {schema} to transformer")
            conn.execute(f"grant select on all tables in schema {schema} to transformer")
    yield
    with pg.connect(warehouse, autocommit=True) as conn:
        _cleanup(conn, registry)


def _break_bad_month(conn, registry) -> None:
    """Faults of month BAD (row numbers = source_row_number, header = row 1, first data row = 2)."""
    t = "raw.fukushi__disability_certificates"
    # row 3: a code not in the contract; row 4: duplicate of row 2's compound key; row 5: future date
    conn.execute(f"update {t} set certificate_type = 'X' where run_month = %s and source_row_number = 3", (BAD,))
    conn.execute(
        f"update {t} set atena_no = 'QA000000', certificate_type = (select certificate_type from {t}"
        " where run_month = %s and source_row_number = 2) where run_month = %s and source_row_number = 4",
        (BAD, BAD),
    )
    conn.execute(f"update {t} set issued_on = '1999-05-01' where run_month = %s and source_row_number = 5", (BAD,))
    conn.execute(
        "update raw.fukushi__care_need_certifications set certified_on = '1899-12-31'"
        " where run_month = %s and source_row_number = 6",
        (BAD,),
    )
    conn.execute(
        "update raw.fukushi__consultations set kind = null where run_month = %s and source_row_number = 7", (BAD,)
    )
    # kodomo_katei: the first file collapses to 2 rows (previous month 10)
    first = registry["kodomo_katei"].files[0].raw_table
    conn.execute(f'delete from raw."{first}" where run_month = %s and source_row_number > 3', (BAD,))
    # gakko: rejected at ingestion (two rules)
    conn.execute(
        'insert into ingest.rejections (run_month, source, file, rule, rows, "column", message_ja, message_en,'
        " run_id) values"
        " (%s, 'gakko', '学齢簿.csv', 'encoding', '{}', null, '学齢簿.csv: 文字コード（形式）が契約と異なります [encoding]',"
        "  '学齢簿.csv: wrong encoding [encoding]', %s),"
        " (%s, 'gakko', '給食費.csv', 'required_blank', '{3,4}', '児童生徒番号',"
        "  '給食費.csv・3, 4行目・列「児童生徒番号」: 必須項目が空欄です [required_blank]',"
        "  '給食費.csv, rows 3, 4, column 児童生徒番号: required value is blank [required_blank]', %s)",
        (BAD, ATTEMPT, BAD, ATTEMPT),
    )


def _identity_links(conn, registry) -> None:
    conn.execute(f"create schema if not exists {SCHEMA}")
    conn.execute(
        f"create table {SCHEMA}.int_identity__links (run_month text, raw_table text, source_row_number int,"
        " person_id text, link_status text)"
    )
    rows = []
    for source in registry.values():
        if source.source == "jumin":
            continue
        for spec in source.files:
            for month in (CLEAN, BAD):
                for i in range(ROWS):
                    status = "linked"
                    if month == BAD and spec.raw_table == "fukushi__consultations" and 2 <= i + 2 <= 5:
                        status = "unmatched"
                    if month == BAD and spec.raw_table == "fukushi__disability_medical" and i + 2 in (8, 9):
                        status = "review"
                    rows.append((month, spec.raw_table, i + 2, f"P{i}", status))
    with conn.cursor() as cur:
        cur.executemany(f"insert into {SCHEMA}.int_identity__links values (%s, %s, %s, %s, %s)", rows)


def _marts(conn) -> None:
    conn.execute(
        f"create table {SCHEMA}.child_type_scores (person_id text, type_code text, is_flagged boolean, age int, run_month text)"
    )
    conn.execute(f"create schema if not exists {HISTORY_SCHEMA}")
    conn.execute(f"create table {HISTORY_SCHEMA}.child_type_scores (like {SCHEMA}.child_type_scores)")
    conn.execute(
        f"create table {SCHEMA}.child_type_items (person_id text, type_code text, item_code text, points numeric, "
        "run_month text)"
    )
    scores, evidence, history = [], [], []
    for month in (PREV, CLEAN, BAD):
        for p in range(100):
            for t, flagged_upto in (("poverty", 10), ("abuse", 5)):
                flagged = p < flagged_upto or (month == BAD and t == "poverty" and p < 30)
                age = p % 19 if not (month == BAD and p == 99) else 19
                row = (f"P{p:03d}", t, flagged, age, month)
                (history if month == PREV else scores).append(row)
                if flagged and not (month == BAD and t == "abuse" and p == 0):
                    evidence.append((f"P{p:03d}", t, "I08", 1, month))
                elif flagged:  # an item row that adds no points is no evidence for the flag
                    evidence.append((f"P{p:03d}", t, "I17", 0, month))
    with conn.cursor() as cur:
        cur.executemany(f"insert into {SCHEMA}.child_type_scores values (%s, %s, %s, %s, %s)", scores)
        cur.executemany(f"insert into {HISTORY_SCHEMA}.child_type_scores values (%s, %s, %s, %s, %s)", history)
        cur.executemany(f"insert into {SCHEMA}.child_type_items values (%s, %s, %s, %s, %s)", evidence)
    # the history of CLEAN (so BAD's band compares against CLEAN's shares)
    conn.execute(
        f"insert into {HISTORY_SCHEMA}.child_type_scores select * from {SCHEMA}.child_type_scores where run_month = %s",
        (CLEAN,),
    )


@pytest.fixture(scope="session")
def gate_results(settings, registry, thresholds, quality_data):
    """Every gate of CLEAN and BAD, run once for the session (one GX import), with timings."""
    import logging
    import time

    from mimamori import quality

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep(level=logging.DEBUG)
    logger = logging.getLogger("mimamori")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    timings = {}
    out = {}
    try:
        for month in (PREV, CLEAN, BAD):
            started = time.monotonic()
            out[("raw", month)] = quality.validate_raw(settings, month, registry=registry, thresholds=thresholds)
            timings[("raw", month)] = time.monotonic() - started
        for month in (CLEAN, BAD):
            started = time.monotonic()
            out[("identity", month)] = quality.validate_identity(
                settings, month, registry=registry, thresholds=thresholds, schemas=GATE_SCHEMAS
            )
            timings[("identity", month)] = time.monotonic() - started
            started = time.monotonic()
            out[("marts", month)] = quality.validate_marts(settings, month, thresholds=thresholds, schemas=GATE_SCHEMAS)
            timings[("marts", month)] = time.monotonic() - started
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    out["timings"] = timings
    out["log"] = records
    return out
