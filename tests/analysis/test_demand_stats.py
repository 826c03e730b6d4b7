"""Demand statistics against known answers: simulated series with a fixed seed."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from csc_insight.analysis.breaks import binary_segmentation, find_breaks, interruption
from csc_insight.analysis.seasonal import calendar_features, decompose, term_ratio
from csc_insight.analysis.series import period_starts
from csc_insight.analysis.terms import Event, TermCalendar

WEEKS = period_starts(date(2015, 4, 1), date(2024, 3, 31), "W")


def _poisson_weeks(rate: np.ndarray, seed: int, index: pd.DatetimeIndex = WEEKS) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).poisson(rate), index=index)


def test_term_ratio_recovers_a_known_ratio_with_honest_intervals() -> None:
    cal = TermCalendar(events=())
    share = calendar_features(WEEKS, "W", cal)["term_share"].to_numpy()
    # 4 a week in holidays, 3 times that in term; mixed weeks in proportion.
    rate = 4.0 * (1 + 2.0 * share)
    results = [term_ratio(_poisson_weeks(rate, seed), cal) for seed in range(20)]
    assert all(r is not None for r in results)
    covered = sum(r.ci_low < 3.0 < r.ci_high for r in results if r is not None)
    # 95% intervals: 20 of 20 expected about 19 times; 16 or fewer has probability < 2%.
    assert covered >= 17
    r = results[0]
    assert r is not None
    assert r.ci_high / r.ci_low < 1.5  # informative, not just wide
    assert r.term_weeks > 300 and r.holiday_weeks > 100
    assert r.mean_term_week / r.mean_holiday_week == pytest.approx(3.0, rel=0.15)


def test_term_ratio_is_one_without_a_term_effect() -> None:
    r = term_ratio(_poisson_weeks(np.full(len(WEEKS), 20.0), 2), TermCalendar(events=()))
    assert r is not None and r.ci_low < 1.0 < r.ci_high


def test_interruption_recovers_a_known_drop_and_rebound() -> None:
    event = Event("closure", date(2020, 3, 23), date(2020, 7, 19))
    cal = TermCalendar(events=(event,))
    share = calendar_features(WEEKS, "W", cal)["term_share"].to_numpy()
    rate = 30.0 * (0.5 + 0.5 * share)
    start = WEEKS.get_loc(pd.Timestamp("2020-03-23"))
    end = WEEKS.get_loc(pd.Timestamp("2020-07-13"))
    rate[start : end + 1] *= 0.4  # a 60% drop
    rate[end + 1 : end + 7] *= 1.3  # six weeks of catching up
    r = interruption(_poisson_weeks(rate, 3), "W", event, cal, recovery_weeks=6)
    assert r.during.ci_low < 0.4 < r.during.ci_high
    assert r.recovery is not None and r.recovery.ci_low < 1.3 < r.recovery.ci_high
    assert r.after is not None and r.after.ci_low < 1.0 < r.after.ci_high
    assert r.expected_during == pytest.approx(r.observed_during / r.during.ratio, rel=0.02)
    assert "fell by" in r.sentence("referrals")


def test_interruption_needs_a_year_before() -> None:
    from csc_insight.errors import CscInsightError

    with pytest.raises(CscInsightError):
        interruption(
            _poisson_weeks(np.full(len(WEEKS), 5.0), 4),
            "W",
            Event("too early", date(2015, 6, 1), date(2015, 7, 1)),
            TermCalendar(events=()),
        )


def test_binary_segmentation_finds_known_change_points() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(10, 1, 100), rng.normal(13, 1, 80), rng.normal(9, 1, 120)])
    found = binary_segmentation(x)
    assert len(found) == 2
    assert abs(found[0] - 100) <= 3 and abs(found[1] - 180) <= 3


def test_binary_segmentation_finds_nothing_in_noise() -> None:
    rng = np.random.default_rng(6)
    for _ in range(5):
        assert binary_segmentation(rng.normal(0, 1, 300)) == []


def test_find_breaks_sees_through_the_seasons() -> None:
    t = np.arange(len(WEEKS))
    rate = 20 + 8 * np.sin(2 * np.pi * t / 52.18)
    rate[t >= 260] *= 1.5
    breaks = find_breaks(_poisson_weeks(rate, 7), "W")
    assert len(breaks) == 1
    assert abs((breaks[0].date - WEEKS[260].date()).days) <= 21
    assert breaks[0].change_pct is not None and 35 < breaks[0].change_pct < 65


def test_stl_recovers_a_known_seasonal_pattern() -> None:
    months = pd.date_range("2016-01-01", periods=96, freq="MS")
    t = np.arange(96)
    seasonal = 10 * np.sin(2 * np.pi * t / 12)
    y = pd.Series(100 + 0.5 * t + seasonal + np.random.default_rng(8).normal(0, 1, 96), months)
    d = decompose(y, "M")
    assert d is not None
    assert np.corrcoef(d.seasonal, seasonal)[0, 1] > 0.98
    assert np.allclose(d.observed, d.trend + d.seasonal + d.remainder)
    assert d.seasonal_strength > 0.9
    assert decompose(y.iloc[:20], "M") is None


def test_weekly_index_starts_on_monday_and_keeps_whole_weeks() -> None:
    idx = period_starts(date(2024, 4, 1), date(2025, 3, 31), "W")
    assert all(d.weekday() == 0 for d in idx)
    assert idx[0].date() == date(2024, 4, 1) and idx[-1].date() == date(2025, 3, 24)
    assert (idx[-1].date() + timedelta(days=6)) <= date(2025, 3, 31)
    months = period_starts(date(2018, 4, 6), date(2025, 3, 29), "M")
    assert months[0].date() == date(2018, 5, 1) and months[-1].date() == date(2025, 2, 1)
