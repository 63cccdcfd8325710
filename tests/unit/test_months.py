from datetime import date, datetime

import pytest
from mimamori.months import as_of_date, month_before, next_month, previous_month, resolve_run_month, validate_month


def test_scheduled_run_processes_the_month_before_its_logical_date():
    assert resolve_run_month(None, datetime(2026, 11, 16, 6)) == "2026-10"
    assert resolve_run_month("", date(2026, 1, 16)) == "2025-12"


def test_explicit_run_month_wins():
    assert resolve_run_month("2025-04", datetime(2026, 11, 16)) == "2025-04"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-10", "2026/10", "abcd-ef"])
def test_invalid_month_is_rejected_with_the_rule(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        validate_month(bad)


def test_as_of_date_is_the_last_day_of_the_month():
    assert as_of_date("2024-02") == date(2024, 2, 29)
    assert as_of_date("2025-02") == date(2025, 2, 28)
    assert as_of_date("2026-12") == date(2026, 12, 31)


def test_month_arithmetic_wraps_years():
    assert previous_month(date(2026, 1, 5)) == "2025-12"
    assert next_month("2026-12") == "2027-01"
    assert month_before("2026-01") == "2025-12"
    assert month_before("2026-10") == "2026-09"
