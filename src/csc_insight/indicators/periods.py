"""Reporting periods: DfE financial years, their quarters, months and rolling 12 months.

Labels: "2024-25" is 1 April 2024 to 31 March 2025 (the DfE reporting year); "2024-25 Q1"
is April to June 2024; "2024-06" is June 2024; "12m to 2024-06" is the 12 months ending 30
June 2024. Measures "at 31 March" are taken on the last day of whichever period is chosen.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from csc_insight.errors import ConfigError

_FINANCIAL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-(\d{2}) ?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ROLLING = re.compile(r"^12m to (\d{4})-(\d{2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A closed date range with the label users see."""

    label: str
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def financial_year(start_year: int) -> Period:
    """The financial year starting 1 April of ``start_year``."""
    return Period(
        f"{start_year}-{(start_year + 1) % 100:02d}",
        date(start_year, 4, 1),
        date(start_year + 1, 3, 31),
    )


def financial_year_of(day: date) -> Period:
    """The financial year a day falls in."""
    return financial_year(day.year if day.month >= 4 else day.year - 1)


def quarter(start_year: int, number: int) -> Period:
    """Quarter ``number`` (1 = April to June) of the financial year starting ``start_year``."""
    year, month = _add_months(start_year, 4, 3 * (number - 1))
    end_year, end_month = _add_months(year, month, 2)
    fy = financial_year(start_year).label
    return Period(f"{fy} Q{number}", date(year, month, 1), _month_end(end_year, end_month))


def month(year: int, number: int) -> Period:
    """A calendar month."""
    return Period(f"{year}-{number:02d}", date(year, number, 1), _month_end(year, number))


def rolling_12_months(year: int, number: int) -> Period:
    """The 12 months ending with the given month."""
    start_year, start_month = _add_months(year, number, -11)
    return Period(
        f"12m to {year}-{number:02d}", date(start_year, start_month, 1), _month_end(year, number)
    )


def months_between(first: date, last: date) -> list[Period]:
    """Every calendar month from the one containing ``first`` to the one containing ``last``."""
    out, (year, number) = [], (first.year, first.month)
    while (year, number) <= (last.year, last.month):
        out.append(month(year, number))
        year, number = _add_months(year, number, 1)
    return out


def parse(label: str) -> Period:
    """A period from its label: '2024-25', '2024-25 Q1', '2024-06' or '12m to 2024-06'."""
    text = label.strip()
    fy = _FINANCIAL_YEAR.match(text)
    if fy and (int(fy.group(1)) + 1) % 100 == int(fy.group(2)):
        return financial_year(int(fy.group(1)))
    q = _QUARTER.match(text)
    if q and (int(q.group(1)) + 1) % 100 == int(q.group(2)):
        return quarter(int(q.group(1)), int(q.group(3)))
    m = _MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return month(int(m.group(1)), int(m.group(2)))
    r = _ROLLING.match(text)
    if r and 1 <= int(r.group(2)) <= 12:
        return rolling_12_months(int(r.group(1)), int(r.group(2)))
    raise ConfigError(
        f"{label!r} is not a period csc-insight understands: use a financial year such as "
        "2024-25 (1 April 2024 to 31 March 2025), a quarter such as '2024-25 Q1', a month "
        "such as 2024-06, or rolling 12 months such as '12m to 2024-06'."
    )
