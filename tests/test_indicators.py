"""Hand-built golden fixtures: each indicator's edge cases written out, on every engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from csc_insight.indicators import REGISTRY, catalogue_markdown, compute
from csc_insight.warehouse.store import Warehouse

Rows = dict[str, list[dict[str, Any]]]

FY = "2024-25"


def values(warehouse: Warehouse, *ids: str) -> dict[str, float | None]:
    """The named indicators' values (only those: each is a query per engine)."""
    return {r.id: r.value for r in compute(warehouse, FY, ids=list(ids))}


def ref(child: str, day: date, rid: str, nfa: bool = False, closed: date | None = None) -> dict:
    return {
        "child_id": child,
        "referral_id": rid,
        "referral_date": day,
        "referral_nfa": nfa,
        "closure_date": closed,
    }


def test_referrals_rereferrals_and_nfa(engine_with: Callable[[Rows], Warehouse]) -> None:
    w = engine_with(
        {
            "referrals": [
                ref("a", date(2024, 3, 31), "r1", closed=date(2024, 4, 30)),  # before the year
                ref(
                    "a", date(2024, 4, 1), "r2", nfa=True
                ),  # re-referral, 1 day after a previous one
                ref("b", date(2023, 4, 1), "r3", closed=date(2023, 5, 1)),
                ref("b", date(2024, 4, 1), "r4"),  # exactly 12 months later: counts as within 12
                ref("c", date(2023, 3, 31), "r5", closed=date(2023, 5, 1)),
                ref(
                    "c", date(2024, 4, 2), "r6", closed=date(2025, 3, 31)
                ),  # over 12 months: not re
                ref("d", date(2025, 3, 31), "r7"),  # last day of the year, still open
                ref("d", date(2025, 4, 1), "r8"),  # after the year
            ]
        }
    )
    v = values(
        w,
        "cin.referrals",
        "cin.rereferral_pct",
        "cin.nfa_pct",
        "cin.children_in_need_31mar",
    )
    assert v["cin.referrals"] == 4
    assert v["cin.rereferral_pct"] == pytest.approx(2 / 4 * 100)
    assert v["cin.nfa_pct"] == pytest.approx(25.0)
    # open at 31 March 2025: a (r2), b (r4), d (r7); c closed on 31 March itself
    assert v["cin.children_in_need_31mar"] == 3


def test_assessments_within_45_working_days(engine_with: Callable[[Rows], Warehouse]) -> None:
    def a(aid: str, start: date, end: date | None) -> dict:
        return {
            "child_id": aid,
            "referral_id": aid,
            "assessment_id": aid,
            "start_date": start,
            "authorised_date": end,
        }

    w = engine_with(
        {
            "assessments": [
                # 45 working days exactly (start day 0), across the May 2024 bank holidays
                a("x", date(2024, 4, 29), date(2024, 7, 3)),
                a("y", date(2024, 4, 29), date(2024, 7, 4)),  # 46 working days
                a("z", date(2025, 3, 31), date(2025, 3, 31)),  # same day: 0 working days
                a("w", date(2024, 1, 1), None),  # still in progress: not in the denominator
            ]
        }
    )
    v = values(w, "cin.assessment_45wd_pct", "cin.assessment_median_wd")
    assert v["cin.assessment_45wd_pct"] == pytest.approx(2 / 3 * 100)
    assert v["cin.assessment_median_wd"] == 45


def test_looked_after_and_child_protection(engine_with: Callable[[Rows], Warehouse]) -> None:
    def ep(child: str, decom: date, dec: date | None, ls: str = "C2", rne: str = "S") -> dict:
        return {"child_id": child, "decom": decom, "dec": dec, "ls": ls, "rne": rne}

    def plan(pid: str, start: date, end: date | None) -> dict:
        return {
            "child_id": pid,
            "referral_id": pid,
            "plan_id": pid,
            "start_date": start,
            "end_date": end,
        }

    w = engine_with(
        {
            "cla_episodes": [
                ep("a", date(2023, 5, 1), date(2024, 6, 1)),
                ep("a", date(2024, 6, 1), None, rne="P"),  # placement move, still looked after
                ep("b", date(2024, 9, 1), date(2025, 3, 31)),  # ceased on 31 March: not counted
                ep("c", date(2024, 10, 1), None, ls="V3"),  # short breaks only: excluded
                ep("d", date(2025, 3, 31), None),  # started on the last day
            ],
            "cp_plans": [
                plan("p", date(2024, 1, 1), None),
                plan("q", date(2024, 5, 1), date(2025, 3, 31)),
                plan("r", date(2025, 4, 1), None),
            ],
        }
    )
    v = values(w, "cla.children_31mar", "cla.started", "cp.plans_31mar", "cp.plans_started")
    assert v["cla.children_31mar"] == 2
    assert v["cla.started"] == 2
    assert v["cp.plans_31mar"] == 1
    assert v["cp.plans_started"] == 1


def test_service_waits(engine_with: Callable[[Rows], Warehouse]) -> None:
    def inv(iid: str, req: date, start: date | None, end: date | None = None) -> dict:
        return {
            "child_id": iid,
            "involvement_id": iid,
            "service": "Family Support",
            "date_requested": req,
            "date_started": start,
            "date_ended": end,
        }

    w = engine_with(
        {
            "service_involvements": [
                inv("a", date(2024, 4, 1), date(2024, 4, 11)),
                inv("b", date(2024, 5, 1), date(2024, 5, 21)),
                inv("c", date(2024, 6, 1), date(2024, 7, 1)),
                inv("d", date(2023, 1, 1), date(2023, 2, 1), date(2024, 3, 31)),  # ended before
                inv("e", date(2025, 3, 1), None),  # not started
            ]
        }
    )
    v = values(w, "svc.wait_median_days", "svc.children_helped")
    assert v["svc.wait_median_days"] == 20
    assert v["svc.children_helped"] == 3


def test_empty_warehouse_has_no_period(engine: Warehouse) -> None:
    assert compute(engine) == []


def test_every_indicator_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "indicators.md").read_text()
    for indicator in REGISTRY.values():
        assert indicator.definition and indicator.title
        assert f"`{indicator.id}`" in doc, f"{indicator.id} is missing from docs/indicators.md"
    assert doc == catalogue_markdown(), (
        "docs/indicators.md is out of date: csc-insight indicators --list --format markdown"
        " > docs/indicators.md"
    )
