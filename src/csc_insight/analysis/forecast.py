"""Forecasts of monthly demand, 12 months ahead, and an honest check of how good they are.

The model is a regression with first-order autoregressive errors (feasible GLS): a level and
trend, the share of each month's working days that are school days (known years ahead from
the term calendar, so Easter moving between March and April is foreseen), working days,
an annual wave for the rest of the seasonal pattern, and the known interruptions (Covid
closures), which are set to zero in the future. Prediction intervals come from the model.

Accuracy is measured by rolling-origin back-testing (Tashman 2000): the model is refitted
at each of the last origins with only the data before it, forecasts the next 12 months,
and its errors are compared with the seasonal-naive forecast (the same month last year).
MASE scales errors by the in-sample seasonal-naive error (Hyndman and Koehler 2006), so a
MASE below the seasonal-naive's means the model is better than simply repeating last year.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from csc_insight.analysis.seasonal import Z95, calendar_features, event_columns
from csc_insight.analysis.terms import TermCalendar

HORIZON = 12
SEASON = 12
MIN_TRAIN = 36  # three years: enough to tell the trend from the seasonal pattern
Z80 = 1.2815515655446004


@dataclass(frozen=True)
class Forecast:
    """Monthly forecast with its 80% and 95% prediction intervals."""

    index: pd.DatetimeIndex
    mean: pd.Series
    lower80: pd.Series
    upper80: pd.Series
    lower95: pd.Series
    upper95: pd.Series
    model: str

    def as_records(self) -> list[dict[str, Any]]:
        return [
            {
                "period": d.date().isoformat(),
                "mean": float(self.mean[d]),
                "lower80": float(self.lower80[d]),
                "upper80": float(self.upper80[d]),
                "lower95": float(self.lower95[d]),
                "upper95": float(self.upper95[d]),
            }
            for d in self.index
        ]


def _exog(index: pd.DatetimeIndex, calendar: TermCalendar, origin: pd.Timestamp) -> pd.DataFrame:
    feats = calendar_features(index, "M", calendar)
    angle = 2 * np.pi * (index.month.to_numpy() - 0.5) / 12
    x = pd.DataFrame(
        {
            "trend": (index - origin).days / 365.25,
            "term_share": feats["term_share"],
            "working_days": feats["working_days"],
            "sin1": np.sin(angle),
            "cos1": np.cos(angle),
            "sin2": np.sin(2 * angle),
            "cos2": np.cos(2 * angle),
        },
        index=index,
    )
    ev = event_columns(index, "M", calendar.events, recovery_weeks=6)
    # Keep every event column (zeros included) so training and future designs agree.
    for i in range(len(calendar.events)):
        for col in (f"event{i}", f"event{i}_recovery"):
            x[col] = ev[col] if col in ev.columns else 0.0
    return x


def _design(y: pd.Series, calendar: TermCalendar, horizon: int) -> pd.DataFrame:
    """Regressors for the months of ``y`` and the ``horizon`` months after it."""
    index = pd.DatetimeIndex(y.index)
    future = pd.date_range(index[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    return _exog(pd.DatetimeIndex(index.append(future)), calendar, index[0])


def _fit_predict(
    y: pd.Series, design: pd.DataFrame, horizon: int
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Feasible GLS regression with AR(1) errors (statsmodels GLSAR, iterated
    Cochrane-Orcutt), then forecasts whose variance adds the AR(1) innovations accumulated
    over the horizon to the uncertainty of the coefficients. ``design`` holds the regressors
    for the months of ``y`` followed by at least ``horizon`` more."""
    n = len(y)
    x_train, x_future = design.iloc[:n], design.iloc[n : n + horizon]
    future = pd.DatetimeIndex(x_future.index)
    # Columns with no variation in the training data (an event not yet seen) are dropped.
    keep = [c for c in x_train if x_train[c].std() > 0]
    x_train = sm.add_constant(x_train[keep], has_constant="add")
    x_future = sm.add_constant(x_future[keep], has_constant="add")
    values = y.astype("float64").to_numpy()
    model = sm.GLSAR(values, x_train.to_numpy(), rho=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.iterative_fit(maxiter=8)
    rho = float(np.clip(np.asarray(model.rho).ravel()[0], -0.99, 0.99))
    beta = np.asarray(fit.params)
    cov = np.asarray(fit.cov_params())
    xf = x_future.to_numpy()
    last_error = values[-1] - float(x_train.to_numpy()[-1] @ beta)
    h = np.arange(1, horizon + 1)
    mean = xf @ beta + rho**h * last_error
    innovations = float(fit.scale) * np.cumsum(rho ** (2 * (h - 1)))
    coefficients = np.einsum("ij,jk,ik->i", xf, cov, xf)
    sd = np.sqrt(innovations + coefficients)
    out = {}
    for level, z in ((80, Z80), (95, Z95)):
        out[level] = pd.DataFrame({0: mean - z * sd, 1: mean + z * sd}, index=future)
    return pd.Series(mean, index=future), out[80], out[95]


MODEL_NAME = (
    "Regression with AR(1) errors (feasible GLS): trend, school-term share, working days, "
    "annual wave and known interruptions"
)


def forecast(y: pd.Series, calendar: TermCalendar, horizon: int = HORIZON) -> Forecast | None:
    """Forecast a monthly count series ``horizon`` months past its end (None if short)."""
    if len(y) < MIN_TRAIN:
        return None
    mean, ci80, ci95 = _fit_predict(y, _design(y, calendar, horizon), horizon)
    # Counts cannot be negative.
    floor = lambda s: s.clip(lower=0.0)  # noqa: E731
    return Forecast(
        pd.DatetimeIndex(mean.index),
        floor(mean),
        floor(ci80[0]),
        floor(ci80[1]),
        floor(ci95[0]),
        floor(ci95[1]),
        MODEL_NAME,
    )


def seasonal_naive(y: pd.Series, horizon: int, season: int = SEASON) -> np.ndarray:
    """Forecast of the next ``horizon`` values: the value one season earlier."""
    last = y.to_numpy(dtype="float64")[-season:]
    return np.array([last[h % season] for h in range(horizon)])


@dataclass(frozen=True)
class Accuracy:
    """Rolling-origin back-test scores of the model and of the seasonal-naive baseline."""

    origins: int
    horizon: int
    mape_model: float
    mape_naive: float
    mase_model: float
    mase_naive: float
    better_than_naive: bool
    verdict: str
    errors: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def as_dict(self) -> dict[str, Any]:
        return {
            "origins": self.origins,
            "horizon_months": self.horizon,
            "mape_model": self.mape_model,
            "mape_seasonal_naive": self.mape_naive,
            "mase_model": self.mase_model,
            "mase_seasonal_naive": self.mase_naive,
            "better_than_seasonal_naive": self.better_than_naive,
            "verdict": self.verdict,
        }


def backtest(
    y: pd.Series, calendar: TermCalendar, horizon: int = HORIZON, origins: int = 12
) -> Accuracy | None:
    """Refit at each of the last ``origins`` month-ends that leave ``horizon`` months to
    check against, forecast, and score against what happened (None if too short)."""
    values = y.astype("float64")
    n = len(values)
    last_origin = n - horizon
    first_origin = max(MIN_TRAIN, last_origin - origins + 1)
    if last_origin < first_origin:
        return None
    rows = []
    design = _design(values, calendar, horizon)
    for cut in range(first_origin, last_origin + 1):
        train, test = values.iloc[:cut], values.iloc[cut : cut + horizon]
        mean, _, _ = _fit_predict(train, design, horizon)
        naive = seasonal_naive(train, horizon)
        # In-sample seasonal-naive error: the MASE scale for this origin.
        t = train.to_numpy()
        scale = float(np.mean(np.abs(t[SEASON:] - t[:-SEASON])))
        for h, (actual, m, s) in enumerate(
            zip(test.to_numpy(), mean.clip(lower=0).to_numpy(), naive, strict=True), start=1
        ):
            rows.append(
                {"origin": cut, "h": h, "actual": actual, "model": m, "naive": s, "scale": scale}
            )
    e = pd.DataFrame(rows)
    nonzero = e["actual"] > 0
    mape_m = float((abs(e["model"] - e["actual"]) / e["actual"])[nonzero].mean() * 100)
    mape_n = float((abs(e["naive"] - e["actual"]) / e["actual"])[nonzero].mean() * 100)
    scaled = e["scale"].where(e["scale"] > 0)
    mase_m = float((abs(e["model"] - e["actual"]) / scaled).mean())
    mase_n = float((abs(e["naive"] - e["actual"]) / scaled).mean())
    better = mase_m < mase_n
    if better:
        verdict = (
            f"The model forecasts better than repeating last year: its errors are "
            f"{100 * (1 - mase_m / mase_n):.0f}% smaller than the seasonal-naive forecast's "
            f"(MASE {mase_m:.2f} against {mase_n:.2f}; MAPE {mape_m:.1f}% against "
            f"{mape_n:.1f}%)."
        )
    else:
        verdict = (
            f"The model does no better than simply repeating last year's figures (MASE "
            f"{mase_m:.2f} against {mase_n:.2f} for the seasonal-naive forecast; MAPE "
            f"{mape_m:.1f}% against {mape_n:.1f}%): use its forecast with caution."
        )
    return Accuracy(
        origins=int(e["origin"].nunique()),
        horizon=horizon,
        mape_model=mape_m,
        mape_naive=mape_n,
        mase_model=mase_m if math.isfinite(mase_m) else math.nan,
        mase_naive=mase_n if math.isfinite(mase_n) else math.nan,
        better_than_naive=bool(better),
        verdict=verdict,
        errors=e,
    )


__all__ = [
    "HORIZON",
    "MODEL_NAME",
    "Accuracy",
    "Forecast",
    "backtest",
    "forecast",
    "seasonal_naive",
]
