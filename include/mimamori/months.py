"""Run months and as-of dates (domain.md §8)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def validate_month(value: str) -> str:
    """Return `value` if it is a YYYY-MM month, else raise ValueError naming the rule."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise ValueError(f"run_month must be YYYY-MM (e.g. 2026-10), got {value!r}")
    return value


def previous_month(day: date | datetime) -> str:
    """The month before the month of `day` — the default run month of a scheduled run."""
    year, month = day.year, day.month - 1
    if month == 0:
        year, month = year - 1, 12
    return f"{year:04d}-{month:02d}"


def month_before(month: str) -> str:
    """The month before a YYYY-MM month (2026-01 → 2025-12)."""
    year, mon = map(int, validate_month(month).split("-"))
    year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return f"{year:04d}-{mon:02d}"


def next_month(month: str) -> str:
    year, mon = map(int, validate_month(month).split("-"))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return f"{year:04d}-{mon:02d}"


def as_of_date(month: str) -> date:
    """基準日: the last day of the run month."""
    year, mon = map(int, validate_month(month).split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def resolve_run_month(requested: str | None, logical_date: date | datetime | None) -> str:
    """An explicit `run_month` wins; a scheduled run processes the month before its logical date."""
    if requested:
        return validate_month(requested.strip())
    if logical_date is None:
        raise ValueError("run_month not given and the run has no logical date")
    return previous_month(logical_date)
