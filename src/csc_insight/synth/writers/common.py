"""What every writer shares: the authority's simulated state and the keys it has written."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from csc_insight.synth.calendar import Calendar, to_date, to_day
from csc_insight.synth.journey import Simulation
from csc_insight.synth.local import LocalData
from csc_insight.synth.population import Child, Identity


class DateFmt:
    """Formats day numbers with a cache: the same few thousand days recur millions of times."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._cache: dict[int, str] = {}

    def __call__(self, day: int | None) -> str:
        if day is None:
            return ""
        s = self._cache.get(day)
        if s is None:
            s = to_date(day).strftime(self.fmt)
            self._cache[day] = s
        return s


@dataclass
class Context:
    """One authority's simulated records plus the bookkeeping of what was written."""

    out: Path
    identity: Identity
    cal: Calendar
    years: list[int]  # collection years by their ending year (2025 = 2024-25)
    horizon: int
    seed: int
    sim: Simulation
    local: LocalData
    contacts: list[tuple[Child, int, str]]
    keys: dict[str, set[tuple[object, ...]]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def children(self) -> list[Child]:
        return self.sim.people.children

    def bounds(self, year: int) -> tuple[int, int]:
        """First and last day (31 March) of the collection year ending in ``year``."""
        return to_day(date(year - 1, 4, 1)), to_day(date(year, 3, 31))

    def mark(self, table: str, key: tuple[object, ...]) -> None:
        self.keys.setdefault(table, set()).add(key)

    def child_rng(self, child: Child, salt: int) -> random.Random:
        """A generator private to one child and purpose, so that a fact drawn while writing
        one year's file is drawn identically for every other year."""
        return random.Random(self.seed * 1_000_003 + child.idx * 7_919 + salt * 104_729)


def year_label(year: int) -> str:
    return f"{year - 1}-{year % 100:02d}"


def censor(day: int | None, ref: int) -> int | None:
    """A date after the reference date is not yet known to that return."""
    return day if day is not None and day <= ref else None
