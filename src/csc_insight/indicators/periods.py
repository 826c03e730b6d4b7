"""Reporting periods: DfE's financial years ("2024-25" = 1 April 2024 to 31 March 2025)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from csc_insight.errors import ConfigError

_FINANCIAL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A closed date range with the label users see."""

    label: str
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


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


def parse(label: str) -> Period:
    """A period from its label, e.g. '2024-25'."""
    match = _FINANCIAL_YEAR.match(label.strip())
    if match:
        start = int(match.group(1))
        if (start + 1) % 100 == int(match.group(2)):
            return financial_year(start)
    raise ConfigError(
        f"{label!r} is not a period csc-insight understands: use a financial year such as "
        "2024-25 (1 April 2024 to 31 March 2025)."
    )
