from datetime import date

import pytest

from csc_insight.errors import ConfigError
from csc_insight.indicators.periods import financial_year_of, parse
from csc_insight.indicators.workdays import calendar_arrow, working_days_between


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 6, 3), date(2024, 6, 3), 0),  # same day: start is day 0
        (date(2024, 6, 3), date(2024, 6, 4), 1),  # Monday to Tuesday
        (date(2024, 6, 7), date(2024, 6, 10), 1),  # Friday to Monday skips the weekend
        (date(2024, 5, 24), date(2024, 5, 28), 1),  # Spring bank holiday Monday 27 May 2024
        (date(2024, 12, 24), date(2024, 12, 27), 1),  # Christmas Day and Boxing Day
        (date(2024, 3, 28), date(2024, 4, 2), 1),  # Good Friday and Easter Monday 2024
        (date(2024, 2, 28), date(2024, 3, 1), 2),  # leap day is an ordinary Thursday
        (date(2024, 6, 4), date(2024, 6, 3), -1),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


def test_calendar_table_agrees_with_the_function() -> None:
    cal = calendar_arrow().to_pydict()
    numbers = dict(zip(cal["calendar_date"], cal["workday_number"], strict=True))
    start, end = date(2023, 12, 20), date(2024, 2, 29)
    assert numbers[end] - numbers[start] == working_days_between(start, end)


def test_financial_years() -> None:
    fy = parse("2024-25")
    assert (fy.start, fy.end) == (date(2024, 4, 1), date(2025, 3, 31))
    assert financial_year_of(date(2025, 3, 31)).label == "2024-25"
    assert financial_year_of(date(2025, 4, 1)).label == "2025-26"
    assert parse("1999-00").end == date(2000, 3, 31)


@pytest.mark.parametrize("label", ["2024-26", "2024", "FY2024", ""])
def test_bad_period_is_a_clear_error(label: str) -> None:
    with pytest.raises(ConfigError, match="financial year"):
        parse(label)
