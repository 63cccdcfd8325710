"""Loading into the real test cluster: lineage, attempts, atomicity, quarantine, rejections.

Months far in the future (2031-xx) keep these tests clear of any month another suite loads.
"""

from __future__ import annotations

import hashlib

import pytest
from ingest_fixtures import build_month, build_source, sample_rows, write_file
from mimamori.ingest import IngestRejected, ingest_month, ingest_source
from mimamori.ingest.registry import LINEAGE_COLUMNS

LINES: list[str] = []


def log(line: str) -> None:
    LINES.append(line)


def snapshot(conn, table: str, month: str, run_id: str | None = None, with_loaded_at: bool = False):
    """The month's rows (of one attempt, or of all), without run_id; loaded_at only when asked."""
    cols = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
            " order by ordinal_position",
            (table,),
        ).fetchall()
    ]
    cols.remove("run_id")
    if not with_loaded_at:
        cols.remove("loaded_at")
    select = ", ".join(f'"{c}"' for c in cols)
    attempt = "" if run_id is None else " and run_id = %s"
    return conn.execute(
        f"select {select} from raw.{table} where run_month = %s{attempt} order by source_file, source_row_number",
        (month,) if run_id is None else (month, run_id),
    ).fetchall()


def test_month_loads_with_lineage_and_attempts_stand_side_by_side(tmp_path, registry, loader_dsn, wh_conn):
    month = "2031-05"
    written = build_month(tmp_path / "inbox", month, registry, n=4)
    results = ingest_month(
        month, tmp_path / "inbox", loader_dsn, tmp_path / "q", registry=registry, log=log, run_id="t-a"
    )
    assert all(r.ok for r in results.values()), [r.rejections for r in results.values()]
    for name, src in registry.items():
        for spec, fres in zip(src.files, results[name].files, strict=False):
            path = tmp_path / "inbox" / month / name / spec.file
            assert fres.rows_read == fres.rows_loaded == len(written[name][spec.file]) == 4
            assert fres.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
            got = wh_conn.execute(
                f"select run_month, source_file, source_row_number, file_sha256, loaded_at is not null, run_id"
                f" from raw.{spec.raw_table} where run_month = %s order by source_row_number",
                (month,),
            ).fetchall()
            assert got == [(month, spec.file, n, fres.sha256, True, "t-a") for n in (2, 3, 4, 5)]
    # Typed columns, lineage at the end, readable by the transformer.
    types = dict(
        wh_conn.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'jumin__residents'"
        ).fetchall()
    )
    assert types["birth_date"] == "date" and types["has_dv_protection"] == "boolean"
    assert types["atena_no"] == "text" and types["source_row_number"] == "integer"
    assert set(LINEAGE_COLUMNS) <= set(types)
    assert wh_conn.execute("select has_table_privilege('transformer', 'raw.jumin__residents', 'select')").fetchone()[0]
    ages = wh_conn.execute(
        "select birth_date::text, sex, has_dv_protection from raw.jumin__residents"
        " where run_month = %s order by source_row_number",
        (month,),
    ).fetchall()
    assert ages[0] == ("2015-04-01", "1", True) and ages[3][0] == "2018-07-04"  # 平成30年7月4日
    loads = wh_conn.execute(
        "select source, file, raw_table, rows_read, rows_loaded from ingest.file_loads where run_month = %s"
        " and run_id = 't-a' order by source, file",
        (month,),
    ).fetchall()
    assert len(loads) == sum(len(s.files) for s in registry.values()) and all(r[3] == r[4] == 4 for r in loads)
    steps = wh_conn.execute(
        "select source, status from ingest.run_steps where run_month = %s and run_id = 't-a' and step = 'load'",
        (month,),
    ).fetchall()
    assert dict(steps) == {name: "loaded" for name in registry}

    tables = [s.raw_table for src in registry.values() for s in src.files]
    first = {t: snapshot(wh_conn, t, month, "t-a", with_loaded_at=True) for t in tables}
    # A second attempt of the month: the same rows beside the first, which does not change at all.
    ingest_month(month, tmp_path / "inbox", loader_dsn, tmp_path / "q", registry=registry, log=log, run_id="t-b")
    assert {t: snapshot(wh_conn, t, month, "t-a", with_loaded_at=True) for t in tables} == first
    assert {t: snapshot(wh_conn, t, month, "t-b") for t in tables} == {
        t: [row[:-1] for row in rows] for t, rows in first.items()
    }
    assert len(snapshot(wh_conn, "jumin__residents", month)) == 8
    attempts = wh_conn.execute(
        "select run_id, count(*) from ingest.file_loads where run_month = %s group by run_id order by run_id", (month,)
    ).fetchall()
    assert attempts == [("t-a", len(loads)), ("t-b", len(loads))]
    # A retry of the same attempt replaces its own rows: still 4 per attempt, loaded later.
    loaded_at = wh_conn.execute(
        "select max(loaded_at) from raw.jumin__residents where run_month = %s and run_id = 't-b'", (month,)
    ).fetchone()[0]
    ingest_source(
        "jumin", month, tmp_path / "inbox", loader_dsn, tmp_path / "q", registry=registry, log=log, run_id="t-b"
    )
    counts = wh_conn.execute(
        "select run_id, count(*), max(loaded_at) from raw.jumin__residents where run_month = %s group by run_id"
        " order by run_id",
        (month,),
    ).fetchall()
    assert [(r[0], r[1]) for r in counts] == [("t-a", 4), ("t-b", 4)] and counts[1][2] > loaded_at
    assert any("rows loaded into raw.jumin__residents" in line for line in LINES)


def test_rejected_source_is_atomic_quarantined_and_recorded(tmp_path, registry, loader_dsn, wh_conn):
    prev, month = "2031-06", "2031-07"
    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    jumin, fukushi = registry["jumin"], registry["fukushi"]
    for m in (prev, month):
        build_source(inbox, m, jumin, n=5)
        ingest_source("jumin", m, inbox, loader_dsn, quarantine, registry=registry, log=log, run_id="r-1")
    published = {m: snapshot(wh_conn, "jumin__residents", m, with_loaded_at=True) for m in (prev, month)}
    assert len(published[month]) == 5

    # The month is re-delivered: 住民.csv with a renamed column and a future birth date.
    spec = jumin.file("住民.csv")
    rows = sample_rows(spec, 6, month)
    rows[2][4] = "令和30年1月1日"
    header = spec.headers
    header[3] = "フリガナ"
    write_file(inbox / month / "jumin" / spec.file, spec, rows, header=header)
    build_source(inbox, month, fukushi, n=3)
    results = ingest_month(
        month, inbox, loader_dsn, quarantine, sources=["jumin", "fukushi"], registry=registry, log=log, run_id="r-2"
    )
    assert results["fukushi"].ok and not results["jumin"].ok
    assert {(r.rule, r.column) for r in results["jumin"].rejections} == {
        ("renamed_column", "カナ氏名"),
        ("impossible_date", "生年月日"),
    }
    # Nothing of jumin changed (not even loaded_at), in either month: attempt r-2 has no jumin row.
    for m in (prev, month):
        assert snapshot(wh_conn, "jumin__residents", m, with_loaded_at=True) == published[m]
    assert snapshot(wh_conn, "jumin__residents", month, "r-2") == []
    assert (
        wh_conn.execute(
            "select count(*) from raw.fukushi__public_assistance where run_month = %s", (month,)
        ).fetchone()[0]
        == 3
    )
    # Quarantined under quarantine/<month>/jumin/ with its name.
    assert not (inbox / month / "jumin" / "住民.csv").exists()
    assert (quarantine / month / "jumin" / "住民.csv").is_file()
    recorded = wh_conn.execute(
        'select file, rule, rows, "column", message_ja, message_en, recorded_at is not null from ingest.rejections'
        " where run_month = %s and source = 'jumin' and run_id = 'r-2' order by rule",
        (month,),
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3], r[6]) for r in recorded] == [
        ("住民.csv", "impossible_date", [4], "生年月日", True),
        ("住民.csv", "renamed_column", [], "カナ氏名", True),
    ]
    assert all("住民.csv" in r[4] and "住民.csv" in r[5] for r in recorded)
    assert not any("令和30" in r[4] or "2048" in r[5] for r in recorded)

    # Delivered wrong again, attempt r-3: the exception carries the result; each attempt keeps its
    # own rejections (the month's history shows both tries); the second quarantined copy gets a
    # timestamped name.
    write_file(inbox / month / "jumin" / spec.file, spec, rows, header=header)
    with pytest.raises(IngestRejected) as exc:
        ingest_source("jumin", month, inbox, loader_dsn, quarantine, registry=registry, log=log, run_id="r-3")
    assert len(exc.value.result.rejections) == 2 and "renamed_column" in str(exc.value)
    by_attempt = wh_conn.execute(
        "select run_id, count(*) from ingest.rejections where run_month = %s and source = 'jumin' group by run_id"
        " order by run_id",
        (month,),
    ).fetchall()
    assert by_attempt == [("r-2", 2), ("r-3", 2)]
    assert len(list((quarantine / month / "jumin").iterdir())) == 2

    # A missing department: every file named.
    with pytest.raises(IngestRejected) as exc:
        ingest_source("gakko", month, inbox, loader_dsn, quarantine, registry=registry, log=log, run_id="r-3")
    assert {(r.rule, r.file) for r in exc.value.result.rejections} == {
        ("missing_file", f.file) for f in registry["gakko"].files
    }

    # Corrected delivery, retried within r-3: loads, r-3's jumin rejections go, r-2's stay.
    build_source(inbox, month, jumin, n=6)
    assert ingest_source("jumin", month, inbox, loader_dsn, quarantine, registry=registry, log=log, run_id="r-3").ok
    assert len(snapshot(wh_conn, "jumin__residents", month, "r-3")) == 6
    assert snapshot(wh_conn, "jumin__residents", month, "r-1", with_loaded_at=True) == published[month]
    assert snapshot(wh_conn, "jumin__residents", prev, with_loaded_at=True) == published[prev]
    by_attempt = wh_conn.execute(
        "select run_id, count(*) from ingest.rejections where run_month = %s and source = 'jumin' group by run_id",
        (month,),
    ).fetchall()
    assert by_attempt == [("r-2", 2)]
    steps = wh_conn.execute(
        "select run_id, status from ingest.run_steps where run_month = %s and step = 'load' and source = 'jumin'"
        " order by run_id",
        (month,),
    ).fetchall()
    assert steps == [("r-1", "loaded"), ("r-2", "rejected"), ("r-3", "loaded")]

    # And back: a retry of r-3 that is rejected takes r-3's loaded rows with it (no stale rows).
    write_file(inbox / month / "jumin" / spec.file, spec, rows, header=header)
    with pytest.raises(IngestRejected):
        ingest_source("jumin", month, inbox, loader_dsn, quarantine, registry=registry, log=log, run_id="r-3")
    assert snapshot(wh_conn, "jumin__residents", month, "r-3") == []
    assert snapshot(wh_conn, "jumin__residents", month, "r-1", with_loaded_at=True) == published[month]
    assert not any("令和30" in line or "ミマモリ" in line for line in LINES)


def test_bad_run_month_and_unknown_source(tmp_path, registry, loader_dsn):
    with pytest.raises(ValueError, match="YYYY-MM"):
        ingest_source("jumin", "2031-7", tmp_path, loader_dsn, tmp_path, registry=registry)
    with pytest.raises(ValueError, match="unknown source"):
        ingest_source("nope", "2031-07", tmp_path, loader_dsn, tmp_path, registry=registry)


def test_cli(tmp_path, registry, loader_dsn, capsys):
    from mimamori.ingest.__main__ import main

    month = "2031-08"
    build_source(tmp_path / "inbox", month, registry["kodomo_katei"], n=2)
    args = [
        "--month",
        month,
        "--inbox",
        str(tmp_path / "inbox"),
        "--quarantine",
        str(tmp_path / "q"),
        "--dsn",
        loader_dsn,
        "-q",
    ]
    assert main([*args, "--source", "kodomo_katei", "--run-id", "cli-test"]) == 0
    out = capsys.readouterr().out
    assert "raw.kodomo_katei__maternity" in out and "ok" in out and "attempt (run_id): cli-test" in out
    assert main([*args, "--source", "gakko"]) == 1
    out = capsys.readouterr().out
    assert "[missing_file]" in out and "学齢簿.csv" in out
