"""Each rejection rule: file, rows, column and rule are named; no personal value ever is.

These run the checks without a database (``check_file``); test_load.py covers the loading side.
"""

from __future__ import annotations

import datetime as dt

import pytest
from ingest_fixtures import build_source, personal_values, sample_rows, write_file
from mimamori.ingest.validate import RULES, check_file

MONTH = "2031-03"


def check(inbox, src):
    out = []
    for spec in src.files:
        out.extend(check_file(src, spec, inbox / MONTH / src.source / spec.file, MONTH).rejections)
    return out


def assert_no_values(rejections, values):
    assert values, "the fixture should have personal values"
    for r in rejections:
        for text in (r.message_ja, r.message_en):
            for v in values:
                assert v not in text, f"{r.rule} message leaks a fixture value"
            assert r.file in text and f"[{r.rule}]" in text
        assert r.rule in RULES


@pytest.fixture()
def jumin(tmp_path, registry):
    """(inbox, source, spec, rows) with 6 clean rows of 住民.csv."""
    src = registry["jumin"]
    build_source(tmp_path, MONTH, src, n=6)
    spec = src.file("住民.csv")
    return tmp_path, src, spec, sample_rows(spec, 6, MONTH)


def rewrite(inbox, src, spec, rows, **kw):
    write_file(inbox / MONTH / src.source / spec.file, spec, rows, **kw)


def only(rejections, rule):
    found = [r for r in rejections if r.rule == rule]
    assert found, f"no {rule} among {[r.rule for r in rejections]}"
    return found


def test_clean_sources_pass_and_parse(tmp_path, registry):
    for src in registry.values():
        build_source(tmp_path, MONTH, src, n=5)
        assert check(tmp_path, src) == [], src.source
    spec = registry["jumin"].file("住民.csv")
    parsed = check_file(registry["jumin"], spec, tmp_path / MONTH / "jumin" / "住民.csv", MONTH)
    assert parsed.rows_read == 5 and parsed.row_numbers == [2, 3, 4, 5, 6]
    birth = [r[4] for r in parsed.rows]
    assert birth[:3] == [dt.date(2015, 4, 1), dt.date(2016, 5, 2), dt.date(2017, 6, 3)]
    assert parsed.rows[0][5] == "1" and parsed.rows[0][10] is True and parsed.rows[1][10] is False


def test_encoding_cp932_file_delivered_as_utf8(jumin):
    inbox, src, spec, rows = jumin
    rewrite(inbox, src, spec, rows, encoding="utf-8")
    rej = check(inbox, src)
    assert [r.rule for r in rej] == ["encoding"]
    assert rej[0].file == "住民.csv" and "UTF-8" in rej[0].message_en and "UTF-8" in rej[0].message_ja
    assert_no_values(rej, personal_values(spec, rows))


def test_encoding_utf8_bom_file_delivered_as_cp932(tmp_path, registry):
    src = registry["kodomo_katei"]
    build_source(tmp_path, MONTH, src)
    spec = src.file("妊産婦.csv")
    write_file(tmp_path / MONTH / src.source / spec.file, spec, sample_rows(spec, 3, MONTH), encoding="cp932")
    rej = check(tmp_path, src)
    assert [(r.rule, r.file) for r in rej] == [("encoding", "妊産婦.csv")]
    assert "CP932" in rej[0].message_en


def test_missing_and_empty_files(tmp_path, registry):
    src = registry["kodomo_shien"]
    build_source(tmp_path, MONTH, src)
    folder = tmp_path / MONTH / src.source
    (folder / "要対協.csv").unlink()
    (folder / "児童扶養手当.csv").write_bytes(b"")
    spec = src.file("ひとり親医療.csv")
    write_file(folder / spec.file, spec, [])  # header only
    rej = check(tmp_path, src)
    assert {(r.rule, r.file) for r in rej} == {
        ("missing_file", "要対協.csv"),
        ("empty_file", "児童扶養手当.csv"),
        ("empty_file", "ひとり親医療.csv"),
    }


def test_missing_renamed_unexpected_columns(jumin):
    inbox, src, spec, rows = jumin
    header = spec.headers
    header[2] = "名前"  # 氏名 renamed (same position)
    drop = header.index("転入日")  # 転入日 missing
    header = header[:drop] + header[drop + 1 :] + ["備考"]
    body = [r[:drop] + r[drop + 1 :] + ["架空の備考"] for r in rows]
    rewrite(inbox, src, spec, body, header=header)
    rej = check(inbox, src)
    assert {(r.rule, r.column) for r in rej} == {
        ("renamed_column", "氏名"),
        ("missing_column", "転入日"),
        ("unexpected_column", None),
    }
    assert "3" in only(rej, "renamed_column")[0].message_en
    assert_no_values(rej, personal_values(spec, rows) | {"架空の備考"})


def test_missing_header_row_leaks_nothing(jumin):
    """A file delivered without its header row: the 'headers' are a person's data."""
    inbox, src, spec, rows = jumin
    rewrite(inbox, src, spec, rows[1:], header=rows[0])
    rej = check(inbox, src)
    assert {r.rule for r in rej} >= {"renamed_column"}
    assert_no_values(rej, personal_values(spec, rows))


def test_required_blank_bad_value_and_field_count(jumin):
    inbox, src, spec, rows = jumin
    rows[0][2] = ""  # 氏名 blank, row 2
    rows[2][2] = "　"  # 氏名 blank (full-width space), row 4
    rows[1][4] = "2015-02-30"  # 生年月日 impossible calendar date, row 3
    rows[3][4] = "平成32年1月1日"  # era year out of range, row 5
    rows[4][5] = "9"  # 性別 not in the code list, row 6
    rows[5][10] = "はい"  # 支援措置 not 有/無, row 7
    rows.append(rows[0][:5])  # too few fields, row 8
    rewrite(inbox, src, spec, rows)
    rej = check(inbox, src)
    assert {(r.rule, r.column, tuple(r.rows)) for r in rej} >= {
        ("required_blank", "氏名", (2, 4)),
        ("bad_value", "生年月日", (3,)),
        ("bad_value", "生年月日", (5,)),
        ("bad_value", "性別", (6,)),
        ("bad_value", "支援措置", (7,)),
        ("field_count", None, (8,)),
    }
    assert_no_values(rej, personal_values(spec, rows))


def test_impossible_dates_but_date_end_may_lie_ahead(tmp_path, registry):
    src = registry["kodomo_shien"]
    build_source(tmp_path, MONTH, src)
    spec = src.file("児童扶養手当.csv")
    rows = sample_rows(spec, 4, MONTH)
    rows[1][2] = "2031-05-01"  # 認定日 after 抽出日 (2031-04-05)
    rows[2][2] = "1899/12/31"  # before 1900
    rows[3][3] = "2040-03-31"  # 喪失日 (date_end) ahead: fine
    write_file(tmp_path / MONTH / src.source / spec.file, spec, rows)
    rej = check(tmp_path, src)
    assert sorted((r.rule, r.column, tuple(r.rows)) for r in rej) == [
        ("impossible_date", "認定日", (3,)),
        ("impossible_date", "認定日", (4,)),
    ]


def test_future_birth_date(jumin):
    inbox, src, spec, rows = jumin
    rows[3][4] = "令和20年1月1日"
    rewrite(inbox, src, spec, rows)
    rej = check(inbox, src)
    assert [(r.rule, r.column, r.rows) for r in rej] == [("impossible_date", "生年月日", [5])]
    assert_no_values(rej, personal_values(spec, rows) | {"令和20年1月1日", "2038-01-01"})


def test_duplicate_key_after_normalisation(jumin):
    inbox, src, spec, rows = jumin
    rows[4][0] = "".join(chr(ord(c) + 0xFEE0) for c in rows[1][0])  # same 宛名番号 in full width
    rewrite(inbox, src, spec, rows)
    rej = check(inbox, src)
    assert [(r.rule, r.column, r.rows) for r in rej] == [("duplicate_key", "宛名番号", [3, 6])]
    assert_no_values(rej, personal_values(spec, rows))


def test_composite_key(tmp_path, registry):
    src = registry["kodomo_shien"]
    build_source(tmp_path, MONTH, src)
    spec = src.file("要対協.csv")
    rows = sample_rows(spec, 3, MONTH)
    rows[2][0:3] = rows[0][0:3]  # same person, category and 登録日: duplicate
    write_file(tmp_path / MONTH / src.source / spec.file, spec, rows)
    rej = check(tmp_path, src)
    assert [(r.rule, r.column, r.rows) for r in rej] == [("duplicate_key", "宛名番号+区分+登録日", [2, 4])]
    rows[2][2] = "2031/1/1"  # another registration date: not a duplicate
    write_file(tmp_path / MONTH / src.source / spec.file, spec, rows)
    assert check(tmp_path, src) == []


def test_other_month(jumin):
    inbox, src, spec, rows = jumin
    rows[0][11] = "2031-02-27"  # before the run month
    rows[1][11] = "2031-04-16"  # 16 days after its last day
    rows[2][11] = "2031-04-15"  # day 15: fine
    rows[3][11] = "2031-03-01"  # in the month: fine
    rewrite(inbox, src, spec, rows)
    rej = check(inbox, src)
    assert [(r.rule, r.column, r.rows) for r in rej] == [("other_month", "抽出日", [2, 3])]


def test_truncated_xlsx(tmp_path, registry):
    src = registry["gakko"]
    build_source(tmp_path, MONTH, src)
    path = tmp_path / MONTH / src.source / "出欠.xlsx"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 2 // 3])
    rej = check(tmp_path, src)
    assert [(r.rule, r.file) for r in rej] == [("truncated_xlsx", "出欠.xlsx")]


def test_xlsx_cells_typed(tmp_path, registry):
    src = registry["gakko"]
    build_source(tmp_path, MONTH, src, n=4)
    spec = src.file("出欠.xlsx")
    parsed = check_file(src, spec, tmp_path / MONTH / "gakko" / "出欠.xlsx", MONTH)
    assert parsed.rejections == [] and parsed.rows_read == 4
    assert parsed.rows[0][5] == dt.date(2015, 4, 1)  # a datetime cell
    assert parsed.rows[1][6] == 2 and parsed.rows[0][6] == 1


def test_all_problems_at_once_and_long_row_lists(jumin, registry):
    inbox, src, spec, _ = jumin
    rows = sample_rows(spec, 30, MONTH)
    for r in rows:
        r[2] = ""  # 30 blank names
    rows[5][4] = "2015-02-30"
    rows[7][0] = rows[6][0]
    rewrite(inbox, src, spec, rows)
    rej = check(inbox, src)
    assert {r.rule for r in rej} == {"required_blank", "bad_value", "duplicate_key"}
    blank = only(rej, "required_blank")[0]
    assert blank.rows == list(range(2, 32))
    assert "ほか10行（計30行）" in blank.message_ja and "and 10 more (30 rows)" in blank.message_en
    assert_no_values(rej, personal_values(spec, sample_rows(spec, 30, MONTH)))
