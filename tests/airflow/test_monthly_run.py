"""The real monthly DAG under `airflow dags test` on the synthetic town.

Three full runs for the whole suite: a clean month, the same month again (idempotency), and
the next month with several faults injected at once (rejections, nothing else lost).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from mimamori.stack import airflow, pg
from mimamori.stack.mailcatcher import read_messages

pytestmark = pytest.mark.airflow

CLEAN_MONTH = "2026-09"
FAULT_MONTH = "2026-10"
# Every fault class of the generator at once, over four departments; jumin stays clean.
FAULTS = [
    "wrong_encoding:fukushi/障害者手帳.csv",
    "missing_column:fukushi/要介護認定.csv",
    "other_month:kodomo_shien/要対協.csv",
    "duplicate_key:kodomo_shien/児童扶養手当.csv",
    "bad_era_date:kodomo_shien/ひとり親医療.csv",
    "truncated_xlsx:gakko/出欠.xlsx",
    "future_birth_date:gakko/学齢簿.csv",
    "renamed_column:gakko/就学援助.csv",
    "empty_file:gakko/給食費.csv",
    "header_only:fukushi/生活保護.csv",
    "missing_source:kodomo_katei",
]
FAULTED_SOURCES = {"fukushi", "kodomo_shien", "gakko", "kodomo_katei"}


def data_rows(path: Path, encoding: str) -> int:
    """Rows of a delivered file, counted independently of the ingestion code."""
    if encoding == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).worksheets[0]
        return sum(1 for row in sheet.iter_rows(min_row=2, values_only=True) if any(v is not None for v in row))
    text = path.read_bytes().decode(encoding)
    return sum(1 for _ in csv.reader(io.StringIO(text))) - 1


def table_fingerprint(conn, table: str, month: str) -> tuple[int, str]:
    return conn.execute(
        f"""select count(*), coalesce(md5(string_agg((to_jsonb(t) - 'loaded_at')::text, '|'
                   order by source_file, source_row_number)), '')
            from raw.{table} as t where run_month = %s""",
        (month,),
    ).fetchone()


def dag_run_state(settings, month: str) -> str:
    with pg.connect(settings, settings.airflow_db) as conn:
        row = conn.execute(
            """select state from dag_run where dag_id = 'mimamori_monthly' and conf::jsonb ->> 'run_month' = %s
               order by id desc limit 1""",
            (month,),
        ).fetchone()
    return row[0] if row else "missing"


@pytest.fixture(scope="module")
def town(airflow_ready):
    from mimamori import synth

    out = airflow_ready.state_dir / "town"
    shutil.rmtree(out, ignore_errors=True)
    synth.generate(out, seed=42, scale=1.0, months=2, end_month=FAULT_MONTH)
    return out


@pytest.fixture(scope="module")
def faulted_town(airflow_ready):
    from mimamori import synth

    out = airflow_ready.state_dir / "town-faults"
    shutil.rmtree(out, ignore_errors=True)
    synth.generate(out, seed=42, scale=1.0, months=2, end_month=FAULT_MONTH, faults=FAULTS)
    return out


@pytest.fixture(scope="module")
def registry():
    from mimamori.ingest.registry import load_registry

    return load_registry()


@pytest.fixture(scope="module")
def clean_run(airflow_ready, town, mailcatcher):
    before = len(read_messages(mailcatcher))
    result = airflow.dags_test(airflow_ready, CLEAN_MONTH)
    return result, before


def test_clean_month_succeeds(airflow_ready, clean_run):
    result, _ = clean_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert dag_run_state(airflow_ready, CLEAN_MONTH) == "success"


def test_every_raw_table_holds_exactly_its_files_rows(airflow_ready, clean_run, town, registry):
    with pg.connect(airflow_ready) as conn:
        for name, source in registry.items():
            for spec in source.files:
                path = town / "inbox" / CLEAN_MONTH / name / spec.file
                expected = data_rows(path, spec.encoding)
                loaded = conn.execute(
                    f"select count(*) from raw.{spec.raw_table} where run_month = %s", (CLEAN_MONTH,)
                ).fetchone()[0]
                assert loaded == expected, f"{name}/{spec.file}"
                assert expected > 0, f"{name}/{spec.file} is empty in the clean town"


def test_models_are_built_for_the_month(airflow_ready, clean_run):
    with pg.connect(airflow_ready) as conn:
        children = conn.execute("select count(*) from marts.children where run_month = %s", (CLEAN_MONTH,)).fetchone()[
            0
        ]
        residents = conn.execute(
            "select count(*) from raw.jumin__residents where run_month = %s", (CLEAN_MONTH,)
        ).fetchone()[0]
    # Kaisei: 3,319 children among 18,738 residents (17.7%); the synthetic town is calibrated to it.
    assert 0.12 < children / residents < 0.24


def test_it_gets_one_summary_mail_without_personal_data(airflow_ready, clean_run, mailcatcher, town):
    _, before = clean_run
    new = read_messages(mailcatcher)[before:]
    summaries = [m for m in new if CLEAN_MONTH in str(m["Subject"]) and m["X-Envelope-To"] == airflow_ready.it_email]
    assert len(summaries) == 1
    assert len(new) == 1, "a clean month mails nobody but IT"
    body = summaries[0].get_body(preferencelist=("html", "plain")).get_content()
    names = {row["name"] for row in _truth_names(town)}
    assert not any(name and name in body for name in names)


def test_a_clean_month_is_published(airflow_ready, clean_run):
    with pg.connect(airflow_ready) as conn:
        month = conn.execute(
            "select run_month from published.publication order by published_at desc limit 1"
        ).fetchone()[0]
        children = conn.execute("select count(*) from published.children").fetchone()[0]
        in_history = conn.execute(
            "select count(*) from history.children where run_month = %s", (CLEAN_MONTH,)
        ).fetchone()[0]
    assert month == CLEAN_MONTH
    assert children == in_history > 0


def _truth_names(town: Path):
    path = town / "inbox" / CLEAN_MONTH / "jumin" / "住民.csv"
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("cp932")))
    for row in reader:
        yield {"name": row["氏名"].replace("\u3000", "")}


def test_rerunning_a_month_leaves_identical_tables(airflow_ready, clean_run, registry):
    with pg.connect(airflow_ready) as conn:
        before = {
            spec.raw_table: table_fingerprint(conn, spec.raw_table, CLEAN_MONTH)
            for source in registry.values()
            for spec in source.files
        }
    result = airflow.dags_test(airflow_ready, CLEAN_MONTH, logical_date=f"{FAULT_MONTH}-17")
    assert result.returncode == 0, result.stdout[-3000:]
    with pg.connect(airflow_ready) as conn:
        after = {table: table_fingerprint(conn, table, CLEAN_MONTH) for table in before}
    assert after == before


def test_faults_are_rejected_and_nothing_else_is_lost(airflow_ready, clean_run, faulted_town, registry, mailcatcher):
    mails_before = len(read_messages(mailcatcher))
    with pg.connect(airflow_ready) as conn:
        fault_month_before = {
            spec.raw_table: table_fingerprint(conn, spec.raw_table, FAULT_MONTH)
            for source in registry.values()
            for spec in source.files
        }
        published_before = conn.execute(
            "select run_month, published_at from published.publication order by published_at desc limit 1"
        ).fetchone()
        before = {
            spec.raw_table: table_fingerprint(conn, spec.raw_table, CLEAN_MONTH)
            for source in registry.values()
            for spec in source.files
        }
    result = airflow.dags_test(airflow_ready, FAULT_MONTH, extra_env={"MIMAMORI_INBOX": str(faulted_town / "inbox")})
    assert dag_run_state(airflow_ready, FAULT_MONTH) == "failed"
    with pg.connect(airflow_ready) as conn:
        # The previous month is untouched.
        assert {t: table_fingerprint(conn, t, CLEAN_MONTH) for t in before} == before
        rejected = conn.execute(
            "select source, file, rule from ingest.rejections where run_month = %s", (FAULT_MONTH,)
        ).fetchall()
        for source in registry.values():
            for spec in source.files:
                count = conn.execute(
                    f"select count(*) from raw.{spec.raw_table} where run_month = %s", (FAULT_MONTH,)
                ).fetchone()[0]
                if source.source in FAULTED_SOURCES:
                    # A rejected source changes nothing: whatever the month held stays as it was.
                    after = table_fingerprint(conn, spec.raw_table, FAULT_MONTH)
                    assert after == fault_month_before[spec.raw_table], f"{spec.file} of a rejected source changed"
                else:
                    path = faulted_town / "inbox" / FAULT_MONTH / source.source / spec.file
                    assert count == data_rows(path, spec.encoding), f"{spec.file} of a clean source not loaded"
    rules = {(file, rule) for _, file, rule in rejected}
    expected = {
        ("障害者手帳.csv", "encoding"),
        ("要介護認定.csv", "missing_column"),
        ("要対協.csv", "other_month"),
        ("児童扶養手当.csv", "duplicate_key"),
        ("ひとり親医療.csv", "bad_value"),
        ("出欠.xlsx", "truncated_xlsx"),
        ("学齢簿.csv", "impossible_date"),
        ("就学援助.csv", "renamed_column"),
        ("給食費.csv", "empty_file"),
        ("生活保護.csv", "empty_file"),
        ("乳幼児健診.csv", "missing_file"),
        ("妊産婦.csv", "missing_file"),
        ("予防接種.csv", "missing_file"),
    }
    assert expected <= rules, rules
    assert {source for source, _, _ in rejected} == FAULTED_SOURCES
    log = result.stdout + result.stderr
    assert "AirflowFailException" in log or "rejection" in log
    # The last published month stays, whole.
    with pg.connect(airflow_ready) as conn:
        published_after = conn.execute(
            "select run_month, published_at from published.publication order by published_at desc limit 1"
        ).fetchone()
    assert published_after == published_before
    # Exactly one mail per failing source, to its owners, naming every rule it broke; IT a summary.
    new = read_messages(mailcatcher)[mails_before:]
    for name in FAULTED_SOURCES:
        owners = {o.email for o in registry[name].data_owners}
        mine = [m for m in new if set(m["X-Envelope-To"].split(", ")) == owners]
        assert len(mine) == 1, f"{name}: {len(mine)} mails"
        body = mine[0].get_body(preferencelist=("html", "plain")).get_content()
        for file, rule in expected:
            if any(spec.file == file for spec in registry[name].files):
                assert rule in body, f"{name}: {rule} not named"
    for name in set(registry) - FAULTED_SOURCES:
        owners = {o.email for o in registry[name].data_owners}
        assert not [m for m in new if set(m["X-Envelope-To"].split(", ")) == owners], name
    assert len([m for m in new if m["X-Envelope-To"] == airflow_ready.it_email]) == 1
