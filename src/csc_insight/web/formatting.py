"""How numbers, dates and indicator results are shown on web pages, including suppression.

Small-number suppression protects children in small cohorts: to a viewer, a count from 1 to
the threshold (setting ``suppression_threshold``, 5 by default) is shown as "c", and so is
any figure worked out from such a count (a percentage, a rate, an average over a handful of
cases). Zero is never suppressed. Analysts see every figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csc_insight.errors import ConfigError
from csc_insight.indicators import IndicatorResult

SUPPRESSED = "c"
NOT_APPLICABLE = "–"
NOT_AVAILABLE = "Not available"

VIEWER = "viewer"
ANALYST = "analyst"
ROLES = (VIEWER, ANALYST)

RATIO_UNITS = frozenset({"percent", "rate_per_10k"})


def is_small(count: float | None, threshold: int) -> bool:
    """True for a count from 1 to ``threshold``: one that could identify a child."""
    return count is not None and not math.isnan(count) and 0 < count <= threshold


def format_number(number: float, decimals: int = 0) -> str:
    """A number with thousands separators; ``decimals`` places, trailing '.0' dropped."""
    text = f"{number:,.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _plural(number: float, one: str, many: str, decimals: int = 1) -> str:
    text = format_number(number, decimals)
    return f"{text} {one if text == '1' else many}"


def format_value(value: float | None, unit: str) -> str:
    """An indicator value with its unit, in plain English (e.g. '12.5%', '23 days')."""
    if value is None or math.isnan(value):
        return NOT_AVAILABLE
    if unit == "percent":
        return f"{format_number(value, 1)}%"
    if unit == "rate_per_10k":
        return f"{format_number(value, 1)} per 10,000 children"
    if unit == "days":
        return _plural(value, "day", "days")
    if unit == "working_days":
        return _plural(value, "working day", "working days")
    return format_number(value, 0 if not math.isfinite(value) or value == int(value) else 1)


_LONDON: ZoneInfo | None
try:
    _LONDON = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # no time zone database: show UTC and say so
    _LONDON = None


def format_date(day: date | datetime | None) -> str:
    """A date the GOV.UK way: '25 November 2026'."""
    if day is None:
        return NOT_AVAILABLE
    return f"{day.day} {day:%B %Y}"


def format_time(moment: datetime) -> str:
    """A time of day the GOV.UK way: '9:05am', '5:30pm', 'midday', 'midnight'."""
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    if moment.hour == 12 and moment.minute == 0:
        return "midday"
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d}{'am' if moment.hour < 12 else 'pm'}"


def format_datetime(moment: datetime | None) -> str:
    """A UTC timestamp (naive means UTC, as the warehouse stores them) in UK time, in words.

    For example '25 November 2026 at 7:16pm'.
    """
    if moment is None:
        return NOT_AVAILABLE
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if _LONDON is None:
        local, suffix = aware.astimezone(UTC), " (UTC)"
    else:
        local, suffix = aware.astimezone(_LONDON), ""
    return f"{format_date(local)} at {format_time(local)}{suffix}"


@dataclass(frozen=True)
class IndicatorRow:
    """One headline indicator, formatted for a table row."""

    id: str
    title: str
    definition: str
    value: str
    numerator: str
    denominator: str
    suppressed: bool


@dataclass(frozen=True)
class Formatter:
    """Formats figures for one audience: viewers get suppression, analysts do not."""

    role: str = VIEWER
    threshold: int = 5

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(
                f"{self.role!r} is not a role csc-insight knows (use one of: {', '.join(ROLES)})."
            )

    @property
    def suppresses(self) -> bool:
        """True when small counts are hidden from this audience."""
        return self.role == VIEWER

    def hides(self, count: float | None) -> bool:
        """True when ``count`` is shown as 'c' to this audience."""
        return self.suppresses and is_small(count, self.threshold)

    def count(self, count: float | None) -> str:
        """A count of children or records: '1,234', or 'c' for a small one shown to a viewer."""
        if count is None or math.isnan(count):
            return NOT_AVAILABLE
        if self.hides(count):
            return SUPPRESSED
        return format_number(count)

    def indicator(self, result: IndicatorResult) -> IndicatorRow:
        """A headline indicator's cells, suppressed as this audience requires.

        To a viewer: a small count is 'c'; a percentage or rate whose numerator or
        denominator is small is 'c'; an average over a small number of cases is 'c', and so
        is its total; anything the indicator itself marks as suppressed is 'c'.
        """
        has_denominator = result.denominator is not None
        numerator_is_count = result.unit == "count" or result.unit in RATIO_UNITS
        upstream = result.suppressed and self.suppresses
        den_hidden = upstream or (has_denominator and self.hides(result.denominator))
        num_hidden = upstream or (numerator_is_count and self.hides(result.numerator))
        value_hidden = (
            num_hidden or den_hidden or (result.unit == "count" and self.hides(result.value))
        )
        if value_hidden and not numerator_is_count:
            num_hidden = True  # the total behind a hidden average would give it away

        value = SUPPRESSED if value_hidden else format_value(result.value, result.unit)
        if has_denominator:
            if num_hidden:
                numerator = SUPPRESSED
            elif numerator_is_count:
                numerator = self.count(result.numerator)
            else:
                numerator = _decimal(result.numerator)
            denominator = SUPPRESSED if den_hidden else self.count(result.denominator)
        else:
            numerator = denominator = NOT_APPLICABLE
        return IndicatorRow(
            id=result.id,
            title=result.title,
            definition=result.definition,
            value=value,
            numerator=numerator,
            denominator=denominator,
            suppressed=value_hidden,
        )


def _decimal(number: float | None) -> str:
    if number is None or math.isnan(number):
        return NOT_AVAILABLE
    return format_number(number, 1)
