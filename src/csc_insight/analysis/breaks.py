"""Interruptions: how much a known event changed demand, and breaks nobody announced.

A known event (a school closure, a new front door, a policy change) is measured by
interrupted time series: segmented log-linear (Poisson quasi-likelihood) regression of the
counts with the usual pattern of the year (school terms, bank holidays, an annual wave)
and a trend, plus a level for the event, a level for the weeks just after it (the
rebound or slow return) and a level for everything after that (whether demand came back
to where it would have been). Standard errors are Newey-West (HAC), because counts in
neighbouring weeks are correlated (or quasi-Poisson ones when larger, see
``seasonal.fit_counts``). Other known events are controlled for, so one closure
does not contaminate the baseline of another.

Unannounced breaks are found by binary segmentation (Scott and Knott 1974) on the mean of
the de-seasonalised series, with a BIC-style penalty: a split is kept only if it explains
more variance than chance would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
import statsmodels.api as sm

from csc_insight.analysis.seasonal import (
    SEASON_LENGTH,
    CountFit,
    calendar_features,
    decompose,
    event_columns,
    fit_counts,
    hac_lags,
    overlap_share,
    period_end,
)
from csc_insight.analysis.terms import Event, TermCalendar
from csc_insight.errors import CscInsightError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Ratio:
    """A multiplicative effect (1.0 = no change) with its 95% confidence interval."""

    ratio: float
    ci_low: float
    ci_high: float

    @property
    def change_pct(self) -> float:
        return 100.0 * (self.ratio - 1.0)

    def as_dict(self) -> dict[str, float]:
        return {
            "ratio": self.ratio,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "change_pct": self.change_pct,
            "change_pct_ci_low": 100.0 * (self.ci_low - 1.0),
            "change_pct_ci_high": 100.0 * (self.ci_high - 1.0),
        }


@dataclass(frozen=True)
class Interruption:
    """The measured effect of an event on a demand series."""

    event: Event
    during: Ratio  # level while the event lasted, relative to what was expected without it
    recovery: Ratio | None  # level in the recovery window just after it
    after: Ratio | None  # level from the end of the recovery window onwards
    recovery_weeks: int
    observed_during: float
    expected_during: float  # what the model expects had the event not happened
    expected_during_ci: tuple[float, float]
    method: str

    def sentence(self, what: str) -> str:
        d = self.during
        direction = "fell" if d.ratio < 1 else "rose"
        text = (
            f"During {self.event.name} ({self.event.start:%d %b %Y} to "
            f"{self.event.end:%d %b %Y}) {what} {direction} by {abs(d.change_pct):.0f}% "
            f"against what the usual pattern predicted (95% CI {abs(d.ci_high - 1) * 100:.0f}% "
            f"to {abs(d.ci_low - 1) * 100:.0f}%): {self.observed_during:,.0f} instead of about "
            f"{self.expected_during:,.0f}."
            if d.ratio < 1
            else f"During {self.event.name} {what} {direction} by {d.change_pct:.0f}% "
            f"(95% CI {(d.ci_low - 1) * 100:.0f}% to {(d.ci_high - 1) * 100:.0f}%)."
        )
        if self.recovery is not None:
            r = self.recovery
            text += (
                f" In the {self.recovery_weeks} weeks after, demand was {r.ratio:.2f} times the "
                f"expected level (95% CI {r.ci_low:.2f} to {r.ci_high:.2f})"
            )
            if self.after is not None:
                a = self.after
                back = a.ci_low <= 1 <= a.ci_high
                text += (
                    "; after that it was back to the expected level"
                    if back
                    else f"; after that it stayed {a.ratio:.2f} times the expected level "
                    f"(95% CI {a.ci_low:.2f} to {a.ci_high:.2f})"
                )
            text += "."
        return text


def _annual_wave(index: pd.DatetimeIndex, pairs: int = 2) -> pd.DataFrame:
    """Sine and cosine of the time of year: the smooth part of the annual pattern."""
    angle = 2 * np.pi * index.day_of_year.to_numpy() / 365.25
    cols = {}
    for k in range(1, pairs + 1):
        cols[f"sin{k}"] = np.sin(k * angle)
        cols[f"cos{k}"] = np.cos(k * angle)
    return pd.DataFrame(cols, index=index)


def _ratio(fit: CountFit, name: str) -> Ratio | None:
    if name not in fit.params.index:
        return None
    return Ratio(*fit.ratio(name))


def interruption(
    series: pd.Series,
    freq: str,
    event: Event,
    calendar: TermCalendar,
    recovery_weeks: int = 8,
    controls: Sequence[Event] | None = None,
) -> Interruption:
    """Interrupted time series estimate of ``event``'s effect on ``series``.

    ``controls`` are other known events modelled alongside (default: the calendar's events
    that do not overlap this one), each with its own level and recovery.
    """
    index = pd.DatetimeIndex(series.index)
    if len(index) == 0 or event.end < index[0].date() or event.start > period_end(index[-1], freq):
        raise CscInsightError(
            f"The series does not cover {event.start:%d %b %Y} to {event.end:%d %b %Y}."
        )
    if controls is None:
        controls = [e for e in calendar.events if e.end < event.start or e.start > event.end]
    before = sum(period_end(s, freq) < event.start for s in index)
    if before < SEASON_LENGTH[freq]:
        raise CscInsightError(
            "An interruption needs at least a year of data before it to know what to expect."
        )
    feats = calendar_features(index, freq, calendar)
    x = pd.concat(
        [
            feats[["years", "term_share", "bank_holidays"]],
            _annual_wave(index),
            event_columns(index, freq, controls, recovery_weeks).add_prefix("control_"),
        ],
        axis=1,
    )
    ends = [period_end(s, freq) for s in index]
    x["during"] = [overlap_share(s.date(), e, event) for s, e in zip(index, ends, strict=True)]
    rec = Event(
        "recovery",
        event.end + pd.Timedelta(days=1).to_pytimedelta(),
        event.end + pd.Timedelta(weeks=recovery_weeks).to_pytimedelta(),
    )
    x["recovery"] = [overlap_share(s.date(), e, rec) for s, e in zip(index, ends, strict=True)]
    x["after"] = [1.0 if s.date() > rec.end else 0.0 for s in index]
    x = x.loc[:, x.abs().sum() > 0]
    # Too few periods after the recovery window to tell a lasting change from the trend.
    if x.get("after") is not None and x["after"].sum() < SEASON_LENGTH[freq] / 2:
        x = x.drop(columns="after")
    x = sm.add_constant(x, has_constant="add")
    y = series.astype("float64").to_numpy()
    fit = fit_counts(y, x)
    during = _ratio(fit, "during")
    assert during is not None
    inside = x["during"].to_numpy() > 0
    share = x["during"].to_numpy()[inside]
    without = x.copy()
    without[["during"]] = 0.0
    expected = float((np.exp(without.to_numpy() @ fit.params.to_numpy())[inside] * share).sum())
    observed = float((y[inside] * share).sum())
    return Interruption(
        event=event,
        during=during,
        recovery=_ratio(fit, "recovery"),
        after=_ratio(fit, "after"),
        recovery_weeks=recovery_weeks,
        observed_during=observed,
        expected_during=expected,
        # Observed demand is fixed; the uncertainty is in the counterfactual, so divide by
        # the ratio's bounds.
        expected_during_ci=(observed / during.ci_high, observed / during.ci_low),
        method=(
            "Interrupted time series: segmented Poisson quasi-likelihood regression with "
            "trend, school-term share, bank holidays, an annual wave and other known events; "
            f"the larger of Newey-West ({hac_lags(len(y))} lags) and quasi-Poisson standard "
            "errors"
        ),
    )


# --- change points ------------------------------------------------------------------------


def _segment_cost(cum: FloatArray, cum2: FloatArray, i: int, j: int) -> float:
    """Sum of squared deviations from the mean of x[i:j], from cumulative sums."""
    n = j - i
    s = cum[j] - cum[i]
    return float(cum2[j] - cum2[i] - s * s / n)


def robust_sd(x: FloatArray) -> float:
    """Noise level from the median absolute first difference, unmoved by level shifts."""
    d = np.diff(x)
    mad = float(np.median(np.abs(d - np.median(d))))
    return mad / 0.6744897501960817 / math.sqrt(2)


def binary_segmentation(
    x: Sequence[float] | FloatArray,
    min_size: int = 8,
    penalty: float | None = None,
    max_breaks: int = 10,
) -> list[int]:
    """Indices where the mean of ``x`` changes (each the first index of a new segment).

    A split is accepted when it lowers the sum of squared deviations by more than
    ``penalty``; the default, 3 sigma^2 log(n) with sigma from the first differences, is a
    BIC-style threshold made stricter because real series are autocorrelated.
    """
    arr = np.asarray(x, dtype="float64")
    n = len(arr)
    if penalty is None:
        penalty = 3.0 * robust_sd(arr) ** 2 * math.log(max(n, 2))
    cum = np.concatenate([[0.0], np.cumsum(arr)])
    cum2 = np.concatenate([[0.0], np.cumsum(arr * arr)])
    found: list[int] = []
    segments = [(0, n)]
    while segments and len(found) < max_breaks:
        best: tuple[float, int, tuple[int, int]] | None = None
        for i, j in segments:
            if j - i < 2 * min_size:
                continue
            whole = _segment_cost(cum, cum2, i, j)
            for k in range(i + min_size, j - min_size + 1):
                gain = whole - _segment_cost(cum, cum2, i, k) - _segment_cost(cum, cum2, k, j)
                if best is None or gain > best[0]:
                    best = (gain, k, (i, j))
        if best is None or best[0] <= penalty:
            break
        _, k, (i, j) = best
        found.append(k)
        segments.remove((i, j))
        segments.extend([(i, k), (k, j)])
    return sorted(found)


@dataclass(frozen=True)
class Break:
    """A change in the de-seasonalised level that nobody told the model about."""

    date: date
    level_before: float
    level_after: float

    @property
    def change_pct(self) -> float | None:
        if self.level_before <= 0:
            return None
        return 100.0 * (self.level_after / self.level_before - 1.0)


def find_breaks(series: pd.Series, freq: str, min_weeks: int = 8) -> list[Break]:
    """Breaks in the level of ``series`` once its seasonal pattern is taken out."""
    dec = decompose(series, freq)
    values = series.astype("float64")
    if dec is not None:
        values = values - dec.seasonal
    min_size = min_weeks if freq == "W" else max(2, math.ceil(min_weeks / 4.35))
    arr: FloatArray = np.asarray(values.to_numpy(), dtype=np.float64)
    cuts = binary_segmentation(arr, min_size=min_size)
    edges = [0, *cuts, len(arr)]
    out = []
    for a, k, b in zip(edges, edges[1:], edges[2:], strict=False):
        out.append(Break(series.index[k].date(), float(arr[a:k].mean()), float(arr[k:b].mean())))
    return out


__all__ = [
    "Break",
    "Interruption",
    "Ratio",
    "binary_segmentation",
    "find_breaks",
    "interruption",
    "robust_sd",
]
