"""Calendar helpers: months, the legal age rule, school years and the date styles of real systems.

Ages follow 年齢計算ニ関スル法律 (domain.md §8): on as-of date d the age is the full years from the
birth date to d + 1 day.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import cache

ERAS = (  # (start date, kanji, initial)
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
    (date(1868, 1, 25), "明治", "M"),
)

_FW = str.maketrans("0123456789/-.", "０１２３４５６７８９／－．")


def parse_month(text: str) -> tuple[int, int]:
    y, m = text.split("-")
    year, month = int(y), int(m)
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {text!r}")
    return year, month


def month_str(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + n
    return idx // 12, idx % 12 + 1


def month_range(end_month: str, months: int) -> list[str]:
    """The `months` consecutive months ending at `end_month`, oldest first."""
    y, m = parse_month(end_month)
    return [month_str(*add_months(y, m, -k)) for k in range(months - 1, -1, -1)]


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def first_day(year: int, month: int) -> date:
    return date(year, month, 1)


def as_of_date(month: str) -> date:
    return last_day(*parse_month(month))


def age_on(birth: date, d: date) -> int:
    """Age per 年齢計算ニ関スル法律: full years from birth to d + 1 day."""
    e = d + timedelta(days=1)
    return e.year - birth.year - ((e.month, e.day) < (birth.month, birth.day))


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def add_months_date(d: date, n: int) -> date:
    y, m = add_months(d.year, d.month, n)
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def fiscal_year(d: date) -> int:
    """The Gregorian year in which d's fiscal/school year (April–March) starts."""
    return d.year if d.month >= 4 else d.year - 1


def school_cohort(birth: date) -> int:
    """Children born 2 April Y – 1 April Y+1 form cohort Y and enter 小1 in April Y+7."""
    if (birth.month, birth.day) >= (4, 2):
        return birth.year
    return birth.year - 1


def school_grade(birth: date, d: date) -> int:
    """Years of compulsory schooling on date d: 1–6 = 小1–小6, 7–9 = 中1–中3 (≤0 or ≥10 outside)."""
    return fiscal_year(d) - (school_cohort(birth) + 7) + 1


@cache
def school_days_elapsed(d: date) -> int:
    """Approximate school days from 1 April of d's school year to d (no August, ~19 a month)."""
    fy_start = date(fiscal_year(d), 4, 6)
    if d < fy_start:
        return 0
    days = 0
    cur = fy_start
    while cur <= d:
        if (
            cur.weekday() < 5
            and cur.month != 8
            and not (cur.month == 12 and cur.day > 24)
            and not (cur.month == 1 and cur.day < 8)
            and not (cur.month == 3 and cur.day > 24)
        ):
            days += 1
        cur += timedelta(days=1)
    return days


def era_of(d: date) -> tuple[str, str, int]:
    for start, kanji, initial in ERAS:
        if d >= start:
            return kanji, initial, d.year - start.year + 1
    raise ValueError("date before Meiji")


def fmt_date(d: date | None, style: str) -> str:
    """Render a date in one of the styles real municipal systems emit."""
    if d is None:
        return ""
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "ymd8":
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    if style == "fullwidth":
        return f"{d.year}/{d.month:02d}/{d.day:02d}".translate(_FW)
    kanji, initial, year = era_of(d)
    if style == "wareki":
        y = "元" if year == 1 else str(year)
        return f"{kanji}{y}年{d.month}月{d.day}日"
    if style == "era_dot":
        return f"{initial}{year}.{d.month}.{d.day}"
    if style == "era_slash":
        return f"{initial}{year}/{d.month}/{d.day}"
    raise ValueError(f"unknown date style {style!r}")


def to_fullwidth_digits(text: str) -> str:
    return text.translate(_FW)
