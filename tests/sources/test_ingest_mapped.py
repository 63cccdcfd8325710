"""The monthly load with a town's mapping, on the real test cluster: lineage to the delivered file and
row, every path ending loaded or rejected (issue 16), mapping problems kept apart for IT."""

from __future__ import annotations

import hashlib

import pytest
from kodomo_shien_town import deliver, mapping_text, write
from mimamori.ingest import IngestRejected, ingest_source

SOURCE = "kodomo_shien"


@pytest.fixture()
def town(tmp_path):
    """A town folder with kodomo_shien's mapping, and an inbox for the month given to ``deliver``."""
    folder = tmp_path / "town" / "sources"
    folder.mkdir(parents=True)

    def make(month: str, text: str | None = None):
        (folder / f"{SOURCE}.yaml").write_text(text or mapping_text(month), encoding="utf-8")
        return deliver(tmp_path / "inbox" / month / SOURCE, month)

    make.town = tmp_path / "town"
    make.inbox = tmp_path / "inbox"
    make.quarantine = tmp_path / "quarantine"
    return make


def _load(town, month, loader_dsn, registry, run_id):
    return ingest_source(
        SOURCE,
        month,
        town.inbox,
        loader_dsn,
        town.quarantine,
        run_id=run_id,
        registry=registry,
        town=town.town,
        log=lambda _: None,
    )


def test_a_mapped_source_loads_with_its_delivered_lineage(town, loader_dsn, registry, wh_conn):
    month, run_id = "2033-01", "mapped-load-1"
    folder = town(month)
    result = _load(town, month, loader_dsn, registry, run_id)
    assert result.ok and {f.file: f.rows_loaded for f in result.files} == {
        "要対協.csv": 2,
        "児童扶養手当.csv": 2,
        "ひとり親医療.csv": 1,
        "保育所入所.csv": 3,
        "児童相談記録.csv": 1,
    }
    rows = wh_conn.execute(
        "select source_file, source_row_number, file_sha256, facility_type from raw.kodomo_shien__childcare_enrolments"
        " where run_month = %s and run_id = %s order by source_file desc, source_row_number",
        (month, run_id),
    ).fetchall()
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert rows == [
        ("認可保育.tsv", 2, sha["認可保育.tsv"], "保育所"),
        ("認可保育.tsv", 3, sha["認可保育.tsv"], "認定こども園"),
        ("地域型.csv", 3, sha["地域型.csv"], "地域型保育"),
    ]
    allowance = wh_conn.execute(
        "select source_file, source_row_number from raw.kodomo_shien__child_rearing_allowance"
        " where run_month = %s and run_id = %s order by 2",
        (month, run_id),
    ).fetchall()
    assert allowance == [("ひとり親_20330205.csv", 2), ("ひとり親_20330205.csv", 5)]
    consult = wh_conn.execute(
        "select source_file from raw.kodomo_shien__consultations where run_month = %s and run_id = %s",
        (month, run_id),
    ).fetchall()
    assert consult == [("児童相談記録.csv",)]  # not mapped: the contract's own file
    deliveries = {
        (f, t): (n, cols)
        for f, t, n, cols in wh_conn.execute(
            "select delivered_file, raw_table, rows_loaded, columns from ingest.deliveries"
            " where run_month = %s and run_id = %s",
            (month, run_id),
        ).fetchall()
    }
    assert deliveries[("ひとり親_20330205.csv", "kodomo_shien__single_parent_medical")][0] == 1
    assert deliveries[("地域型.csv", "kodomo_shien__childcare_enrolments")][1]["facility_type"] == "（固定値）"
    assert deliveries[("YOTAI.csv", "kodomo_shien__yotaikyo")][1]["category"] == "2列目"
    step = wh_conn.execute(
        "select status from ingest.run_steps where run_month = %s and run_id = %s and step = 'load' and source = %s",
        (month, run_id, SOURCE),
    ).fetchone()
    assert step == ("loaded",)


def _raw_rows(wh_conn, month, run_id) -> int:
    total = 0
    for spec in ("kodomo_shien__yotaikyo", "kodomo_shien__childcare_enrolments", "kodomo_shien__consultations"):
        total += wh_conn.execute(
            f"select count(*) from raw.{spec} where run_month = %s and run_id = %s", (month, run_id)
        ).fetchone()[0]
    return total


def test_a_mapping_problem_found_in_the_data_is_a_rejection_for_it(town, loader_dsn, registry, wh_conn):
    month, run_id = "2033-02", "mapped-load-2"
    folder = town(month)
    write(folder, "YOTAI.csv", ["0000100020,Z,20240401,,○,20240402,2033/03/05"])  # Z: no code
    with pytest.raises(IngestRejected) as exc:
        _load(town, month, loader_dsn, registry, run_id)
    rules = {(r.rule, r.file) for r in exc.value.result.rejections}
    assert rules == {("unmapped_code", "YOTAI.csv")}
    assert _raw_rows(wh_conn, month, run_id) == 0  # nothing of the source reached raw
    stored = wh_conn.execute(
        'select rule, file, rows, "column", message_ja from ingest.rejections where run_month = %s and run_id = %s',
        (month, run_id),
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in stored] == [("unmapped_code", "YOTAI.csv", [1], "2列目")]
    assert "Z" not in stored[0][4].replace("YOTAI", "")
    step = wh_conn.execute(
        "select status, detail from ingest.run_steps where run_month = %s and run_id = %s and step = 'load'",
        (month, run_id),
    ).fetchone()
    assert step[0] == "rejected" and step[1]["rules"] == ["unmapped_code"]
    # the delivered files are not at fault: they stay for the re-run after IT fixes the mapping
    assert (folder / "YOTAI.csv").exists() and not town.quarantine.exists()
    fixed = mapping_text(month).replace("C: 特定妊婦}", "C: 特定妊婦, Z: 要支援}")
    (town.town / "sources" / f"{SOURCE}.yaml").write_text(fixed, encoding="utf-8")
    assert _load(town, month, loader_dsn, registry, run_id + "-again").ok


def test_a_data_problem_quarantines_the_delivered_file(town, loader_dsn, registry, wh_conn):
    month, run_id = "2033-03", "mapped-load-3"
    folder = town(month)
    write(folder, "地域型.csv", ["一覧", "児童コード,施設,入所,退所", "0000100012,,45383,"], "utf-8")
    with pytest.raises(IngestRejected) as exc:
        _load(town, month, loader_dsn, registry, run_id)
    [rej] = exc.value.result.rejections
    assert (rej.rule, rej.file, rej.rows, rej.column) == ("required_blank", "地域型.csv", [3], "施設")
    assert not (folder / "地域型.csv").exists()
    assert (town.quarantine / month / SOURCE / "地域型.csv").exists()
    assert (folder / "認可保育.tsv").exists()  # only the file at fault moves
    assert _raw_rows(wh_conn, month, run_id) == 0


def test_a_broken_mapping_file_rejects_the_source_at_run_time(town, loader_dsn, registry, wh_conn):
    month, run_id = "2033-04", "mapped-load-4"
    text = mapping_text(month).replace("      施設名: 施設", "      施設の名前: 施設")
    folder = town(month, text)
    with pytest.raises(IngestRejected) as exc:
        _load(town, month, loader_dsn, registry, run_id)
    rejections = exc.value.result.rejections
    assert {(r.rule, r.file) for r in rejections} == {("mapping_invalid", f"{SOURCE}.yaml")}
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "施設の名前" in t)
    assert any(f"{line}行目" in r.message_ja and "施設の名前" in r.message_ja for r in rejections)
    assert any("施設名" in r.message_ja and "必須" in r.message_ja for r in rejections)  # and what it left out
    assert _raw_rows(wh_conn, month, run_id) == 0
    assert all((folder / n).exists() for n in ("YOTAI.csv", "認可保育.tsv"))


def test_without_a_town_the_contract_layout_is_expected(town, loader_dsn, registry):
    month = "2033-05"
    town(month)
    with pytest.raises(IngestRejected) as exc:
        ingest_source(
            SOURCE, month, town.inbox, loader_dsn, town.quarantine, run_id="mapped-load-5", registry=registry,
            town=None, log=lambda _: None,
        )  # fmt: skip
    assert {r.rule for r in exc.value.result.rejections} == {"missing_file"}


def test_an_xlsx_sheet_with_a_title_row_real_date_cells_and_serials(town, loader_dsn, registry, wh_conn):
    """地域型 delivered as a workbook: a cover sheet first, the list on sheet 一覧 under a title row,
    one 入所 a real date cell and one an Excel serial number; the rows are the sheet's own."""
    import datetime as dt

    import openpyxl

    month, run_id = "2033-08", "mapped-load-xlsx"
    text = mapping_text(month).replace(
        '    files: "地域型.csv"\n    encoding: utf-8\n    header: 2                       # a title line first\n',
        '    files: "地域型_*.xlsx"\n    format: xlsx\n    sheet: 一覧\n    header: 2\n    skip: [{last: 1}]\n',
    )
    assert "地域型_*.xlsx" in text
    folder = town(month, text)
    (folder / "地域型.csv").unlink()
    wb = openpyxl.Workbook()
    wb.active.title = "表紙"
    wb.active["A1"] = "地域型保育 入所者一覧"
    ws = wb.create_sheet("一覧")
    ws.append(["地域型保育の入所者一覧"])
    ws.append(["児童コード", "施設", "入所", "退所"])
    ws.append(["0000100012", "ぽっけ", dt.datetime(2024, 4, 1), None])
    ws.append(["0000100013", "ぽっけ", 45017, 45747])
    ws.append(["計", 2])
    wb.save(folder / "地域型_202602.xlsx")
    result = _load(town, month, loader_dsn, registry, run_id)
    assert result.ok, [r.message_en for r in result.rejections]
    rows = wh_conn.execute(
        "select source_file, source_row_number, enrolled_on, left_on, facility_type"
        " from raw.kodomo_shien__childcare_enrolments where run_month = %s and run_id = %s"
        " and source_file like '%%.xlsx' order by source_row_number",
        (month, run_id),
    ).fetchall()
    assert rows == [
        ("地域型_202602.xlsx", 3, dt.date(2024, 4, 1), None, "地域型保育"),
        ("地域型_202602.xlsx", 4, dt.date(2023, 4, 1), dt.date(2025, 3, 31), "地域型保育"),
    ]
    # a sheet that is not there is the mapping's (IT's) problem, and nothing reaches raw
    (town.town / "sources" / f"{SOURCE}.yaml").write_text(text.replace("sheet: 一覧", "sheet: 名簿"), encoding="utf-8")
    with pytest.raises(IngestRejected) as exc:
        _load(town, month, loader_dsn, registry, run_id + "-nosheet")
    [rej] = exc.value.result.rejections
    assert (rej.rule, rej.file, rej.for_it) == ("mapping_column", "地域型_202602.xlsx", True)
    assert "名簿" in rej.message_ja
    assert _raw_rows(wh_conn, month, run_id + "-nosheet") == 0
    # a formula whose result was never saved is not a blank 退所日: the data owner's formula_cell
    (town.town / "sources" / f"{SOURCE}.yaml").write_text(text, encoding="utf-8")
    ws["D4"] = "=C4+730"  # openpyxl saves no result
    wb.save(folder / "地域型_202602.xlsx")
    with pytest.raises(IngestRejected) as exc:
        _load(town, month, loader_dsn, registry, run_id + "-formula")
    [rej] = exc.value.result.rejections
    assert (rej.rule, rej.file, rej.rows, rej.for_it) == ("formula_cell", "地域型_202602.xlsx", [4], False)
    assert _raw_rows(wh_conn, month, run_id + "-formula") == 0


@pytest.fixture(scope="module", autouse=True)
def _cleanup(warehouse):
    yield
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        for table in ("kodomo_shien__yotaikyo", "kodomo_shien__child_rearing_allowance",
                      "kodomo_shien__single_parent_medical", "kodomo_shien__childcare_enrolments",
                      "kodomo_shien__consultations"):  # fmt: skip
            if conn.execute("select to_regclass(%s)", (f"raw.{table}",)).fetchone()[0]:
                conn.execute(f"delete from raw.{table} where run_month like '2033-%'")
        for table in ("file_loads", "rejections", "run_steps", "deliveries"):
            conn.execute(f"delete from ingest.{table} where run_month like '2033-%'")
