"""Parsing units: every date form of the domain, months, ints, flags, codes, ids, encodings, xlsx."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from mimamori.ingest.parse import (
    DecodeError,
    FileProblem,
    ParseError,
    converter,
    decode_text,
    detect_encoding,
    parse_date,
    parse_month,
    read_csv_bytes,
    read_xlsx_bytes,
)
from mimamori.ingest.registry import ColumnSpec

D = dt.date


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2015-04-01", D(2015, 4, 1)),
        ("2015/4/1", D(2015, 4, 1)),
        ("2015.4.1", D(2015, 4, 1)),
        ("20150401", D(2015, 4, 1)),
        ("2015年4月1日", D(2015, 4, 1)),
        ("2015/04/01 00:00:00", D(2015, 4, 1)),
        ("平成27年4月1日", D(2015, 4, 1)),
        ("平成27年04月01日", D(2015, 4, 1)),
        ("H27.4.1", D(2015, 4, 1)),
        ("h27.4.1", D(2015, 4, 1)),
        ("H27/4/1", D(2015, 4, 1)),
        ("H27-4-1", D(2015, 4, 1)),
        ("R5/4/1", D(2023, 4, 1)),
        ("令和5年4月1日", D(2023, 4, 1)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("R元.5.1", D(2019, 5, 1)),
        ("R1.5.1", D(2019, 5, 1)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("S60.1.9", D(1985, 1, 9)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        ("大正15年1月1日", D(1926, 1, 1)),
        ("T1.7.30", D(1912, 7, 30)),
        ("M45.7.29", D(1912, 7, 29)),
        ("明治33年1月1日", D(1900, 1, 1)),
        ("２０１５／０４／０１", D(2015, 4, 1)),
        ("２０１５－４－１", D(2015, 4, 1)),
        ("平成２７年４月１日", D(2015, 4, 1)),
        ("Ｈ２７．４．１", D(2015, 4, 1)),
        ("㍻27年4月1日", D(2015, 4, 1)),
        (" 2015-04-01 ", D(2015, 4, 1)),
        ("平成 27年 4月 1日", D(2015, 4, 1)),
    ],
)
def test_date_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text, reason",
    [
        ("2015-02-30", "invalid_date"),
        ("平成27年2月30日", "invalid_date"),
        ("20150230", "invalid_date"),
        ("2015-13-01", "invalid_date"),
        ("平成31年5月1日", "era_out_of_range"),  # 令和元年5月1日 is the same day; H31 ended 4/30
        ("平成32年1月1日", "era_out_of_range"),
        ("令和元年4月30日", "era_out_of_range"),  # still 平成
        ("昭和65年1月1日", "era_out_of_range"),
        ("昭和64年1月8日", "era_out_of_range"),
        ("H0.1.1", "era_out_of_range"),
        ("大正16年1月1日", "era_out_of_range"),
        ("X27.4.1", "unrecognised"),
        ("2015-4", "unrecognised"),
        ("abc", "unrecognised"),
        ("2015/4-1", "unrecognised"),
        ("27.4.1", "unrecognised"),
    ],
)
def test_invalid_dates(text, reason):
    with pytest.raises(ParseError) as exc:
        parse_date(text)
    assert exc.value.reason == reason
    assert text.strip() not in str(exc.value)  # the message never repeats the value


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-10", D(2025, 10, 1)),
        ("2025/10", D(2025, 10, 1)),
        ("2025/1", D(2025, 1, 1)),
        ("202510", D(2025, 10, 1)),
        ("2025年10月", D(2025, 10, 1)),
        ("令和7年10月", D(2025, 10, 1)),
        ("R7.10", D(2025, 10, 1)),
        ("令和元年5月", D(2019, 5, 1)),
        ("平成31年4月", D(2019, 4, 1)),
        ("２０２５－１０", D(2025, 10, 1)),
        ("2025-10-15", D(2025, 10, 1)),
    ],
)
def test_month_forms(text, expected):
    assert parse_month(text) == expected


@pytest.mark.parametrize("text", ["2025-13", "平成31年5月", "令和元年4月", "10月", ""])
def test_invalid_months(text):
    with pytest.raises(ParseError):
        parse_month(text)


def col(type_: str, column: str = "x") -> ColumnSpec:
    return ColumnSpec(header="見出し", column=column, type=type_, required=True)


def test_int_flag_code_id_text():
    to_int = converter(col("int"))
    assert to_int("12") == 12 and to_int("１２") == 12 and to_int(" 3 ") == 3 and to_int(7.0) == 7
    assert to_int("1,234") == 1234 and to_int("-2") == -2
    for bad in ("1.5", "十", "12a", 1.5):
        with pytest.raises(ParseError):
            to_int(bad)
    flag = converter(col("flag:有/無"))
    assert flag("有") is True and flag("無") is False and flag(" 有 ") is True
    with pytest.raises(ParseError):
        flag("はい")
    sex = converter(col("code:1=男,2=女"))
    assert sex("1") == "1" and sex("２") == "2" and sex("女") == "2"
    with pytest.raises(ParseError):
        sex("3")
    cat = converter(col("code:要保護,要支援,特定妊婦"))
    assert cat("要支援") == "要支援"
    with pytest.raises(ParseError):
        cat("要観察")
    care = converter(col("code:要支援1,要支援2,要介護1"))
    assert care("要支援１") == "要支援1"
    ident = converter(col("id"))
    assert ident(" ０１２３４５ ") == "012345" and ident(12345) == "12345" and ident(12345.0) == "12345"
    text = converter(col("text"))
    decomposed = "ハ\u309a"  # パ as two code points
    assert text(decomposed) == "パ"
    assert text("見守　花子") == "見守　花子"  # full-width space kept: name folding is dbt's job
    assert text("ﾐﾏﾓﾘ") == "ﾐﾏﾓﾘ"
    date = converter(col("date"))
    assert date(dt.datetime(2015, 4, 1)) == D(2015, 4, 1) and date(20150401) == D(2015, 4, 1)
    month = converter(col("month"))
    assert month(dt.datetime(2025, 10, 1)) == D(2025, 10, 1)


SAMPLE = "宛名番号,氏名\r\n001,見守　花子\r\n"


def test_decode_cp932_strict_and_detects_utf8():
    assert decode_text(SAMPLE.encode("cp932"), "cp932") == SAMPLE
    assert decode_text(b"a,b\r\n1,2\r\n", "cp932") == "a,b\r\n1,2\r\n"  # ASCII is fine
    with pytest.raises(DecodeError) as exc:
        decode_text(SAMPLE.encode("utf-8"), "cp932")
    assert exc.value.rule == "encoding" and exc.value.detected == "utf-8"
    assert "UTF-8" in exc.value.message_ja and "UTF-8" in exc.value.message_en
    with pytest.raises(DecodeError) as exc:
        decode_text(SAMPLE.encode("utf-8-sig"), "cp932")
    assert exc.value.detected == "utf-8-sig"
    with pytest.raises(DecodeError) as exc:
        decode_text(SAMPLE.encode("utf-16"), "cp932")
    assert exc.value.detected == "utf-16"
    with pytest.raises(DecodeError) as exc:
        decode_text(b"\x82\xa0\xff\xfe\x00garbage\x81", "cp932")
    assert exc.value.rule == "encoding"


def test_decode_utf8_sig_with_or_without_bom_detects_cp932():
    assert decode_text(SAMPLE.encode("utf-8-sig"), "utf-8-sig") == SAMPLE
    assert decode_text(SAMPLE.encode("utf-8"), "utf-8-sig") == SAMPLE
    with pytest.raises(DecodeError) as exc:
        decode_text(SAMPLE.encode("cp932"), "utf-8-sig")
    assert exc.value.detected == "cp932" and "CP932" in exc.value.message_en
    with pytest.raises(DecodeError):
        decode_text(SAMPLE.encode("utf-16"), "utf-8-sig")
    assert detect_encoding(b"PK\x03\x04rest") == "xlsx"


def test_csv_crlf_lf_quotes_and_blank_lines():
    crlf = read_csv_bytes('a,b\r\n1,"x,y"\r\n\r\n2,z\r\n'.encode("cp932"), "cp932")
    lf = read_csv_bytes('a,b\n1,"x,y"\n\n2,z\n'.encode("cp932"), "cp932")
    for t in (crlf, lf):
        assert t.header == ["a", "b"]
        assert t.records == [["1", "x,y"], ["2", "z"]]
        assert t.row_numbers == [2, 4]  # the blank line keeps its number
    bom = read_csv_bytes("a,b\r\n1,2\r\n".encode("utf-8-sig"), "utf-8-sig")
    assert bom.header == ["a", "b"]


def _xlsx(rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_saved_results(raw: bytes, result: str) -> bytes:
    """The workbook as Excel would save it: each formula cell keeps its last result."""
    src, buf = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<v />", f"<v>{result}</v>".encode())
            out.writestr(info, data)
    return buf.getvalue()


def test_an_xlsx_formula_without_its_result_is_refused_not_read_as_blank():
    rows = [["学校", "生年月日", "欠席日数"], ["架空小", dt.datetime(2015, 4, 1), 3], ["架空中", None, "=B2+1"]]
    raw = _xlsx(rows)
    with pytest.raises(FileProblem) as exc:
        read_xlsx_bytes(raw)
    assert exc.value.rule == "formula_cell" and exc.value.rows == [3]
    assert "架空" not in exc.value.message_ja
    # Saved by a program that calculated it: the result is the value, the blank stays a blank.
    t = read_xlsx_bytes(_with_saved_results(raw, "4"))
    assert t.records[1] == ["架空中", None, 4]


def test_xlsx_read_and_truncated():
    raw = _xlsx([["学校", "生年月日", "欠席日数"], ["架空小", dt.datetime(2015, 4, 1), 3], [None, None, None]])
    t = read_xlsx_bytes(raw)
    assert t.header == ["学校", "生年月日", "欠席日数"]
    assert t.records == [["架空小", dt.datetime(2015, 4, 1), 3]]
    assert t.row_numbers == [2]
    for cut in (len(raw) // 2, len(raw) - 30, 200):
        with pytest.raises(DecodeError) as exc:
            read_xlsx_bytes(raw[:cut])
        assert exc.value.rule == "truncated_xlsx"
    with pytest.raises(DecodeError) as exc:
        read_xlsx_bytes("学校\r\n".encode("cp932"))
    assert exc.value.rule == "encoding" and exc.value.detected == "cp932"
