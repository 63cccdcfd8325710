"""Date styles a mapping declares for a column, parsed strictly: a value is in the style or it is not.

The contract's own parser (:func:`mimamori.ingest.parse.parse_date`) accepts every form the domain
knows, which is right for files in the contract layout. A town's mapping says instead which one
style a vendor's column has, so that a value in another form is found (``date_style``, mailed to
IT: the mapping or the export is not what was agreed) rather than read as something else — a
``05/04/03`` or a bare number is only a date in the style that says so.

Styles (``date:`` in a mapping; docs/onboarding.md):

=================  =====================================================================
``ymd``            西暦 with separators: ``2015-04-01``, ``2015/4/1``, ``2015.4.1``, ``2015年4月1日``
``yyyymmdd``       eight digits ``20150401`` (a number cell too)
``wareki``         和暦: ``令和6年4月1日``, ``令和元年5月1日``, ``R6.4.1``, ``R06/04/01``, ``H31.4.30``,
                   ``R060401`` (era letter + six digits), ``令6.4.1``
``wareki_code``    元号コード + YYMMDD, seven digits: ``5060401`` (1 明治, 2 大正, 3 昭和, 4 平成, 5 令和)
``excel_serial``   days since 1899-12-30 as Excel counts them (``45383`` = 2024-04-01)
``{format: …}``    a Python ``strptime`` pattern, e.g. ``"%d/%m/%Y"``
=================  =====================================================================

A year in an integer column (``year:`` in a mapping, e.g. 認定年度 — the Gregorian year a fiscal year starts):
``wareki`` (``R7``, ``R07``, ``令和7``, ``令7``, ``令和7年``, ``令和7年度``, ``令和元年度``, ``H31``) or ``seireki``
(``2025``, ``2025年``, ``2025年度``) gives the Gregorian year (2025); a 年度 needs no other arithmetic, as the year
the fiscal year starts is the year its era-year names.

A month column (type ``month``) takes ``yyyymm`` (``202404``), ``ym`` (``2024-04``, ``2024/4``,
``2024年4月``), ``wareki`` (``令和6年4月``, ``R6.4``, ``R0604``), ``wareki_code`` (``50604``), or any
date style above (the day is dropped). Full-width digits and separators are accepted in every
style, and a real date cell of a spreadsheet is a date whatever the style.

Errors carry a reason code, never the value (:class:`StyleError` for "not this style",
:class:`mimamori.ingest.parse.ParseError` for "this style, but no such date").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from mimamori.ingest.parse import ERAS, ParseError, date_text, make_date

DATE_STYLES = ("ymd", "yyyymmdd", "wareki", "wareki_code", "excel_serial")
MONTH_STYLES = ("yyyymm", "ym", "wareki", "wareki_code")
YEAR_STYLES = ("wareki", "seireki")
STYLE_JA = {
    "ymd": "西暦（区切りあり）",
    "yyyymmdd": "西暦8桁",
    "wareki": "和暦",
    "wareki_code": "元号コード＋年月日7桁",
    "excel_serial": "Excelシリアル値",
    "yyyymm": "西暦6桁（年月）",
    "ym": "西暦（年月・区切りあり）",
    "format": "書式指定",
    "seireki": "西暦の年",
}
#: How a year style is named in messages (``year:``).
YEAR_JA = {"wareki": "和暦の年（R7・令和7年度など）", "seireki": "西暦の年（2025・2025年度など）"}

_ERA_KANJI = {e.name: e for e in ERAS}
_ERA_LETTER = {e.letter: e for e in ERAS}
_ERA_ABBR = {e.name[0]: e for e in ERAS}  # 令6.4.1, 平31.4.30
_ERA_CODE = {str(i + 1): e for i, e in enumerate(ERAS)}  # 1 明治 … 5 令和
_ERA_KEY = "|".join([*_ERA_KANJI, *_ERA_LETTER, *_ERA_ABBR])

_YMD_SEP = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_YMD_KANJI = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_DIGITS8 = re.compile(r"^\d{8}$")
_WAREKI = re.compile(rf"^({_ERA_KEY})(元|\d{{1,2}})(?:年(\d{{1,2}})月(\d{{1,2}})日?|([-/.])(\d{{1,2}})\5(\d{{1,2}}))$")
_WAREKI_COMPACT = re.compile(rf"^({_ERA_KEY})(\d{{2}})(\d{{2}})(\d{{2}})$")
_WAREKI_CODE = re.compile(r"^([1-5])(\d{2})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,7}(?:\.0+)?$")

_WAREKI_YEAR = re.compile(rf"^({_ERA_KEY})(元|\d{{1,2}})(?:年度?)?$")
_SEIREKI_YEAR = re.compile(r"^(\d{4})(?:年度?)?$")
_SEIREKI_YEAR_SUFFIXED = re.compile(r"^\d{4}年度?$")

_YM_SEP = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_YM_KANJI = re.compile(r"^(\d{4})年(\d{1,2})月$")
_DIGITS6 = re.compile(r"^\d{6}$")
_WAREKI_MONTH = re.compile(rf"^({_ERA_KEY})(元|\d{{1,2}})(?:年(\d{{1,2}})月|[-/.](\d{{1,2}}))$")
_WAREKI_MONTH_COMPACT = re.compile(rf"^({_ERA_KEY})(\d{{2}})(\d{{2}})$")
_WAREKI_CODE_MONTH = re.compile(r"^([1-5])(\d{2})(\d{2})$")

EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Excel counts a 29 February 1900 that never was: serials up to 60 are one day off.
_EXCEL_LEAP_BUG = 60


class StyleError(ValueError):
    """The value is not written in the declared style (a mapping problem: ``date_style``)."""


@dataclass(frozen=True)
class DateStyle:
    """A declared style: one of the names above, or ``format`` with a strptime pattern."""

    name: str
    pattern: str = ""

    @property
    def label_ja(self) -> str:
        return STYLE_JA.get(self.name, self.name) + (f"「{self.pattern}」" if self.pattern else "")


def _era(key: str):
    return _ERA_KANJI.get(key) or _ERA_LETTER.get(key) or _ERA_ABBR.get(key)


def _era_date(era, year: str, month: int, day: int) -> dt.date:
    n = 1 if year == "元" else int(year)
    if n < 1:
        raise ParseError("era_out_of_range", "year 0 of an era")
    d = make_date(era.start.year + n - 1, month, day)
    if d < era.start or (era.end is not None and d > era.end):
        raise ParseError("era_out_of_range", "date outside its era")
    return d


def _serial_date(n: int) -> dt.date:
    if n < 1 or n > 2958465:  # 9999-12-31
        raise ParseError("invalid_date", "serial number outside Excel's dates")
    if n == _EXCEL_LEAP_BUG:
        raise ParseError("invalid_date", "29 February 1900 does not exist")
    return EXCEL_EPOCH + dt.timedelta(days=n + (1 if n < _EXCEL_LEAP_BUG else 0))


def parse_styled_date(value: Any, style: DateStyle) -> dt.date:
    """A delivered cell → date in ``style``; StyleError if not in the style, ParseError if no such date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise StyleError("not a date")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and style.name not in ("excel_serial", "yyyymmdd", "wareki_code"):
        raise StyleError("a number is not a date in this style")
    s = date_text(value)
    name = style.name
    if name == "ymd":
        m = _YMD_SEP.match(s) or _YMD_KANJI.match(s)
        if not m:
            raise StyleError("not ymd")
        parts = [g for g in m.groups() if g not in ("-", "/", ".")]
        return make_date(int(parts[0]), int(parts[1]), int(parts[2]))
    if name == "yyyymmdd":
        if not _DIGITS8.match(s):
            raise StyleError("not yyyymmdd")
        return make_date(int(s[:4]), int(s[4:6]), int(s[6:]))
    if name == "wareki":
        m = _WAREKI.match(s)
        if m:
            month, day = (m[3], m[4]) if m[3] else (m[6], m[7])
            return _era_date(_era(m[1]), m[2], int(month), int(day))
        m = _WAREKI_COMPACT.match(s)
        if m:
            return _era_date(_era(m[1]), m[2], int(m[3]), int(m[4]))
        raise StyleError("not wareki")
    if name == "wareki_code":
        m = _WAREKI_CODE.match(s)
        if not m:
            raise StyleError("not wareki_code")
        return _era_date(_ERA_CODE[m[1]], m[2], int(m[3]), int(m[4]))
    if name == "excel_serial":
        if not _SERIAL.match(s):
            raise StyleError("not a serial number")
        return _serial_date(int(float(s)))
    if name == "format":
        try:
            return dt.datetime.strptime(s, _norm_pattern(style.pattern)).date()
        except ValueError:
            # strptime does not say whether the form or the calendar failed: try the form alone.
            if _format_shape(style.pattern).match(s):
                raise ParseError("invalid_date", "no such calendar date") from None
            raise StyleError("not in the format") from None
    raise ValueError(f"unknown date style {name}")


def parse_styled_month(value: Any, style: DateStyle) -> dt.date:
    """A delivered cell → the first day of its month, in a month style or any date style."""
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    name = style.name
    if name in ("excel_serial", "ymd", "yyyymmdd", "format"):
        return parse_styled_date(value, style).replace(day=1)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = date_text(value)
    if name == "yyyymm":
        if not _DIGITS6.match(s):
            raise StyleError("not yyyymm")
        return make_date(int(s[:4]), int(s[4:]), 1)
    if name == "ym":
        m = _YM_SEP.match(s) or _YM_KANJI.match(s)
        if not m:
            raise StyleError("not ym")
        return make_date(int(m[1]), int(m[2]), 1)
    if name == "wareki":
        m = _WAREKI_MONTH.match(s)
        if m:
            return _era_month(_era(m[1]), m[2], int(m[3] or m[4]))
        m = _WAREKI_MONTH_COMPACT.match(s)
        if m:
            return _era_month(_era(m[1]), m[2], int(m[3]))
        try:  # a full 和暦 date in a month column: its month
            return parse_styled_date(value, style).replace(day=1)
        except StyleError:
            raise StyleError("not wareki") from None
    if name == "wareki_code":
        m = _WAREKI_CODE_MONTH.match(s)
        if m:
            return _era_month(_ERA_CODE[m[1]], m[2], int(m[3]))
        return parse_styled_date(value, style).replace(day=1)
    raise ValueError(f"unknown month style {name}")


def _era_month(era, year: str, month: int) -> dt.date:
    n = 1 if year == "元" else int(year)
    if n < 1:
        raise ParseError("era_out_of_range", "year 0 of an era")
    first = make_date(era.start.year + n - 1, month, 1)
    last_day = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if last_day < era.start or (era.end is not None and first > era.end):
        raise ParseError("era_out_of_range", "month outside its era")
    return first


def _norm_pattern(pattern: str) -> str:
    # Values are NFKC-normalised and upper-cased; the pattern's literal characters are too.
    return unicodedata.normalize("NFKC", pattern)


_DIRECTIVE = re.compile(r"%([YmdyHMSbBj%])")
_SHAPES = {"Y": r"\d{4}", "m": r"\d{1,2}", "d": r"\d{1,2}", "y": r"\d{2}", "j": r"\d{1,3}", "%": "%"}


def _format_shape(pattern: str) -> re.Pattern:
    out, pos = [], 0
    pattern = _norm_pattern(pattern)
    for m in _DIRECTIVE.finditer(pattern):
        out.append(re.escape(pattern[pos : m.start()]))
        out.append(_SHAPES.get(m[1], r".+?"))
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE)


def validate_format(pattern: str) -> str | None:
    """None when ``pattern`` is a usable date format (year, month and day), else why not (Japanese)."""
    directives = set(_DIRECTIVE.findall(pattern))
    if not ({"Y", "y"} & directives) or not ({"m", "b", "B"} & directives):
        return "書式には年（%Y）と月（%m）が必要です"
    try:
        dt.datetime(2001, 2, 3).strftime(pattern)
    except ValueError:
        return "書式を解釈できません"
    return None


def parse_styled_year(value: Any, style: str) -> int:
    """A delivered cell → the Gregorian year in ``style`` (:data:`YEAR_STYLES`); StyleError if not in the style,
    ParseError if the era has no such year (H32, R0)."""
    if isinstance(value, bool) or isinstance(value, dt.date):
        raise StyleError("not a year")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and style != "seireki":
        raise StyleError("a number is not an era year")
    s = date_text(value)
    if style == "seireki":
        m = _SEIREKI_YEAR.match(s)
        if not m:
            raise StyleError("not seireki")
        if not 1868 <= int(m[1]) <= 2200:
            raise ParseError("era_out_of_range", "year outside the calendar the domain knows")
        return int(m[1])
    if style == "wareki":
        m = _WAREKI_YEAR.match(s)
        if not m:
            raise StyleError("not an era year")
        era = _era(m[1])
        n = 1 if m[2] == "元" else int(m[2])
        year = era.start.year + n - 1
        if n < 1 or (era.end is not None and year > era.end.year):
            raise ParseError("era_out_of_range", "year outside its era")
        return year
    raise ValueError(f"unknown year style {style}")


def year_style_of(values) -> str | None:
    """The year style every one of ``values`` (distinct, normalised texts) is written in: an era year (R7, 令和7年度)
    or a Gregorian year with 年/年度 (a bare 2025 is an integer already); None when they are not all one."""
    values = [v for v in values if v]
    if not values:
        return None
    for style, shape in (("wareki", _WAREKI_YEAR), ("seireki", _SEIREKI_YEAR_SUFFIXED)):
        if all(shape.match(date_text(v)) for v in values):
            try:
                for v in values:
                    parse_styled_year(v, style)
            except (StyleError, ParseError):
                return None
            return style
    return None
