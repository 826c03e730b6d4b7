"""Calendar facts the simulation leans on: working days, school terms and Covid closures.

Dates inside the generator are plain ints (days since 1970-01-01) so that numpy can vectorise
over them and string conversion can be done once per day through lookup tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np
import numpy.typing as npt

EPOCH = date(1970, 1, 1)

# Schools closed to most pupils (open only to vulnerable and key workers' children).
COVID_CLOSURES: tuple[tuple[date, date], ...] = (
    (date(2020, 3, 23), date(2020, 8, 31)),
    (date(2021, 1, 5), date(2021, 3, 7)),
)


def to_day(d: date) -> int:
    return (d - EPOCH).days


def to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


@dataclass(frozen=True)
class Term:
    """A school term, labelled as attendance extracts label them (e.g. '2023-24 Autumn')."""

    label: str
    start: int
    end: int


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


class Calendar:
    """Day-indexed arrays over [start, end] for bank holidays, school days and working days."""

    def __init__(self, start: date, end: date) -> None:
        self.start = to_day(start)
        self.end = to_day(end)
        n = self.end - self.start + 1
        self.n = n
        years = range(start.year - 1, end.year + 2)
        bank = holidays.country_holidays("GB", subdiv="ENG", years=list(years))
        self.bank_holidays: list[date] = sorted(d for d in bank if start <= d <= end)
        days = np.arange(self.start, self.end + 1)
        self.weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        self.is_bank = np.zeros(n, dtype=bool)
        for d in self.bank_holidays:
            self.is_bank[to_day(d) - self.start] = True
        self.is_working = (self.weekday < 5) & ~self.is_bank
        # Index of working days lets "n working days later" be an O(1) lookup.
        working = self.is_working.astype(np.int64)
        self._wd_cum: npt.NDArray[np.int64] = np.cumsum(working) - working
        self._wd_days = days[self.is_working]
        self.terms: list[Term] = []
        self.in_term = np.zeros(n, dtype=bool)
        easter = {d.year: d for d, name in bank.items() if name == "Good Friday"}
        for y in range(start.year - 1, end.year + 1):
            for t in self._academic_year_terms(y, easter):
                if t.end < self.start or t.start > self.end:
                    continue
                self.terms.append(t)
                lo, hi = max(t.start, self.start), min(t.end, self.end)
                self.in_term[lo - self.start : hi - self.start + 1] = True
        self.in_term &= self.is_working
        # Half-terms are carved out of the terms after the terms are marked.
        for y in range(start.year - 1, end.year + 1):
            for a, b in self._half_terms(y, easter):
                lo, hi = max(a, self.start), min(b, self.end)
                if lo <= hi:
                    self.in_term[lo - self.start : hi - self.start + 1] = False
        self.closed = np.zeros(n, dtype=bool)
        for first, last in COVID_CLOSURES:
            lo, hi = max(to_day(first), self.start), min(to_day(last), self.end)
            if lo <= hi:
                self.closed[lo - self.start : hi - self.start + 1] = True
        self.school_open = self.in_term & ~self.closed

    # --- school calendar (a typical English LA's term dates) ---------------------------
    @staticmethod
    def _academic_year_terms(y: int, easter: dict[int, date]) -> list[Term]:
        gf = easter.get(y + 1)
        if gf is None:
            return []
        aut_start = _weekday_on_or_after(date(y, 9, 3))
        aut_end = _weekday_on_or_before(date(y, 12, 20))
        spr_start = _weekday_on_or_after(date(y + 1, 1, 4))
        spr_end = gf - timedelta(days=7)
        sum_start = gf + timedelta(days=10)
        sum_end = _weekday_on_or_before(date(y + 1, 7, 22))
        label = f"{y}-{(y + 1) % 100:02d}"
        return [
            Term(f"{label} Autumn", to_day(aut_start), to_day(aut_end)),
            Term(f"{label} Spring", to_day(spr_start), to_day(spr_end)),
            Term(f"{label} Summer", to_day(sum_start), to_day(sum_end)),
        ]

    @staticmethod
    def _half_terms(y: int, easter: dict[int, date]) -> list[tuple[int, int]]:
        out = []
        for anchor in (date(y, 10, 25), date(y + 1, 2, 15)):
            mon = _monday_of(anchor)
            out.append((to_day(mon), to_day(mon) + 4))
        # Summer half-term is the week of the late-May bank holiday (last Monday of May).
        d = date(y + 1, 5, 31)
        while d.weekday() != 0:
            d -= timedelta(days=1)
        out.append((to_day(d), to_day(d) + 4))
        return out

    # --- working days ----------------------------------------------------------------
    def add_working_days(self, day: int, n: int) -> int:
        """The day ``n`` working days after ``day`` (day itself counts as day 0)."""
        i = min(max(day - self.start, 0), self.n - 1)
        k = int(self._wd_cum[i]) + n
        if k >= len(self._wd_days):
            return day + int(n * 7 / 5) + 1
        return int(self._wd_days[max(k, 0)])

    def working_days_between(self, a: int, b: int) -> int:
        """Working days from a to b, with a as day 0 (the DfE timeliness convention)."""
        ia = min(max(a - self.start, 0), self.n - 1)
        ib = min(max(b - self.start, 0), self.n - 1)
        return int(self._wd_cum[ib] - self._wd_cum[ia])

    def idx(self, day: int) -> int:
        return day - self.start

    def days(self) -> npt.NDArray[np.int64]:
        return np.arange(self.start, self.end + 1, dtype=np.int64)

    def school_sessions(self, a: int, b: int) -> int:
        """Half-day sessions schools were open to all pupils between a and b inclusive."""
        lo, hi = max(a, self.start) - self.start, min(b, self.end) - self.start
        if hi < lo:
            return 0
        return int(2 * self.school_open[lo : hi + 1].sum())


def date_strings(start: int, end: int, fmt: str) -> list[str]:
    """Every day between start and end formatted once, for O(1) formatting while writing."""
    first = to_date(start)
    return [(first + timedelta(days=i)).strftime(fmt) for i in range(end - start + 1)]
