"""Difference-in-differences against known answers: simulated panels with a fixed seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csc_insight.analysis.impact import DidEstimate, after_start, did, verdict, windows
from csc_insight.analysis.outcomes import outcome

TERMS = pd.date_range("2018-09-01", periods=21, freq="4MS")


def _panel(effect: float, seed: int, n_served: int = 300, n_other: int = 600) -> pd.DataFrame:
    """Children with their own level, terms that are good or bad for everyone, and a
    service starting at a random term for the served: the effect applies to the three terms
    after the start."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, 2, len(TERMS))
    rows = []
    for i in range(n_served + n_other):
        served = i < n_served
        level = rng.normal(85, 8)
        start = rng.integers(4, len(TERMS) - 4)
        for k in range(start - 3, start + 4):
            treat = int(served and k > start)
            rows.append(
                {
                    "child": f"c{i}",
                    "period": TERMS[k],
                    "treat": treat,
                    "value": level + shocks[k] + effect * treat + rng.normal(0, 3),
                    "weight": 1.0,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("effect", [4.0, 0.0, -2.5])
def test_did_recovers_a_known_effect(effect: float) -> None:
    est = did(_panel(effect, seed=11))
    assert est.ci_low < effect < est.ci_high
    assert est.ci_high - est.ci_low < 1.5
    assert est.clusters == 900


def test_did_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    covered = 0
    for seed in range(20):
        est = did(_panel(3.0, seed=100 + seed, n_served=80, n_other=160))
        covered += est.ci_low < 3.0 < est.ci_high
    assert covered >= 17


def test_did_takes_other_services_out_of_the_comparison() -> None:
    """Comparison children who got another, effective service would make a null service
    look harmful unless that service's effect is estimated alongside."""
    p = _panel(0.0, seed=12)
    other = (p["child"].str[1:].astype(int) >= 600) & (
        p["period"] > p.groupby("child")["period"].transform(lambda s: s.iloc[3])
    )
    p["other"] = other.astype(int)
    p.loc[other, "value"] += 6.0
    naive = did(p)
    fair = did(p, ("other",))
    assert naive.ci_high < 0  # looks harmful
    assert fair.ci_low < 0.0 < fair.ci_high


def test_verdicts_in_plain_english() -> None:
    o = outcome("attendance")
    up = verdict(o, DidEstimate(4.1, 1.0, 2.0, 6.2, 0.001, 300), 300, "similar children")
    assert up.startswith("Attendance rose by 4.1 points more than in the comparison group")
    assert "(95% CI 2.0 to 6.2" in up
    down = verdict(o, DidEstimate(-3.0, 1.0, -5.0, -1.0, 0.01, 300), 300, "x")
    assert down.startswith("Attendance fell by 3.0 points")
    null = verdict(o, DidEstimate(0.3, 0.6, -0.9, 1.5, 0.6, 300), 300, "x")
    assert null.startswith("No measurable change")
    few = verdict(o, None, 7, "x")
    assert few.startswith("Too few children")


def test_the_term_of_the_start_counts_as_before() -> None:
    panel = pd.DataFrame(
        {
            "child_id": ["a"] * 5,
            "period_start": pd.to_datetime(
                ["2023-01-04", "2023-04-17", "2023-09-04", "2024-01-04", "2024-04-08"]
            ),
            "value": [80.0, 81, 82, 90, 91],
            "weight": [100.0] * 5,
        }
    )
    index = pd.DataFrame({"child_id": ["a"], "index_date": pd.to_datetime(["2023-10-02"])})
    win = windows(panel, index, periods=2)
    assert list(win["post"]) == [0, 0, 1, 1]
    starts = pd.DataFrame({"child_id": ["a"], "start": pd.to_datetime(["2023-10-02"])})
    assert list(after_start(panel, starts, 1)) == [0, 0, 0, 1, 0]
