"""Forecasts and back-tests against known answers: simulated monthly series, fixed seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csc_insight.analysis.forecast import backtest, forecast, seasonal_naive
from csc_insight.analysis.seasonal import calendar_features
from csc_insight.analysis.terms import TermCalendar

MONTHS = pd.date_range("2016-04-01", periods=108, freq="MS")
CAL = TermCalendar(events=())


def _demand(seed: int, months: pd.DatetimeIndex = MONTHS) -> tuple[pd.Series, np.ndarray]:
    """Monthly demand driven by school terms and a trend, with AR(1) noise."""
    share = calendar_features(months, "M", CAL)["term_share"].to_numpy()
    t = np.arange(len(months))
    mean = 200 + 0.5 * t + 60 * share
    rng = np.random.default_rng(seed)
    noise = np.zeros(len(months))
    for k in range(1, len(months)):
        noise[k] = 0.4 * noise[k - 1] + rng.normal(0, 8)
    return pd.Series(mean + noise, index=months), mean


def test_seasonal_naive_repeats_last_year() -> None:
    y = pd.Series(np.arange(24.0), index=pd.date_range("2020-01-01", periods=24, freq="MS"))
    assert list(seasonal_naive(y, 14)) == [*range(12, 24), 12, 13]


def test_forecast_tracks_the_known_mean_and_its_intervals_cover() -> None:
    y, mean = _demand(1)
    train, future_mean = y.iloc[:96], mean[96:]
    f = forecast(train, CAL)
    assert f is not None and len(f.index) == 12
    assert f.index[0] == pd.Timestamp("2024-04-01")
    # Close to the true mean (noise sd ~8.7), intervals nested and covering what happened.
    assert np.abs(f.mean.to_numpy() - future_mean).mean() < 8
    assert (f.lower95 <= f.lower80).all() and (f.upper80 <= f.upper95).all()
    inside = (y.iloc[96:].to_numpy() >= f.lower95) & (y.iloc[96:].to_numpy() <= f.upper95)
    assert inside.sum() >= 10


def test_backtest_prefers_the_model_when_terms_drive_demand() -> None:
    y, _ = _demand(2)
    acc = backtest(y, CAL)
    assert acc is not None and acc.origins == 12 and acc.horizon == 12
    assert acc.better_than_naive and acc.mase_model < acc.mase_naive
    assert acc.verdict.startswith("The model forecasts better than repeating last year")
    assert len(acc.errors) == 12 * 12


def test_backtest_says_plainly_when_the_model_is_no_better() -> None:
    # A sharp spike every June that neither terms nor a smooth annual wave can describe,
    # with very little noise: repeating last year is hard to beat.
    rng = np.random.default_rng(3)
    y = pd.Series(100 + 80 * (MONTHS.month == 6) + rng.normal(0, 1, len(MONTHS)), MONTHS)
    acc = backtest(y, CAL)
    assert acc is not None and not acc.better_than_naive
    assert "does no better than simply repeating last year" in acc.verdict


def test_short_series_are_not_forecast() -> None:
    y, _ = _demand(4, MONTHS[:30])
    assert forecast(y, CAL) is None
    assert backtest(y, CAL) is None


@pytest.mark.parametrize("seed", [5, 6])
def test_forecasts_are_never_negative(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = pd.Series(rng.poisson(0.4, len(MONTHS)).astype(float), MONTHS)
    f = forecast(y, CAL)
    assert f is not None and (f.lower95 >= 0).all() and (f.mean >= 0).all()
