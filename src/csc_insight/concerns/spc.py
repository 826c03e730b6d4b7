"""Statistical process control for monthly values: XmR and p-charts, and three rules.

Pure functions, no warehouse: a series of monthly values in, its control chart and the
signals of special-cause variation out. The chart type follows the measure:

* **p-chart** for a percentage with its numerator and denominator each month: the centre
  line is the pooled proportion p = sum(numerators) / sum(denominators), and each month's
  limits are p +/- 3 * sqrt(p (1 - p) / n) for that month's denominator n (so a month with
  few cases has wider limits), clipped to 0-100%;
* **XmR** (individuals and moving range) for everything else (counts, medians, means,
  days): the centre is the mean, sigma is the mean moving range / 1.128 (d2 for n = 2),
  and the limits are mean +/- 3 sigma (the NHS "Making Data Count" method).

The rules, as NHS England's Making Data Count applies them:

1. **Beyond the limits**: a point above the upper or below the lower 3-sigma limit;
2. **Shift**: a run of 7 or more consecutive points on the same side of the centre line
   (a point exactly on the line neither adds to a run nor breaks it);
3. **Trend**: 6 or more consecutive points each higher (or each lower) than the one
   before (a repeated value neither adds to a trend nor breaks it).

Missing months (no value, or a p-chart month with no denominator) are skipped: the points
either side of a gap count as consecutive. Fewer than ``MIN_POINTS`` values and no limits
are drawn: the chart would say more about chance than about the service.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

SIGMAS = 3.0
SHIFT_RUN = 7
TREND_RUN = 6
D2 = 1.128  # expected range of two normal observations, in sigmas
MIN_POINTS = 12

BEYOND_LIMITS = "beyond_limits"
SHIFT = "shift"
TREND = "trend"
RULE_TITLES = {
    BEYOND_LIMITS: "a point beyond the 3-sigma control limits",
    SHIFT: f"a run of {SHIFT_RUN} or more points on one side of the average",
    TREND: f"a trend of {TREND_RUN} or more points rising or falling in a row",
}
UP = "up"
DOWN = "down"


class ChartType(StrEnum):
    """Which control chart a measure is drawn on."""

    XMR = "xmr"
    P = "p"


@dataclass(frozen=True)
class Signal:
    """One occurrence of a rule: which points (indices into the series) and which way."""

    rule: str
    direction: str  # "up" or "down"
    indices: tuple[int, ...]

    @property
    def first(self) -> int:
        return self.indices[0]

    @property
    def last(self) -> int:
        return self.indices[-1]

    def describe(self) -> str:
        """The rule in words, e.g. 'a run of 8 points above the average'."""
        n = len(self.indices)
        if self.rule == SHIFT:
            side = "above" if self.direction == UP else "below"
            return f"a run of {n} months {side} the average"
        if self.rule == TREND:
            way = "higher" if self.direction == UP else "lower"
            return f"{n} months in a row each {way} than the one before"
        where = "above the upper" if self.direction == UP else "below the lower"
        months = "a month" if n == 1 else f"{n} months"
        return f"{months} {where} control limit"


@dataclass
class ControlChart:
    """A series on its control chart: centre, limits per point, and the signals found."""

    kind: ChartType
    labels: list[str]
    values: list[float | None]
    centre: float | None
    lower: list[float | None]
    upper: list[float | None]
    signals: list[Signal] = field(default_factory=list)
    sigma: float | None = None  # XmR only: the estimated process sigma

    @property
    def enough(self) -> bool:
        """Whether there were enough points to draw limits and test the rules."""
        return self.centre is not None

    def signals_at(self, index: int) -> list[Signal]:
        """The signals a point is part of."""
        return [s for s in self.signals if index in s.indices]


def _present(values: Sequence[float | None]) -> list[int]:
    return [i for i, v in enumerate(values) if v is not None and not math.isnan(v)]


def beyond_limits(
    values: Sequence[float | None],
    lower: Sequence[float | None],
    upper: Sequence[float | None],
) -> list[Signal]:
    """Rule 1: points outside their limits; neighbouring points on one side are one signal."""
    out: list[Signal] = []
    current: list[int] = []
    direction = ""
    for i in _present(values):
        v, lo, hi = values[i], lower[i], upper[i]
        assert v is not None
        side = UP if hi is not None and v > hi else DOWN if lo is not None and v < lo else ""
        if side and side == direction:
            current.append(i)
            continue
        if current:
            out.append(Signal(BEYOND_LIMITS, direction, tuple(current)))
        current, direction = ([i], side) if side else ([], "")
    if current:
        out.append(Signal(BEYOND_LIMITS, direction, tuple(current)))
    return out


def shifts(
    values: Sequence[float | None], centre: float, run: int = SHIFT_RUN, tolerance: float = 1e-9
) -> list[Signal]:
    """Rule 2: maximal runs of ``run`` or more points on one side of the centre line."""
    out: list[Signal] = []
    current: list[int] = []
    direction = ""

    def close() -> None:
        if len(current) >= run:
            out.append(Signal(SHIFT, direction, tuple(current)))

    for i in _present(values):
        v = values[i]
        assert v is not None
        if abs(v - centre) <= tolerance:
            continue  # on the line: neither adds nor breaks
        side = UP if v > centre else DOWN
        if side != direction:
            close()
            current, direction = [], side
        current.append(i)
    close()
    return out


def trends(values: Sequence[float | None], run: int = TREND_RUN) -> list[Signal]:
    """Rule 3: maximal runs of ``run`` or more points each higher (lower) than the last."""
    out: list[Signal] = []
    points = [(i, values[i]) for i in _present(values)]
    # A repeated value neither adds nor breaks: keep only the first of equal neighbours.
    kept: list[tuple[int, float]] = []
    for i, v in points:
        assert v is not None
        if kept and v == kept[-1][1]:
            continue
        kept.append((i, v))
    current: list[int] = [kept[0][0]] if kept else []
    direction = ""
    for (_, previous), (i, v) in itertools.pairwise(kept):
        step = UP if v > previous else DOWN
        if step == direction:
            current.append(i)
            continue
        if len(current) >= run:
            out.append(Signal(TREND, direction, tuple(current)))
        current = [current[-1], i]
        direction = step
    if len(current) >= run and direction:
        out.append(Signal(TREND, direction, tuple(current)))
    return out


def _with_signals(chart: ControlChart) -> ControlChart:
    if chart.centre is None:
        return chart
    chart.signals = [
        *beyond_limits(chart.values, chart.lower, chart.upper),
        *shifts(chart.values, chart.centre),
        *trends(chart.values),
    ]
    chart.signals.sort(key=lambda s: (s.first, s.rule))
    return chart


def xmr(labels: Sequence[str], values: Sequence[float | None]) -> ControlChart:
    """An individuals (XmR) chart: centre = mean, limits = mean +/- 3 * mean moving range / d2."""
    vals = [None if v is None or math.isnan(v) else float(v) for v in values]
    present = [v for v in vals if v is not None]
    nothing: list[float | None] = [None] * len(vals)
    if len(present) < MIN_POINTS:
        return ControlChart(ChartType.XMR, list(labels), vals, None, nothing, list(nothing))
    mean = sum(present) / len(present)
    ranges = [abs(b - a) for a, b in itertools.pairwise(present)]
    sigma = (sum(ranges) / len(ranges)) / D2
    lower: list[float | None] = [mean - SIGMAS * sigma] * len(vals)
    upper: list[float | None] = [mean + SIGMAS * sigma] * len(vals)
    return _with_signals(
        ControlChart(ChartType.XMR, list(labels), vals, mean, lower, upper, sigma=sigma)
    )


def p_chart(
    labels: Sequence[str],
    numerators: Sequence[float | None],
    denominators: Sequence[float | None],
) -> ControlChart:
    """A p-chart in per cent: pooled centre, limits from each month's own denominator."""
    vals: list[float | None] = []
    for x, n in zip(numerators, denominators, strict=True):
        vals.append(None if x is None or not n else 100.0 * float(x) / float(n))
    used = [
        (float(x or 0), float(n))
        for x, n, v in zip(numerators, denominators, vals, strict=True)
        if v is not None and n
    ]
    nothing: list[float | None] = [None] * len(vals)
    if len(used) < MIN_POINTS:
        return ControlChart(ChartType.P, list(labels), vals, None, nothing, list(nothing))
    p = sum(x for x, _ in used) / sum(n for _, n in used)
    lower: list[float | None] = []
    upper: list[float | None] = []
    for n, v in zip(denominators, vals, strict=True):
        if v is None or not n:
            lower.append(None)
            upper.append(None)
            continue
        half = SIGMAS * math.sqrt(p * (1 - p) / float(n))
        lower.append(100.0 * max(0.0, p - half))
        upper.append(100.0 * min(1.0, p + half))
    return _with_signals(ControlChart(ChartType.P, list(labels), vals, 100.0 * p, lower, upper))


def chart_for(
    unit: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    numerators: Sequence[float | None] | None = None,
    denominators: Sequence[float | None] | None = None,
) -> ControlChart:
    """The chart a measure belongs on: a p-chart for a percentage with its counts, else XmR."""
    if unit == "percent" and numerators is not None and denominators is not None:
        return p_chart(labels, numerators, denominators)
    return xmr(labels, values)


def judge(signal: Signal, polarity: str) -> str:
    """'deterioration', 'improvement' or 'change' (where neither direction is better)."""
    if polarity == "lower_is_better":
        return "deterioration" if signal.direction == UP else "improvement"
    if polarity == "higher_is_better":
        return "deterioration" if signal.direction == DOWN else "improvement"
    return "change"


def recent(chart: ControlChart, months: int = 3) -> list[Signal]:
    """Signals that reach into the last ``months`` points: what is happening now."""
    present = _present(chart.values)
    if not present:
        return []
    cutoff = present[max(0, len(present) - months)]
    return [s for s in chart.signals if s.last >= cutoff]


__all__ = [
    "BEYOND_LIMITS",
    "DOWN",
    "MIN_POINTS",
    "RULE_TITLES",
    "SHIFT",
    "SHIFT_RUN",
    "TREND",
    "TREND_RUN",
    "UP",
    "ChartType",
    "ControlChart",
    "Signal",
    "beyond_limits",
    "chart_for",
    "judge",
    "p_chart",
    "recent",
    "shifts",
    "trends",
    "xmr",
]
