"""A mapping applied to delivered files (no database): contract rows with their lineage, and every
problem as a rejection naming the file, row and column as delivered — IT's or the data owner's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from kodomo_shien_town import deliver, mapping_text, write
from mimamori.ingest.limits import Limits
from mimamori.sources.apply import read_mapped_source
from mimamori.sources.mapping import parse_mapping

MONTH = "2026-10"
LIMITS = Limits(max_file_bytes=1 << 24, max_rows=100_000, max_line_bytes=65536, max_field_chars=4096)


@pytest.fixture()
def delivered(tmp_path):
    return deliver(tmp_path / MONTH / "kodomo_shien", MONTH)


def _read(registry, folder: Path, text: str | None = None):
    mapping = parse_mapping(text or mapping_text(MONTH), Path("kodomo_shien.yaml"), registry)
    parsed = read_mapped_source(mapping, registry["kodomo_shien"], folder, MONTH, LIMITS)
    return {p.spec.file: p for p in parsed}


def _col(parsed, name):
    i = [c.column for c in parsed.spec.columns].index(name)
    return [row[i] for row in parsed.rows]


def test_split_merge_positions_and_lineage(registry, delivered):
    got = _read(registry, delivered)
    assert not [r.message_en for p in got.values() for r in p.rejections]
    allowance = got["児童扶養手当.csv"]
    assert allowance.row_files == ["ひとり親_20261105.csv"] * 2
    assert allowance.row_numbers == [2, 5]  # the delivered file's own rows
    assert _col(allowance, "recipient_atena_no") == ["0000100001", "0000100004"]
    assert _col(allowance, "certified_on") == [dt.date(2024, 4, 1), dt.date(2019, 4, 30)]
    assert _col(allowance, "ended_on") == [None, dt.date(2020, 1, 1)]
    assert _col(allowance, "extracted_on") == [dt.date(2026, 11, 5)] * 2
    medical = got["ひとり親医療.csv"]
    assert medical.row_numbers == [3] and _col(medical, "valid_to") == [dt.date(2026, 3, 31)]

    care = got["保育所入所.csv"]
    assert list(zip(care.row_files, care.row_numbers, strict=True)) == [
        ("認可保育.tsv", 2),
        ("認可保育.tsv", 3),
        ("地域型.csv", 3),  # after its title line and header
    ]
    assert _col(care, "facility_type") == ["保育所", "認定こども園", "地域型保育"]
    assert _col(care, "enrolled_on") == [dt.date(2024, 4, 1), dt.date(2023, 4, 1), dt.date(2024, 4, 1)]
    assert _col(care, "left_on") == [None, dt.date(2025, 3, 31), None]
    assert {d.name: d.rows for d in care.delivered} == {"認可保育.tsv": 2, "地域型.csv": 1}
    assert care.delivered[0].columns["facility_type"] == "種別"
    assert care.delivered[1].columns["facility_type"] == "（固定値）"

    yotai = got["要対協.csv"]
    assert yotai.row_numbers == [1, 2]
    assert _col(yotai, "category") == ["要保護", "特定妊婦"]
    assert _col(yotai, "had_temporary_custody") == [True, False]
    assert yotai.delivered[0].columns["category"] == "2列目"
    # not in the mapping: read as the contract's own file, as before
    consult = got["児童相談記録.csv"]
    assert consult.rows_read == 1 and not consult.row_files


def _it(parsed):
    return [r for p in parsed.values() for r in p.rejections if r.for_it]


def _owner(parsed):
    return [r for p in parsed.values() for r in p.rejections if not r.for_it]


def test_mapping_problems_in_the_data_go_to_it(registry, delivered):
    write(delivered, "ひとり親_20261105.csv", [
        "宛名番号,世帯番号,制度,開始日,終了日",
        "0000100001,0000700001,01,2024/4/1,",        # not 和暦: date_style
        "0000100002,0000700002,03,令和5年4月1日,",    # no output takes 03: unrouted_row
        "0000100004,0000700004,01,R6.4.1,",
        "0000100005,0000700005,02,R6.4.1,",
    ])  # fmt: skip
    write(delivered, "YOTAI.csv", [
        "0000100020,A,20240401,,○,20240402,2026/11/05",
        "0000100021,D,20230115,,,,2026/11/05",        # D not in the code map
        "0000100022,E,20230115,,,,2026/11/05",        # nor E
        "0000100023,D,20230116,,,,2026/11/05",
    ])  # fmt: skip
    (delivered / "地域型.csv").write_bytes(
        "地域型\r\n児童コード,施設名,入所,退所\r\n0000100012,ぽっけ,45383,\r\n".encode()
    )
    got = _read(registry, delivered)
    it = {(r.rule, r.file): r for r in _it(got)}
    style = it[("date_style", "ひとり親_20261105.csv")]
    assert style.rows == [2] and style.column == "開始日" and "和暦" in style.message_ja
    assert it[("unrouted_row", "ひとり親_20261105.csv")].rows == [3]
    code = it[("unmapped_code", "YOTAI.csv")]
    assert code.rows == [2, 3, 4] and code.column == "2列目"
    assert "2種類" in code.message_ja and "D" not in code.message_ja.replace("YOTAI", "")
    missing = it[("mapping_column", "地域型.csv")]
    assert missing.column == "施設" and "ファイルにありません" in missing.message_ja
    assert not _owner(got), [r.message_ja for r in _owner(got)]


def test_data_problems_are_named_as_delivered(registry, delivered):
    write(delivered, "認可保育.tsv", [
        "児童コード\t施設\t種別\t入所\t退所",
        "0000100010\tさくら保育所\t1\t45383\t",
        "0000100011\t\t2\t45017\t45747",              # 施設 blank: required
        "合計\t2",
    ], "utf-8")  # fmt: skip
    write(delivered, "地域型.csv", [
        "地域型保育の入所者一覧",
        "児童コード,施設,入所,退所",
        "0000100010,ぽっけ,45383,",                    # same child and day as 認可保育.tsv row 2
    ], "utf-8")  # fmt: skip
    write(delivered, "ひとり親_20261205.csv", ["宛名番号,世帯番号,制度,開始日,終了日", "0000100001,,01,R6.4.1,"])
    (delivered / "ひとり親_20261105.csv").unlink()
    got = _read(registry, delivered)
    owner = {(r.rule, r.file): r for r in _owner(got)}
    blank = owner[("required_blank", "認可保育.tsv")]
    assert blank.rows == [3] and blank.column == "施設"
    assert owner[("duplicate_key", "認可保育.tsv")].rows == [2]
    assert owner[("duplicate_key", "地域型.csv")].rows == [3]
    assert owner[("duplicate_key", "地域型.csv")].column == "児童コード+入所"
    other = owner[("other_month", "ひとり親_20261205.csv")]
    assert other.rows == [2] and other.column == "（ファイル名）"
    assert not _it(got)


def test_a_contract_file_no_row_goes_to(registry, delivered):
    write(delivered, "ひとり親_20261105.csv", ["宛名番号,世帯番号,制度,開始日,終了日", "0000100001,,01,R6.4.1,"])
    got = _read(registry, delivered)
    empty = [r for r in _owner(got) if r.rule == "empty_file"]
    assert len(empty) == 1 and empty[0].file == "ひとり親_20261105.csv"
    assert "ひとり親医療.csv" in empty[0].message_ja  # the delivered file is not empty: no row went there


def test_missing_and_ambiguous_files(registry, delivered):
    (delivered / "YOTAI.csv").unlink()
    write(delivered, "ひとり親_20261106.csv", ["宛名番号,世帯番号,制度,開始日,終了日", "0000100001,,01,R6.4.1,"])
    got = _read(registry, delivered)
    rules = {(r.rule, r.file) for p in got.values() for r in p.rejections}
    assert ("missing_file", "YOTAI.csv") in rules  # the data owner did not deliver it
    assert ("ambiguous_file", "ひとり親_*.csv") in rules  # IT: which one is meant?
    assert all(not p.rows for name, p in got.items() if name in ("要対協.csv", "児童扶養手当.csv"))


def test_unreadable_delivered_files_keep_the_contracts_rules(registry, delivered):
    (delivered / "認可保育.tsv").write_bytes("児童コード\t施設\n".encode("utf-16"))
    (delivered / "YOTAI.csv").write_bytes(b'0000100020,"A,20240401\r\n')
    got = _read(registry, delivered)
    owner = {(r.rule, r.file) for r in _owner(got)}
    assert ("encoding", "認可保育.tsv") in owner and ("malformed_csv", "YOTAI.csv") in owner
