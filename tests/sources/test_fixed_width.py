"""Fixed-width (固定長) 住民記録 exports on real CP932 bytes (issue 21 step 3): positions counted in
bytes as the vendor counts them (a full-width character is two), a layout that cuts a character
or runs past a line is IT's ``layout_mismatch`` naming the file, row and field, and a good file
loads through the real loader with its lineage. Values are compared through booleans only: no
name, address or birth date is ever printed, even a synthetic one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from mimamori.ingest import IngestRejected, ingest_source
from mimamori.ingest.limits import Limits
from mimamori.sources.apply import read_mapped_source
from mimamori.sources.mapping import parse_mapping

MONTH = "2033-09"
LIMITS = Limits(max_file_bytes=1 << 24, max_rows=100_000, max_line_bytes=65536, max_field_chars=4096)

MAPPING = """\
source: jumin
inputs:
  - name: juki
    files: "JUKI_*.DAT"
    format: fixed
    encoding: cp932
    units: bytes
    line_length: 75
    skip:
      - line_matches: '^TRL'             # the trailer: record count
    layout:
      - {name: 宛名番号, start: 1, length: 10}
      - {name: 世帯番号, start: 11, length: 10}
      - {name: 氏名, start: 21, length: 12}
      - {name: カナ, start: 33, length: 12}
      - {name: 性別, start: 45, length: 1}
      - {name: 生年月日, start: 46, length: 7}
      - {name: 続柄, start: 53, length: 6}
      - {name: 住所, start: 59, end: 74}
      - {name: 支援, start: 75, length: 1}
outputs:
  - file: 住民.csv
    from: juki
    columns:
      宛名番号: 宛名番号
      世帯番号: 世帯番号
      氏名: 氏名
      カナ氏名: カナ
      生年月日: {from: 生年月日, date: wareki_code}
      性別: {from: 性別, codes: {"1": 男, "2": 女}}
      続柄: 続柄
      住所: 住所
      住民となった日: {from: 生年月日, date: wareki_code}
      支援措置: {from: 支援, codes: {"1": 有, "0": 無}}
      抽出日: {from_file_name: '_(\\d{8})\\.DAT$', date: yyyymmdd}
"""


def _field(text: str, nbytes: int) -> bytes:
    b = text.encode("cp932")
    assert len(b) <= nbytes
    return b + b" " * (nbytes - len(b))


def _line(atena: str, name: str, kana: str, sex: str, born: str, rel: str, addr: str, dv: str) -> bytes:
    return (
        _field(atena, 10)
        + _field("0000900001", 10)
        + _field(name, 12)
        + _field(kana, 12)
        + _field(sex, 1)
        + _field(born, 7)
        + _field(rel, 6)
        + _field(addr, 16)
        + _field(dv, 1)
    )


ROWS = [  # placeholders, not names: 全角 and 半角 mixed so that byte positions matter
    ("0000900101", "甲　乙", "ｺｳ ｵﾂ", "1", "5010501", "子", "見守町１－２", "0"),
    ("0000900102", "丙　丁", "ﾍｲ ﾃｲ", "2", "4310430", "世帯主", "見守町３－４", "1"),
]


def _deliver(folder: Path, lines: list[bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "JUKI_20331005.DAT"
    path.write_bytes(b"".join(line + b"\r\n" for line in lines))
    return path


def _good_lines() -> list[bytes]:
    return [_line(*r) for r in ROWS] + [b"TRL000002"]


def _read(registry, folder: Path, text: str = MAPPING):
    mapping = parse_mapping(text, Path("jumin.yaml"), registry)
    [parsed] = read_mapped_source(mapping, registry["jumin"], folder, MONTH, LIMITS)
    return parsed


def test_byte_positions_with_full_width_characters(registry, tmp_path):
    parsed = _read(registry, _deliver(tmp_path / "in", _good_lines()).parent)
    assert not [r.message_en for r in parsed.rejections]
    assert parsed.row_numbers == [1, 2] and parsed.row_files == ["JUKI_20331005.DAT"] * 2
    cols = [c.column for c in parsed.spec.columns]
    got = {c: [row[i] for row in parsed.rows] for i, c in enumerate(cols)}
    assert got["atena_no"] == ["0000900101", "0000900102"]
    assert got["sex"] == ["1", "2"] and got["has_dv_protection"] == [False, True]
    assert got["birth_date"] == [dt.date(2019, 5, 1), dt.date(2019, 4, 30)]
    assert got["extracted_on"] == [dt.date(2033, 10, 5)] * 2
    same_text = got["name"] == [r[1] for r in ROWS] and got["address"] == [r[6] for r in ROWS]
    assert same_text, "氏名 / 住所 not cut at their byte positions"
    assert parsed.delivered[0].columns["name"] == "氏名（21〜32）"


def test_a_boundary_inside_a_full_width_character_names_the_row_and_field(registry, tmp_path):
    folder = _deliver(tmp_path / "in", _good_lines()).parent
    text = MAPPING.replace("{name: 氏名, start: 21, length: 12}", "{name: 氏名, start: 22, length: 11}").replace(
        "{name: 世帯番号, start: 11, length: 10}", "{name: 世帯番号, start: 11, length: 11}"
    )
    parsed = _read(registry, folder, text)
    problems = [(r.rule, r.file, tuple(r.rows), r.column, r.for_it) for r in parsed.rejections]
    assert ("layout_mismatch", "JUKI_20331005.DAT", (1, 2), "氏名（22〜32）", True) in problems
    assert all("甲" not in r.message_ja and "丙" not in r.message_ja for r in parsed.rejections)


def test_a_line_shorter_than_the_layout(registry, tmp_path):
    lines = _good_lines()
    lines[1] = lines[1][:62]  # cut inside 住所
    parsed = _read(registry, _deliver(tmp_path / "in", lines).parent)
    [rej] = [r for r in parsed.rejections if r.rule == "layout_mismatch"]
    assert (rej.file, rej.rows, rej.for_it) == ("JUKI_20331005.DAT", [2], True)
    assert "短い" in rej.message_ja


def test_a_layout_past_the_line_length_is_a_mapping_mistake_with_its_line(registry):
    from mimamori.sources.mapping import MappingError

    text = MAPPING.replace("{name: 支援, start: 75, length: 1}", "{name: 支援, start: 75, length: 2}")
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, Path("jumin.yaml"), registry)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "name: 支援" in t)
    assert [(p.line, "超えて" in p.message_ja) for p in exc.value.problems] == [(line, True)]


def test_a_fixed_width_export_loads_with_its_lineage(registry, tmp_path, loader_dsn, wh_conn):
    town = tmp_path / "town"
    (town / "sources").mkdir(parents=True)
    (town / "sources" / "jumin.yaml").write_text(MAPPING, encoding="utf-8")
    path = _deliver(tmp_path / "inbox" / MONTH / "jumin", _good_lines())
    run_id = "fixed-width-1"
    try:
        result = ingest_source(
            "jumin", MONTH, tmp_path / "inbox", loader_dsn, tmp_path / "quarantine", run_id=run_id,
            registry=registry, town=town, log=lambda _: None,
        )  # fmt: skip
        assert result.ok
        rows = wh_conn.execute(
            "select source_file, source_row_number, atena_no from raw.jumin__residents"
            " where run_month = %s and run_id = %s order by 2",
            (MONTH, run_id),
        ).fetchall()
        assert rows == [("JUKI_20331005.DAT", 1, "0000900101"), ("JUKI_20331005.DAT", 2, "0000900102")]
        # a code the map lacks: rejected for IT, nothing in raw, the file stays in the inbox
        lines = _good_lines()
        lines[0] = lines[0][:44] + b"9" + lines[0][45:]
        path.write_bytes(b"".join(line + b"\r\n" for line in lines))
        with pytest.raises(IngestRejected) as exc:
            ingest_source(
                "jumin", MONTH, tmp_path / "inbox", loader_dsn, tmp_path / "quarantine", run_id=run_id + "b",
                registry=registry, town=town, log=lambda _: None,
            )  # fmt: skip
        [rej] = exc.value.result.rejections
        assert (rej.rule, rej.file, rej.rows, rej.column) == (
            "unmapped_code",
            "JUKI_20331005.DAT",
            [1],
            "性別（45〜45）",
        )
        assert path.exists()
        n = wh_conn.execute(
            "select count(*) from raw.jumin__residents where run_month = %s and run_id = %s", (MONTH, run_id + "b")
        ).fetchone()
        assert n == (0,)
    finally:
        wh_conn.execute("delete from raw.jumin__residents where run_month = %s", (MONTH,))
        for table in ("file_loads", "rejections", "run_steps", "deliveries"):
            wh_conn.execute(f"delete from ingest.{table} where run_month = %s", (MONTH,))
