"""Declared date styles: a value is in its style or it is a date_style problem; a date that the style
reads but the calendar does not know is the data's problem (bad_value)."""

from __future__ import annotations

import datetime as dt

import pytest
from mimamori.ingest.parse import ParseError
from mimamori.sources.dates import DateStyle, StyleError, parse_styled_date, parse_styled_month

D = dt.date


@pytest.mark.parametrize(
    ("style", "value", "expected"),
    [
        ("ymd", "2015-04-01", D(2015, 4, 1)),
        ("ymd", "2015/4/1", D(2015, 4, 1)),
        ("ymd", "2015.4.1", D(2015, 4, 1)),
        ("ymd", "2015年4月1日", D(2015, 4, 1)),
        ("ymd", "２０１５／０４／０１", D(2015, 4, 1)),
        ("yyyymmdd", "20150401", D(2015, 4, 1)),
        ("yyyymmdd", 20150401, D(2015, 4, 1)),
        ("wareki", "令和6年4月1日", D(2024, 4, 1)),
        ("wareki", "令和元年5月1日", D(2019, 5, 1)),
        ("wareki", "R6.4.1", D(2024, 4, 1)),
        ("wareki", "R06/04/01", D(2024, 4, 1)),
        ("wareki", "r6-4-1", D(2024, 4, 1)),
        ("wareki", "H31.4.30", D(2019, 4, 30)),
        ("wareki", "H元.1.8", D(1989, 1, 8)),
        ("wareki", "R060401", D(2024, 4, 1)),
        ("wareki", "Ｒ６．４．１", D(2024, 4, 1)),
        ("wareki", "令6.4.1", D(2024, 4, 1)),
        ("wareki", "昭和64年1月7日", D(1989, 1, 7)),
        ("wareki", "S60.1.9", D(1985, 1, 9)),
        ("wareki_code", "5060401", D(2024, 4, 1)),
        ("wareki_code", "4310430", D(2019, 4, 30)),
        ("wareki_code", "3600109", D(1985, 1, 9)),
        ("excel_serial", "45383", D(2024, 4, 1)),
        ("excel_serial", 45383, D(2024, 4, 1)),
        ("excel_serial", 45383.0, D(2024, 4, 1)),
        ("excel_serial", "61", D(1900, 3, 1)),
        ("excel_serial", "59", D(1900, 2, 28)),
        ("excel_serial", "1", D(1900, 1, 1)),
    ],
)
def test_each_style_reads_its_own_forms(style, value, expected):
    assert parse_styled_date(value, DateStyle(style)) == expected


def test_a_format_pattern():
    assert parse_styled_date("01/04/2024", DateStyle("format", "%d/%m/%Y")) == D(2024, 4, 1)
    assert parse_styled_date("2024年04月01日生", DateStyle("format", "%Y年%m月%d日生")) == D(2024, 4, 1)
    with pytest.raises(StyleError):
        parse_styled_date("2024-04-01", DateStyle("format", "%d/%m/%Y"))
    with pytest.raises(ParseError):
        parse_styled_date("31/02/2024", DateStyle("format", "%d/%m/%Y"))


@pytest.mark.parametrize(
    ("style", "value"),
    [
        ("ymd", "20150401"),
        ("ymd", "R6.4.1"),
        ("yyyymmdd", "2015/04/01"),
        ("yyyymmdd", "2015041"),
        ("wareki", "2015/4/1"),
        ("wareki", "20150401"),
        ("wareki", "X6.4.1"),
        ("wareki_code", "6060401"),  # no era 6
        ("wareki_code", "R060401"),
        ("excel_serial", "2024-04-01"),
        ("excel_serial", "令和6年4月1日"),
        ("ymd", 45383),  # a number is a date only in the styles that say so
    ],
)
def test_a_value_in_another_form_is_a_style_problem(style, value):
    with pytest.raises(StyleError):
        parse_styled_date(value, DateStyle(style))


@pytest.mark.parametrize(
    ("style", "value", "reason"),
    [
        ("wareki", "H31.5.1", "era_out_of_range"),  # 平成 ended on 30 April 2019
        ("wareki", "平成32年1月1日", "era_out_of_range"),
        ("wareki", "令和0年1月1日", "era_out_of_range"),
        ("wareki", "令和6年2月30日", "invalid_date"),
        ("wareki_code", "4310501", "era_out_of_range"),
        ("ymd", "2015/13/45", "invalid_date"),
        ("yyyymmdd", "20150229", "invalid_date"),
        ("excel_serial", "60", "invalid_date"),  # Excel's 29 February 1900
        ("excel_serial", "0", "invalid_date"),
    ],
)
def test_a_date_the_calendar_does_not_have_is_the_datas_problem(style, value, reason):
    with pytest.raises(ParseError) as exc:
        parse_styled_date(value, DateStyle(style))
    assert exc.value.reason == reason
    assert value not in str(exc.value)  # the message never quotes the value


def test_spreadsheet_date_cells_are_dates_in_any_style():
    for style in ("ymd", "yyyymmdd", "wareki", "wareki_code", "excel_serial"):
        assert parse_styled_date(dt.datetime(2024, 4, 1), DateStyle(style)) == D(2024, 4, 1)


@pytest.mark.parametrize(
    ("style", "value", "expected"),
    [
        ("yyyymm", "202404", D(2024, 4, 1)),
        ("ym", "2024-04", D(2024, 4, 1)),
        ("ym", "2024/4", D(2024, 4, 1)),
        ("ym", "2024年4月", D(2024, 4, 1)),
        ("wareki", "令和6年4月", D(2024, 4, 1)),
        ("wareki", "R6.4", D(2024, 4, 1)),
        ("wareki", "R0604", D(2024, 4, 1)),
        ("wareki", "令和元年5月", D(2019, 5, 1)),
        ("wareki", "R6.4.15", D(2024, 4, 1)),
        ("wareki_code", "50604", D(2024, 4, 1)),
        ("yyyymmdd", "20240415", D(2024, 4, 1)),
        ("excel_serial", "45383", D(2024, 4, 1)),
    ],
)
def test_month_styles(style, value, expected):
    assert parse_styled_month(value, DateStyle(style)) == expected


def test_month_style_problems():
    with pytest.raises(StyleError):
        parse_styled_month("2024-04", DateStyle("yyyymm"))
    with pytest.raises(ParseError):
        parse_styled_month("H31.5", DateStyle("wareki"))
