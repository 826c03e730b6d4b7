"""Planted effects of the synthetic authority recovered through ingest, series and models.

The synthetic authority (scale "small", seed 1) plants school-term seasonality of
school-sourced referrals, the Covid school closures with a rebound on reopening, and a slow
trend (docs/synthetic-data.md). Each test compares like with like: the planted value is
what the same estimator gives on the planted, noise-free intensity.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from csc_insight.analysis.breaks import interruption
from csc_insight.analysis.forecast import backtest
from csc_insight.analysis.placements import placement_forecast
from csc_insight.analysis.seasonal import term_ratio
from csc_insight.analysis.series import SCHOOL_SOURCES, demand_series
from csc_insight.analysis.terms import COVID_SCHOOL_CLOSURES, TermCalendar
from csc_insight.indicators.workdays import bank_holidays
from csc_insight.warehouse.store import Warehouse

SEED = 1


@lru_cache(maxsize=1)
def synthetic_home(base: Path) -> Path:
    """A workspace holding the synthetic authority, built once per test session (the impact
    tests import this too)."""
    from csc_insight.ingest import ingest
    from csc_insight.privacy.pseudonymise import Pseudonymiser
    from csc_insight.synth import generate

    home = base / "synthetic-home"
    generate(home / "files", scale="small", seed=SEED)
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as w:
        ingest([home / "files"], w, Pseudonymiser(b"k" * 32))
    return home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_home(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def truth(home: Path) -> dict[str, Any]:
    return dict(json.loads((home / "files" / "ground_truth.json").read_text()))


@pytest.fixture(scope="module")
def school_weekly(home: Path) -> pd.Series:
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as w:
        s = demand_series(w, "referrals", "W", filters={"source": SCHOOL_SOURCES})
    return s.counts["all"]


def planted_school_intensity(truth: dict[str, Any], index: pd.DatetimeIndex) -> pd.Series:
    """Expected weekly school-sourced referrals as planted (up to scale), from
    ground_truth.json: weekday profile, bank holidays, holiday level, autumn return lift,
    and the Covid closures with their rebound."""
    se, cv = truth["planted"]["seasonality"], truth["planted"]["covid"]
    cal, holidays = TermCalendar(), bank_holidays()
    closures = [
        (date.fromisoformat(a), date.fromisoformat(b), cv["school_source_factor_while_closed"][a])
        for a, b in cv["school_closures"]
    ]

    def day(d: date) -> float:
        profile = se["weekday_profile_mon_to_sun"][d.weekday()]
        p = truth["planted"]["seasonality"]["bank_holiday_factor"] if d in holidays else profile
        term = cal.is_school_day(d)
        f = 1.0 if term else se["school_holiday_factor"]
        year = d.year if d.month >= 9 else d.year - 1
        autumn = cal.terms(year)[0].start
        if autumn <= d < autumn + timedelta(weeks=se["autumn_return_weeks"]):
            f *= se["autumn_return_lift"]
        for first, last, factor in closures:
            if first <= d <= last:
                f = (1.0 if term else se["school_holiday_factor"]) * factor
            if last < d <= last + timedelta(weeks=cv["rebound_weeks"]):
                f *= cv["rebound_factor"]
        return p * f

    return (
        pd.Series(
            [sum(day(m.date() + timedelta(days=i)) for i in range(7)) for m in index], index=index
        )
        * 50
    )


def test_school_term_ratio_is_recovered(school_weekly: pd.Series, truth: dict[str, Any]) -> None:
    cal = TermCalendar()
    planted = term_ratio(planted_school_intensity(truth, school_weekly.index), cal)
    found = term_ratio(school_weekly, cal)
    assert planted is not None and found is not None
    # Like with like: the estimator on the noise-free planted intensity (about 5.1; the raw
    # holiday factor 0.18 is diluted by weekends, which schools never refer on).
    assert 4.5 < planted.ratio < 5.8
    assert found.ci_low < planted.ratio < found.ci_high
    assert found.ci_low > 2.5  # clearly a term effect


@pytest.mark.parametrize("k", [0, 1])
def test_school_closure_drop_and_rebound_are_recovered(
    school_weekly: pd.Series, truth: dict[str, Any], k: int
) -> None:
    cv = truth["planted"]["covid"]
    event = COVID_SCHOOL_CLOSURES[k]
    assert [event.start.isoformat(), event.end.isoformat()] == cv["school_closures"][k]
    drop = cv["school_source_factor_while_closed"][cv["school_closures"][k][0]]
    r = interruption(school_weekly, "W", event, TermCalendar(), cv["rebound_weeks"])
    assert r.during.ci_low < drop < r.during.ci_high
    if k == 0:  # the long first closure is a measurable drop even in a small authority
        assert r.during.ci_high < 0.7
    assert r.recovery is not None
    assert r.recovery.ci_low < cv["rebound_factor"] < r.recovery.ci_high


def test_forecast_beats_seasonal_naive_on_referrals(home: Path) -> None:
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as w:
        monthly = demand_series(w, "referrals", "M").counts["all"]
    acc = backtest(monthly, TermCalendar())
    assert acc is not None
    assert acc.better_than_naive, acc.verdict
    assert acc.mase_model < 0.9 * acc.mase_naive


def test_placement_projection_starts_from_children_in_care(home: Path) -> None:
    from csc_insight.indicators import compute

    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as w:
        p = placement_forecast(w, simulations=100)
        cla = [r for r in compute(w, "2024-25", ids=["cla.children_31mar"]) if not r.breakdown]
    assert p.start == date(2025, 3, 31)
    assert p.initial["all"] == cla[0].value
    months = pd.DataFrame(p.as_dict()["months"])
    assert len(months) == 12 * 4
    total = months[months["group"] == "all"]
    assert (total["lower95"] <= total["mean"]).all() and (total["mean"] <= total["upper95"]).all()


def test_cli_demand_json(home: Path) -> None:
    from csc_insight.cli import app

    runner = CliRunner()
    env = {"CSC_INSIGHT_HOME": str(home)}
    res = runner.invoke(app, ["demand", "--series", "referrals", "--json"], env=env)
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    g = payload["groups"]["all"]
    for key in ("counts", "decomposition", "term_ratio", "breaks", "forecast", "backtest"):
        assert key in g
    assert {"ratio", "ci_low", "ci_high"} <= set(payload["term_ratio_school_sources"])
    assert len(g["forecast"]["months"]) == 12
    assert g["backtest"]["better_than_seasonal_naive"] is True

    res = runner.invoke(
        app,
        ["demand", "--series", "referrals", "--interruption", "2020-03-23:2020-09-01", "--json"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    level = json.loads(res.stdout)["groups"]["all"]["level_change"]
    assert level["ci_low"] < level["ratio"] < level["ci_high"] < 1.0

    res = runner.invoke(app, ["demand", "--series", "nonsense"], env=env)
    assert res.exit_code != 0
