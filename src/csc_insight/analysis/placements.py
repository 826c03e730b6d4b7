"""Looked-after children by placement type, projected 12 months ahead from transition rates.

This follows the sector's children-in-care demand models: each child in care is in one of a
few states (age band x placement type: foster, residential, other); from the recent past we
measure the daily rate of moving between states (a placement change, a birthday into the
next age band), of leaving care from each state, and the daily number of children entering
each state. Projected forward, these give the expected number of children in each
placement type month by month; simulating the moves (multinomial each day, Poisson
entries) with rates redrawn from their sampling distribution gives the intervals.

The rates assume the near future behaves like the recent past (the last three years by
default): a change in entry thresholds or in the placement market is not foreseen.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.linalg import expm

from csc_insight.analysis.series import coverage, series_def
from csc_insight.errors import CscInsightError
from csc_insight.indicators.expressions import SHORT_BREAK_LEGAL_STATUSES
from csc_insight.warehouse.store import Warehouse

FOSTER = "foster"
RESIDENTIAL = "residential"
OTHER = "other"
GROUPS = (FOSTER, RESIDENTIAL, OTHER)
# 903 placement codes: U1-U6 are foster placements; children's homes, secure homes, NHS
# and young offender settings and residential schools are residential; the rest (placed
# with parents, placed for adoption, supported accommodation, independent living ...)
# are other.
RESIDENTIAL_CODES = ("K1", "K2", "R1", "R2", "R5", "S1")
# DfE age bands; a child leaves care at 18 at the latest.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "Under 1"),
    (1, "1 to 4"),
    (5, "5 to 9"),
    (10, "10 to 15"),
    (16, "16 to 17"),
)
LEAVING_AGE = 18


def placement_group(code: str | None) -> str:
    """Foster, residential or other, from a 903 placement code."""
    code = (code or "").strip().upper()
    if code.startswith("U"):
        return FOSTER
    return RESIDENTIAL if code in RESIDENTIAL_CODES else OTHER


BAND_LABELS: tuple[str, ...] = tuple(label for _, label in AGE_BANDS)


def states(bands: Sequence[str] = BAND_LABELS) -> list[str]:
    """State labels, ``age band|placement group``."""
    return [f"{b}|{g}" for b in bands for g in GROUPS]


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def segments(episodes: pd.DataFrame, end_of_data: date) -> pd.DataFrame:
    """Spells in one state: ``child_id``, ``start``, ``end`` (exclusive; the day the next
    spell starts or the child leaves), ``state``, ``leaves`` (True if the child leaves care
    at ``end``, False if another spell follows at once, None if still open at
    ``end_of_data``).

    ``episodes`` has ``child_id``, ``decom``, ``dec`` (null while open), ``place`` and
    ``date_of_birth``; spells are cut at the birthdays where the age band changes, and at
    18, when care ends.
    """
    rows: list[tuple[str, date, date, str, bool | None]] = []
    cuts = [age for age, _ in AGE_BANDS[1:]] + [LEAVING_AGE]
    ep = episodes.sort_values(["child_id", "decom"])
    for child, part in ep.groupby("child_id", sort=False):
        recs = part.to_dict("records")
        for i, e in enumerate(recs):
            start, dob = e["decom"], e["date_of_birth"]
            if dob is None or pd.isna(dob):
                continue
            end = e["dec"] if e["dec"] is not None and not pd.isna(e["dec"]) else None
            follows = i + 1 < len(recs) and end is not None and recs[i + 1]["decom"] == end
            stop = end if end is not None else end_of_data + timedelta(days=1)
            eighteen = _add_years(dob, LEAVING_AGE)
            leaves: bool | None = None if end is None else not follows
            if eighteen <= stop:
                stop, leaves = eighteen, True
            if stop <= start:
                continue
            group = placement_group(e["place"])
            points = [start]
            for age in cuts[:-1]:
                b = _add_years(dob, age)
                if start < b < stop:
                    points.append(b)
            points.append(stop)
            for a, b in itertools.pairwise(points):
                age = (a.year - dob.year) - ((a.month, a.day) < (dob.month, dob.day))
                band = next(label for lo, label in reversed(AGE_BANDS) if age >= lo)
                last = b == stop
                rows.append((str(child), a, b, f"{band}|{group}", leaves if last else False))
    return pd.DataFrame(rows, columns=["child_id", "start", "end", "state", "leaves"])


@dataclass(frozen=True)
class Rates:
    """Daily transition rates between states, exit rates, and daily entries per state."""

    states: list[str]
    moves: npt.NDArray[np.float64]  # moves[i, j]: transitions i -> j per day in state i
    exits: npt.NDArray[np.float64]  # leaving care per day in state i
    entries: npt.NDArray[np.float64]  # children entering care into state i per day
    exposure: npt.NDArray[np.float64]  # child-days observed in each state
    counts: npt.NDArray[np.float64]  # observed transitions i -> j (j = last column: exit)
    entry_counts: npt.NDArray[np.float64]
    days: int  # length of the window

    def generator(self) -> npt.NDArray[np.float64]:
        """The continuous-time generator over the states plus an absorbing "left care"."""
        n = len(self.states)
        q = np.zeros((n + 1, n + 1))
        q[:n, :n] = self.moves
        q[:n, n] = self.exits
        np.fill_diagonal(q, 0.0)
        q[np.arange(n + 1), np.arange(n + 1)] = -q.sum(axis=1)
        return q


def estimate(seg: pd.DataFrame, first: date, last: date, labels: list[str]) -> Rates:
    """Rates from the spells overlapping ``first`` to ``last`` (both included)."""
    index = {s: i for i, s in enumerate(labels)}
    n = len(labels)
    exposure = np.zeros(n)
    counts = np.zeros((n, n + 1))
    entries = np.zeros(n)
    end_excl = last + timedelta(days=1)
    seg = seg.sort_values(["child_id", "start"]).reset_index(drop=True)
    child: list[str] = list(seg["child_id"])
    state: list[str] = list(seg["state"])
    start: list[date] = list(seg["start"])
    end: list[date] = list(seg["end"])
    leaves: list[bool | None] = list(seg["leaves"])
    for k in range(len(seg)):
        i = index[state[k]]
        same_next = k + 1 < len(seg) and child[k + 1] == child[k]
        same_prev = k > 0 and child[k - 1] == child[k]
        a, b = max(start[k], first), min(end[k], end_excl)
        if b > a:
            exposure[i] += (b - a).days
        # An entry: a spell starting in the window with no spell ending the same day.
        if first <= start[k] <= last and not (same_prev and end[k - 1] == start[k]):
            entries[i] += 1
        if not first <= end[k] <= last:
            continue
        if leaves[k] is True:
            counts[i, n] += 1
        elif leaves[k] is False and same_next and start[k + 1] == end[k]:
            j = index[state[k + 1]]
            if j != i:
                counts[i, j] += 1
    days = (last - first).days + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(exposure[:, None] > 0, counts / exposure[:, None], 0.0)
    return Rates(labels, rates[:, :n], rates[:, n], entries / days, exposure, counts, entries, days)


@dataclass(frozen=True)
class Projection:
    """Projected children in care at each month end: mean and intervals, by group."""

    frame: pd.DataFrame  # month_end, group, mean, lower80, upper80, lower95, upper95
    start: date
    initial: dict[str, int]
    window: tuple[date, date]
    simulations: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "initial": self.initial,
            "simulations": self.simulations,
            "method": (
                "Transition-rate model: daily rates between age band x placement type states, "
                "leaving care and entering care, measured over the window and projected "
                "forward; intervals from simulating daily moves with rates redrawn from their "
                "Gamma sampling distribution"
            ),
            "months": [
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
                for row in self.frame.to_dict("records")
            ],
        }


def month_ends(start: date, months: int) -> list[date]:
    """The last day of each of the ``months`` months after ``start``'s month."""
    out = []
    ts = pd.Timestamp(start)
    for k in range(1, months + 1):
        out.append((ts + pd.offsets.MonthEnd(k)).date())
    return out


def expected_path(rates: Rates, initial: npt.NDArray[np.float64], days: int) -> np.ndarray:
    """Expected counts per state for days 1..``days`` (rows), from the generator."""
    n = len(rates.states)
    step = expm(rates.generator())[:n, :n]
    out = np.zeros((days, n))
    x = initial.astype("float64")
    for d in range(days):
        x = x @ step + rates.entries
        out[d] = x
    return out


def project(
    rates: Rates,
    initial: npt.NDArray[np.float64],
    start: date,
    months: int = 12,
    simulations: int = 500,
    seed: int = 1,
    batches: int = 20,
) -> pd.DataFrame:
    """Simulated children in each placement group at each month end after ``start``.

    Each of ``batches`` batches draws its own rates (Gamma with the observed counts and
    exposure, so rarely seen moves are uncertain) and simulates ``simulations / batches``
    futures day by day: the children in each state move, leave or stay (multinomial), and
    new children arrive (Poisson).
    """
    rng = np.random.default_rng(seed)
    n = len(rates.states)
    ends = month_ends(start, months)
    horizon = (ends[-1] - start).days
    marks = {(e - start).days - 1: k for k, e in enumerate(ends)}
    groups = [s.split("|")[1] for s in rates.states]
    per = max(1, simulations // batches)
    results = np.zeros((batches * per, months, n))
    for b in range(batches):
        exp_ = np.maximum(rates.exposure, 1.0)
        moves = rng.gamma(rates.counts[:, :n] + 0.5, 1.0 / exp_[:, None]) * (
            rates.counts[:, :n] > 0
        )
        exits = rng.gamma(rates.counts[:, n] + 0.5, 1.0 / exp_) * (rates.counts[:, n] > 0)
        entries = rng.gamma(rates.entry_counts + 0.5, 1.0 / rates.days) * (rates.entry_counts > 0)
        drawn = Rates(
            rates.states,
            moves,
            exits,
            entries,
            rates.exposure,
            rates.counts,
            rates.entry_counts,
            rates.days,
        )
        step = expm(drawn.generator())  # daily transition probabilities, rows sum to 1
        step = np.clip(step, 0.0, None)
        step /= step.sum(axis=1, keepdims=True)
        x = np.tile(initial.astype("int64"), (per, 1))
        for d in range(horizon):
            new = np.zeros_like(x)
            for i in range(n):
                if x[:, i].any():
                    new += rng.multinomial(x[:, i], step[i])[:, :n]
            new += rng.poisson(entries, size=(per, n))
            x = new
            if d in marks:
                results[b * per : (b + 1) * per, marks[d]] = x
    rows = []
    for k, end in enumerate(ends):
        for g in (*GROUPS, "all"):
            cols = [i for i in range(n) if g == "all" or groups[i] == g]
            v = results[:, k, cols].sum(axis=1)
            rows.append(
                {
                    "month_end": end,
                    "group": g,
                    "mean": float(v.mean()),
                    "lower80": float(np.quantile(v, 0.1)),
                    "upper80": float(np.quantile(v, 0.9)),
                    "lower95": float(np.quantile(v, 0.025)),
                    "upper95": float(np.quantile(v, 0.975)),
                }
            )
    return pd.DataFrame(rows)


def placement_forecast(
    warehouse: Warehouse, years: int = 3, months: int = 12, simulations: int = 500, seed: int = 1
) -> Projection:
    """Children looked after by placement type, projected ``months`` ahead from the rates of
    the last ``years`` years (short-break-only care left out, as DfE leaves it out)."""
    e = warehouse.table("cla_episodes")
    e = e.filter(~e.ls.isin(SHORT_BREAK_LEGAL_STATUSES) | e.ls.isnull())
    c = warehouse.table("children").select("la_code", "child_id", "date_of_birth")
    j = e.left_join(c, [e.la_code == c.la_code, e.child_id == c.child_id])
    df = j.select(
        child_id=j.la_code + ":" + j.child_id,
        decom=j.decom,
        dec=j.dec,
        place=j.place,
        date_of_birth=j.date_of_birth,
    ).to_pandas()
    if df.empty:
        raise CscInsightError("There are no looked-after episodes in the warehouse to project.")
    for col in ("decom", "dec", "date_of_birth"):
        df[col] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in df[col]]
    df = df.drop_duplicates(["child_id", "decom"])
    span = coverage(warehouse, series_def("cla_starts"))
    if span is None:
        raise CscInsightError("There are no looked-after episodes in the warehouse to project.")
    last = span[1]  # the end of the latest 903 year loaded (or the latest date seen)
    first = _add_years(last, -years) + timedelta(days=1)
    seg = segments(df, last)
    labels = states()
    rates = estimate(seg, first, last, labels)
    open_now = seg[(seg["start"] <= last) & (seg["end"] > last)]
    initial = np.zeros(len(labels))
    for s in open_now["state"]:
        initial[labels.index(s)] += 1
    frame = project(rates, initial, last, months, simulations, seed)
    by_group = {
        g: int(sum(initial[i] for i, s in enumerate(labels) if s.endswith(g))) for g in GROUPS
    }
    by_group["all"] = int(initial.sum())
    return Projection(frame, last, by_group, (first, last), simulations)


__all__ = [
    "AGE_BANDS",
    "GROUPS",
    "Projection",
    "Rates",
    "estimate",
    "expected_path",
    "month_ends",
    "placement_forecast",
    "placement_group",
    "project",
    "segments",
    "states",
]
