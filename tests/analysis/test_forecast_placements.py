"""The looked-after transition-rate model against a simulated care system with known rates."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from csc_insight.analysis.placements import (
    estimate,
    expected_path,
    placement_group,
    project,
    segments,
    states,
)

# Known daily rates for 10-15 year olds: leaving care, and moving between placement types.
LEAVE = {"foster": 1 / 500, "residential": 1 / 250}
MOVE = {("foster", "residential"): 1 / 1500, ("residential", "foster"): 1 / 400}
ENTRIES = {"foster": 0.30, "residential": 0.05}  # children a day
PLACE = {"foster": "U4", "residential": "K2"}
START, END = date(2019, 1, 1), date(2024, 12, 31)


def _simulate(seed: int) -> pd.DataFrame:
    """903-style episodes of children entering at 10-11 (so they stay 10-15 throughout)."""
    rng = np.random.default_rng(seed)
    rows = []
    n = 0
    days = (END - START).days + 1
    for group, rate in ENTRIES.items():
        for day in np.flatnonzero(rng.poisson(rate, days)):
            for _ in range(1):
                n += 1
                t = START + timedelta(days=int(day))
                dob = t - timedelta(days=int(rng.uniform(10.05, 10.9) * 365.25))
                g = group
                while True:
                    out = LEAVE[g] + sum(r for (a, _), r in MOVE.items() if a == g)
                    stay = int(rng.exponential(1 / out)) + 1
                    end = t + timedelta(days=stay)
                    if end > END:
                        rows.append((f"c{n}", t, None, PLACE[g], dob))
                        break
                    leave = rng.random() < LEAVE[g] / out
                    rows.append((f"c{n}", t, end, PLACE[g], dob))
                    if leave:
                        break
                    g = "residential" if g == "foster" else "foster"
                    t = end
    return pd.DataFrame(rows, columns=["child_id", "decom", "dec", "place", "date_of_birth"])


@pytest.fixture(scope="module")
def rates_and_segments() -> tuple[object, pd.DataFrame]:
    seg = segments(_simulate(21), END)
    return estimate(seg, date(2022, 1, 1), END, states()), seg


def test_placement_groups() -> None:
    assert placement_group("U1") == "foster" and placement_group("u6") == "foster"
    assert placement_group("K2") == "residential" and placement_group("R5") == "residential"
    assert placement_group("P1") == "other" and placement_group(None) == "other"


def test_spells_split_at_birthdays_and_end_at_18() -> None:
    ep = pd.DataFrame(
        {
            "child_id": ["a", "a"],
            "decom": [date(2020, 1, 1), date(2021, 6, 1)],
            "dec": [date(2021, 6, 1), None],
            "place": ["U1", "K2"],
            "date_of_birth": [date(2005, 3, 10), date(2005, 3, 10)],
        }
    )
    seg = segments(ep, date(2025, 3, 31))
    # 16th birthday (10 March 2021) during the foster episode, a move on 1 June 2021.
    assert list(seg["state"]) == ["10 to 15|foster", "16 to 17|foster", "16 to 17|residential"]
    assert list(seg["start"]) == [date(2020, 1, 1), date(2021, 3, 10), date(2021, 6, 1)]
    assert seg["end"].iloc[-1] == date(2023, 3, 10)  # 18th birthday
    assert list(seg["leaves"]) == [False, False, True]


def test_rates_recover_the_known_ones(rates_and_segments: tuple[object, pd.DataFrame]) -> None:
    rates, _ = rates_and_segments
    i = {s: k for k, s in enumerate(rates.states)}  # type: ignore[attr-defined]
    f, r = i["10 to 15|foster"], i["10 to 15|residential"]
    assert rates.exits[f] == pytest.approx(LEAVE["foster"], rel=0.12)  # type: ignore[attr-defined]
    assert rates.exits[r] == pytest.approx(LEAVE["residential"], rel=0.15)  # type: ignore[attr-defined]
    assert rates.moves[f, r] == pytest.approx(MOVE[("foster", "residential")], rel=0.3)  # type: ignore[attr-defined]
    assert rates.moves[r, f] == pytest.approx(MOVE[("residential", "foster")], rel=0.2)  # type: ignore[attr-defined]
    assert rates.entries[f] == pytest.approx(ENTRIES["foster"], rel=0.1)  # type: ignore[attr-defined]
    assert rates.entries[r] == pytest.approx(ENTRIES["residential"], rel=0.25)  # type: ignore[attr-defined]


def test_projection_heads_for_the_known_steady_state(
    rates_and_segments: tuple[object, pd.DataFrame],
) -> None:
    rates, seg = rates_and_segments
    labels = rates.states  # type: ignore[attr-defined]
    now = seg[(seg["start"] <= END) & (seg["end"] > END)]
    initial = np.array([float((now["state"] == s).sum()) for s in labels])
    # Steady state of the known system: entries balance exits and moves.
    a = np.array(
        [
            [-(LEAVE["foster"] + MOVE[("foster", "residential")]), MOVE[("residential", "foster")]],
            [
                MOVE[("foster", "residential")],
                -(LEAVE["residential"] + MOVE[("residential", "foster")]),
            ],
        ]
    )
    steady = np.linalg.solve(a, -np.array([ENTRIES["foster"], ENTRIES["residential"]]))
    f, r = labels.index("10 to 15|foster"), labels.index("10 to 15|residential")
    assert initial[f] == pytest.approx(steady[0], rel=0.2)
    far = expected_path(rates, initial, 3000)[-1]  # type: ignore[arg-type]
    assert far[f] == pytest.approx(steady[0], rel=0.15)
    assert far[r] == pytest.approx(steady[1], rel=0.3)
    frame = project(rates, initial, END, months=12, simulations=200, seed=3)  # type: ignore[arg-type]
    last = frame[(frame["month_end"] == frame["month_end"].max())].set_index("group")
    expected = expected_path(rates, initial, 365)[-1]  # type: ignore[arg-type]
    assert last.loc["foster", "mean"] == pytest.approx(expected[f], rel=0.05)
    assert (
        last.loc["foster", "lower95"] < last.loc["foster", "mean"] < last.loc["foster", "upper95"]
    )
    assert last.loc["all", "mean"] == pytest.approx(
        last.loc[["foster", "residential", "other"], "mean"].sum()
    )
