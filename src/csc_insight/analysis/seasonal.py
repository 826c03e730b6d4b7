"""Seasonality: trend, seasonal and remainder of a demand series, and the school-term effect.

The decomposition is STL (Cleveland et al. 1990, statsmodels), robust to outliers such as
the Covid months. The school-term effect is a ratio: expected demand in a week when schools
are teaching all week over a week when they are not teaching at all, from a log-linear
(Poisson quasi-likelihood) regression with a trend and the known interruptions, so a slow
rise in demand or a closure is not mistaken for term time. Its confidence interval uses
Newey-West (HAC) standard errors, because neighbouring weeks are not independent (or the
quasi-Poisson ones when larger, see ``fit_counts``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tsa.seasonal import STL

from csc_insight.analysis.terms import Event, TermCalendar
from csc_insight.indicators.workdays import bank_holidays

# Periods in a year: STL needs a whole number, and 52 weeks is within a day and a bit.
SEASON_LENGTH = {"W": 52, "M": 12}
Z95 = 1.959963984540054


def period_end(start: pd.Timestamp, freq: str) -> date:
    """Last day of the week (Sunday) or month starting ``start``."""
    if freq == "W":
        return (start + pd.Timedelta(days=6)).date()
    return (start + pd.offsets.MonthEnd(0)).date()


def overlap_share(start: date, end: date, event: Event) -> float:
    """Share of the days from ``start`` to ``end`` that fall inside ``event``."""
    lo, hi = max(start, event.start), min(end, event.end)
    return max(0, (hi - lo).days + 1) / ((end - start).days + 1)


def calendar_features(index: pd.DatetimeIndex, freq: str, calendar: TermCalendar) -> pd.DataFrame:
    """Per period: working days, bank holidays, share of working days that are school days,
    the week's kind (term, holiday, mixed; weekly only) and years since the first period."""
    holidays = bank_holidays()
    rows = []
    for start in index:
        first, last = start.date(), period_end(start, freq)
        weekdays = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        weekdays = [d for d in weekdays if d.weekday() < 5]
        rows.append(
            {
                "working_days": sum(d not in holidays for d in weekdays),
                "bank_holidays": sum(d in holidays for d in weekdays),
                "term_share": calendar.term_share(first, last),
                "kind": calendar.week_kind(first) if freq == "W" else "",
            }
        )
    out = pd.DataFrame(rows, index=index)
    origin = index[0] if len(index) else pd.Timestamp("2000-01-01")
    out["years"] = (index - origin).days / 365.25
    return out


def event_columns(
    index: pd.DatetimeIndex, freq: str, events: Sequence[Event], recovery_weeks: int = 6
) -> pd.DataFrame:
    """Per event, the share of each period inside it and inside the recovery weeks after it
    (the rebound when schools reopened); columns that are zero everywhere are dropped."""
    cols: dict[str, list[float]] = {}
    for i, ev in enumerate(events):
        after = Event(ev.name, ev.end + timedelta(days=1), ev.end + timedelta(weeks=recovery_weeks))
        cols[f"event{i}"] = [overlap_share(s.date(), period_end(s, freq), ev) for s in index]
        cols[f"event{i}_recovery"] = [
            overlap_share(s.date(), period_end(s, freq), after) for s in index
        ]
    out = pd.DataFrame(cols, index=index)
    return out.loc[:, out.abs().sum() > 0]


@dataclass(frozen=True)
class Decomposition:
    """STL components; observed = trend + seasonal + remainder."""

    observed: pd.Series
    trend: pd.Series
    seasonal: pd.Series
    remainder: pd.Series
    period: int
    seasonal_strength: float  # 1 - var(remainder) / var(seasonal + remainder), 0 to 1

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "observed": self.observed,
                "trend": self.trend,
                "seasonal": self.seasonal,
                "remainder": self.remainder,
            }
        )


def decompose(series: pd.Series, freq: str) -> Decomposition | None:
    """STL decomposition of a weekly or monthly series; None if under two years long."""
    period = SEASON_LENGTH[freq]
    y = series.astype("float64")
    if len(y) < 2 * period + 1:
        return None
    # A seasonal window of 7 periods lets the pattern drift slowly from year to year.
    fit = STL(y.to_numpy(), period=period, seasonal=7, robust=True).fit()
    trend = pd.Series(fit.trend, index=y.index)
    seasonal = pd.Series(fit.seasonal, index=y.index)
    remainder = pd.Series(fit.resid, index=y.index)
    detrended = float(np.var(seasonal + remainder))
    strength = max(0.0, 1.0 - float(np.var(remainder)) / detrended) if detrended > 0 else 0.0
    return Decomposition(y, trend, seasonal, remainder, period, strength)


@dataclass(frozen=True)
class TermRatio:
    """Expected demand in a full term week over a full holiday week, with its 95% CI."""

    ratio: float
    ci_low: float
    ci_high: float
    term_weeks: int
    holiday_weeks: int
    mean_term_week: float
    mean_holiday_week: float
    method: str

    def sentence(self, what: str) -> str:
        return (
            f"{what[:1].upper()}{what[1:]} ran at {self.ratio:.2f} times the holiday level in "
            "school term weeks "
            f"(95% CI {self.ci_low:.2f} to {self.ci_high:.2f}; {self.term_weeks} term weeks "
            f"and {self.holiday_weeks} holiday weeks)."
        )


def hac_lags(n: int) -> int:
    """Newey-West's rule of thumb for the lag truncation: floor(4 (n/100)^(2/9))."""
    return max(1, math.floor(4 * (n / 100) ** (2 / 9)))


@dataclass(frozen=True)
class CountFit:
    """Coefficients of a log-linear count regression and their standard errors."""

    params: pd.Series
    bse: pd.Series
    fitted: object  # the statsmodels results (for predictions)

    def ratio(self, name: str) -> tuple[float, float, float]:
        """exp(coefficient) with its 95% interval."""
        b, se = float(self.params[name]), float(self.bse[name])
        return math.exp(b), math.exp(b - Z95 * se), math.exp(b + Z95 * se)


def fit_counts(y: np.ndarray, x: pd.DataFrame) -> CountFit:
    """Poisson quasi-likelihood regression with autocorrelation-robust standard errors.

    Each standard error is the larger of Newey-West's (robust to autocorrelation and
    overdispersion) and the quasi-Poisson one (Pearson-scaled): a sandwich estimate is
    biased downwards when a coefficient rests on a few weeks, such as a short closure, and
    taking the larger keeps the intervals honest in both cases.
    """
    model = sm.GLM(y, x, family=sm.families.Poisson())
    hac = model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags(len(y))})
    quasi = model.fit(scale="X2")
    bse = np.maximum(np.asarray(hac.bse), np.asarray(quasi.bse))
    return CountFit(hac.params, pd.Series(bse, index=hac.params.index), hac)


def term_ratio(
    weekly: pd.Series, calendar: TermCalendar, events: Sequence[Event] | None = None
) -> TermRatio | None:
    """The school-term effect on a weekly series (None without enough of both kinds).

    Weeks where a term starts or ends mid-week are left out, so the ratio compares whole
    term weeks with whole holiday weeks. The model is log E[count] = a + b * years + c *
    term + d * bank holidays + event terms (each known interruption and the weeks after
    it); the ratio is exp(c).
    """
    events = calendar.events if events is None else events
    index = pd.DatetimeIndex(weekly.index)
    feats = calendar_features(index, "W", calendar)
    design = pd.concat([feats, event_columns(index, "W", events)], axis=1)
    keep = (design["kind"] != "mixed").to_numpy()
    y = weekly.astype("float64").to_numpy()[keep]
    d = design.loc[keep]
    term = (d["kind"] == "term").astype("float64")
    if term.sum() < 10 or (1 - term).sum() < 5 or y.sum() == 0:
        return None
    x = pd.concat(
        [d[["years", "bank_holidays"]], term.rename("term"), d.filter(like="event")], axis=1
    )
    x = sm.add_constant(x.loc[:, x.abs().sum() > 0], has_constant="add")
    ratio, low, high = fit_counts(y, x).ratio("term")
    quiet = (d.filter(like="event").sum(axis=1) == 0).to_numpy()
    return TermRatio(
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        term_weeks=int(term.sum()),
        holiday_weeks=int((1 - term).sum()),
        mean_term_week=float(y[(term.to_numpy() == 1) & quiet].mean()),
        mean_holiday_week=float(y[(term.to_numpy() == 0) & quiet].mean()),
        method=(
            "Poisson quasi-likelihood regression of weekly counts on term week (whole term "
            "weeks vs whole holiday weeks), trend, bank holidays and known interruptions; "
            f"Newey-West standard errors ({hac_lags(len(y))} lags)"
        ),
    )


__all__ = [
    "SEASON_LENGTH",
    "CountFit",
    "Decomposition",
    "TermRatio",
    "calendar_features",
    "decompose",
    "event_columns",
    "fit_counts",
    "hac_lags",
    "overlap_share",
    "period_end",
    "term_ratio",
]
