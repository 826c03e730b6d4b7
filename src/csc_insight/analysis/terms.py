"""England school terms, worked out by rule or set by the authority, and the Covid closures.

Demand from schools follows the school year, so seasonality, interruptions and forecasts
need to know which days children were in school. Term dates are set by each authority (and
academies set their own), so the rule below is a default: an authority that wants its own
dates lists them in ``authority.toml``::

    [school_terms]
    # Teaching blocks; half-terms and holidays are the gaps between them. Academic years
    # listed here replace the rule's dates for those years; other years keep the rule.
    terms = [
      ["2024-09-04", "2024-10-25"],
      ["2024-11-04", "2024-12-20"],
    ]
    # Further events to control for or examine (the Covid closures are always known).
    events = [{ name = "Flooding", start = "2023-11-06", end = "2023-11-17" }]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from csc_insight.errors import ConfigError
from csc_insight.indicators.workdays import bank_holidays


@dataclass(frozen=True)
class Term:
    """A block of teaching days from ``start`` to ``end`` inclusive (weekends excepted)."""

    label: str
    start: date
    end: date


@dataclass(frozen=True)
class Event:
    """Something known to have interrupted demand, from ``start`` to ``end`` inclusive."""

    name: str
    start: date
    end: date


# Schools in England were closed to most pupils (open to vulnerable and key workers'
# children) for these windows; referrals from schools fell and rebounded on reopening.
COVID_SCHOOL_CLOSURES: tuple[Event, ...] = (
    Event("Covid school closure (spring-summer 2020)", date(2020, 3, 23), date(2020, 8, 31)),
    Event("Covid school closure (January-March 2021)", date(2021, 1, 5), date(2021, 3, 7)),
)


def easter_sunday(year: int) -> date:
    """Easter Sunday (Gregorian), by the anonymous "Meeus/Jones/Butcher" algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _weekday_on_or_after(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _weekday_on_or_before(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _split(label: str, start: date, end: date, half_term_monday: date) -> list[Term]:
    """A term with its half-term week (Monday to Friday) taken out."""
    before = half_term_monday - timedelta(days=3)  # the Friday before
    after = half_term_monday + timedelta(days=7)  # the Monday after
    return [Term(f"{label} (1)", start, before), Term(f"{label} (2)", after, end)]


@lru_cache(maxsize=128)
def england_terms(academic_year: int) -> tuple[Term, ...]:
    """Teaching blocks of a typical English authority for the year starting September
    ``academic_year``: autumn from the first weekday on or after 3 September to about
    20 December with a late-October half-term; spring from about 4 January to the Friday a
    week before Good Friday with a mid-February half-term; summer from the Monday after
    Easter week to about 22 July with the half-term in the week of the late-May bank holiday.
    """
    y = academic_year
    good_friday = easter_sunday(y + 1) - timedelta(days=2)
    label = f"{y}-{(y + 1) % 100:02d}"
    last_may_monday = date(y + 1, 5, 31)
    while last_may_monday.weekday() != 0:
        last_may_monday -= timedelta(days=1)
    return (
        *_split(
            f"{label} Autumn",
            _weekday_on_or_after(date(y, 9, 3)),
            _weekday_on_or_before(date(y, 12, 20)),
            _monday_of(date(y, 10, 25)),
        ),
        *_split(
            f"{label} Spring",
            _weekday_on_or_after(date(y + 1, 1, 4)),
            good_friday - timedelta(days=7),
            _monday_of(date(y + 1, 2, 15)),
        ),
        *_split(
            f"{label} Summer",
            good_friday + timedelta(days=10),
            _weekday_on_or_before(date(y + 1, 7, 22)),
            last_may_monday,
        ),
    )


def academic_year_of(day: date) -> int:
    """The year the academic year containing ``day`` started (September to August)."""
    return day.year if day.month >= 9 else day.year - 1


@dataclass(frozen=True)
class TermCalendar:
    """School days: weekdays that are not bank holidays, inside a teaching block.

    ``overrides`` holds the authority's own teaching blocks by academic year; every other
    year follows ``england_terms``. Covid closures are *events*, not holidays: the term still
    ran (and attendance was still recorded for some), so models treat them separately.
    """

    overrides: Mapping[int, tuple[Term, ...]] = field(default_factory=dict)
    events: tuple[Event, ...] = COVID_SCHOOL_CLOSURES

    def terms(self, academic_year: int) -> list[Term]:
        """Teaching blocks of one academic year."""
        own = self.overrides.get(academic_year)
        return list(own if own is not None else england_terms(academic_year))

    def terms_between(self, first: date, last: date) -> list[Term]:
        """Teaching blocks overlapping ``first`` to ``last``."""
        out: list[Term] = []
        for year in range(academic_year_of(first), academic_year_of(last) + 1):
            out.extend(t for t in self.terms(year) if t.end >= first and t.start <= last)
        return out

    def is_school_day(self, day: date) -> bool:
        """True if schools would be teaching on ``day`` (closures aside)."""
        if day.weekday() >= 5 or day in bank_holidays():
            return False
        return any(t.start <= day <= t.end for t in self.terms(academic_year_of(day)))

    def school_days(self, first: date, last: date) -> int:
        """School days from ``first`` to ``last`` inclusive."""
        return sum(self.is_school_day(d) for d in _days(first, last))

    def working_days(self, first: date, last: date) -> int:
        """Weekdays that are not bank holidays, ``first`` to ``last`` inclusive."""
        holidays = bank_holidays()
        return sum(d.weekday() < 5 and d not in holidays for d in _days(first, last))

    def term_share(self, first: date, last: date) -> float:
        """Share of the working days from ``first`` to ``last`` that are school days."""
        working = self.working_days(first, last)
        return self.school_days(first, last) / working if working else 0.0

    def week_kind(self, monday: date) -> str:
        """ "term" when every working day of the week is a school day, "holiday" when none
        is, otherwise "mixed" (the week a term starts or ends mid-week)."""
        share = self.term_share(monday, monday + timedelta(days=6))
        if self.working_days(monday, monday + timedelta(days=6)) == 0:
            return "holiday"
        return "term" if share == 1.0 else "holiday" if share == 0.0 else "mixed"


def _days(first: date, last: date) -> Iterable[date]:
    for i in range((last - first).days + 1):
        yield first + timedelta(days=i)


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date such as 2024-09-04.") from None


def from_config(raw: Mapping[str, Any]) -> TermCalendar:
    """The calendar an authority's ``authority.toml`` asks for (``[school_terms]``); the
    rule alone when it says nothing. ``raw`` is ``targets.load(home).raw``."""
    section = raw.get("school_terms") or {}
    by_year: dict[int, list[Term]] = {}
    for i, pair in enumerate(section.get("terms") or []):
        where = f"[school_terms] terms[{i}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ConfigError(f"{where} must be a pair of dates [start, end].")
        start, end = _as_date(pair[0], where), _as_date(pair[1], where)
        if end < start:
            raise ConfigError(f"{where} ends before it starts.")
        year = academic_year_of(start)
        by_year.setdefault(year, []).append(Term(f"block {i + 1}", start, end))
    events = list(COVID_SCHOOL_CLOSURES)
    for i, item in enumerate(section.get("events") or []):
        where = f"[school_terms] events[{i}]"
        if not isinstance(item, Mapping) or not {"name", "start", "end"} <= set(item):
            raise ConfigError(f"{where} needs a name, a start and an end.")
        events.append(
            Event(str(item["name"]), _as_date(item["start"], where), _as_date(item["end"], where))
        )
    overrides = {y: tuple(sorted(ts, key=lambda t: t.start)) for y, ts in by_year.items()}
    return TermCalendar(overrides, tuple(events))


__all__ = [
    "COVID_SCHOOL_CLOSURES",
    "Event",
    "Term",
    "TermCalendar",
    "academic_year_of",
    "easter_sunday",
    "england_terms",
    "from_config",
]
