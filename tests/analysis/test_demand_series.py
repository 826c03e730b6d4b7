"""Demand series counted on the engine from hand-built rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from csc_insight.analysis.series import demand_series, dimensions_of
from csc_insight.errors import CscInsightError
from csc_insight.warehouse.store import Warehouse


def _referral(i: int, day: date, source: str, child: str = "c1") -> dict[str, Any]:
    return {
        "child_id": child,
        "referral_id": f"r{i}",
        "referral_date": day,
        "referral_source": source,
    }


@pytest.fixture
def loaded(warehouse_with: Callable[[dict[str, list[dict[str, Any]]]], Warehouse]) -> Warehouse:
    days = [
        date(2024, 4, 1),
        date(2024, 4, 7),
        date(2024, 4, 8),
        date(2024, 4, 8),
        date(2024, 5, 20),
        date(2024, 6, 30),
    ]
    sources = ["2A", "6", "2A", "2B", "6", ""]
    rows = [
        _referral(i, d, s, child=f"c{i % 2}")
        for i, (d, s) in enumerate(zip(days, sources, strict=True))
    ]
    return warehouse_with(
        {
            "referrals": rows,
            "children": [{"child_id": "c0", "locality": "North"}, {"child_id": "c1"}],
        }
    )


def test_weekly_counts_start_monday_and_fill_gaps(loaded: Warehouse) -> None:
    s = demand_series(loaded, "referrals", "W")
    assert s.counts.index[0].date() == date(2024, 4, 1)
    assert s.counts.index.day_of_week.unique().tolist() == [0]
    assert s.counts["all"].tolist()[:3] == [2, 2, 0]  # Sunday 7 April is in the first week
    assert int(s.counts["all"].sum()) == 6
    assert s.counts.index[-1].date() == date(2024, 6, 24)  # the last whole week


def test_breakdowns_and_filters(loaded: Warehouse) -> None:
    by = demand_series(loaded, "referrals", "M", by="source").counts
    assert by.loc["2024-04-01"].to_dict() == {"2A": 2, "6": 1, "2B": 1, "Not recorded": 0}
    assert int(by["Not recorded"].sum()) == 1
    school = demand_series(loaded, "referrals", "M", filters={"source": ["2A", "2B"]})
    assert school.counts["all"].tolist() == [3, 0, 0]
    loc = demand_series(loaded, "referrals", "M", by="locality").counts
    assert int(loc["North"].sum()) == 3 and int(loc["Not recorded"].sum()) == 3
    assert "locality" in dimensions_of("referrals")


def test_unknown_series_and_breakdowns_are_explained(loaded: Warehouse) -> None:
    with pytest.raises(CscInsightError, match="no demand series"):
        demand_series(loaded, "nonsense")
    with pytest.raises(CscInsightError, match="cannot be split by"):
        demand_series(loaded, "referrals", by="colour")
    with pytest.raises(CscInsightError, match="no section 47"):
        demand_series(loaded, "section47")
