"""Rules on section 47s, child protection plans and reviews, and CIN plans."""

from __future__ import annotations

from datetime import date
from typing import Any

from rulecheck import Checked

FAMILY = "cin_protection"
D = date


def s47(sid: str, strategy: date, icpc: date | None, child: str | None = None, **v: Any) -> dict:
    c = child or sid
    return (
        {"child_id": c, "referral_id": c, "s47_id": sid, "strategy_date": strategy}
        | {"icpc_date": icpc}
        | v
    )


def plan(pid: str, start: date, end: date | None, child: str | None = None, **v: Any) -> dict:
    c = child or pid
    return {
        "child_id": c,
        "referral_id": c,
        "plan_id": pid,
        "start_date": start,
        "end_date": end,
        "initial_category": "NEG",
        "latest_category": "NEG",
    } | v


ROWS = {
    "referrals": [
        {
            "child_id": "nfa",
            "referral_id": "nfa",
            "referral_date": D(2024, 5, 1),
            "referral_nfa": True,
        }
    ],
    "section47": [
        s47("ok", D(2024, 5, 1), D(2024, 5, 20)),  # 1 fine
        s47("icpcfirst", D(2024, 5, 20), D(2024, 5, 1)),  # 2: 8615
        s47("awaiting", D(2023, 6, 1), None, icpc_not_required=False),  # 3: 8740
        s47("nr", D(2023, 6, 1), None, icpc_not_required=True),  # 4: concluded, no conference
        s47("two1", D(2024, 5, 1), D(2024, 6, 1), child="two"),  # 5
        s47("two2", D(2024, 5, 15), D(2024, 6, 10), child="two"),  # 6: 8890 starts during two1
    ],
    "cp_plans": [
        plan("ok", D(2024, 5, 20), D(2024, 9, 1)),  # 1 fine
        plan("future", D(2025, 5, 1), None),  # 2: 8720
        plan("sameday", D(2024, 6, 1), D(2024, 6, 1)),  # 3: 8840
        plan("backwards", D(2024, 6, 1), D(2024, 5, 1)),  # 4: LOC10
        plan("ovl1", D(2024, 6, 1), D(2024, 9, 1), child="ovl"),  # 5
        plan("ovl2", D(2024, 7, 1), None, child="ovl"),  # 6: LOC11
        plan("cat", D(2024, 6, 1), None, initial_category="XYZ"),  # 7: LOC12
        plan("nfa", D(2024, 6, 1), None),  # 8: 8832
        plan("seq1", D(2024, 6, 1), D(2024, 7, 1), child="seq"),  # 9
        plan("seq2", D(2024, 7, 1), None, child="seq"),  # 10: starts the day seq1 ended
    ],
    "cp_reviews": [
        {"child_id": "ok", "plan_id": "ok", "review_date": D(2024, 6, 20)},  # 1 fine
        {"child_id": "ok", "plan_id": "ok", "review_date": D(2024, 5, 20)},  # 2: 8841
    ],
    "cin_plans": [
        {"child_id": "c1", "referral_id": "c1", "plan_id": "c1", "start_date": D(2024, 5, 1)},
        {
            "child_id": "c2",
            "referral_id": "c2",
            "plan_id": "c2",
            "start_date": D(2024, 6, 1),
            "end_date": D(2024, 5, 1),
        },  # 2: LOC13
    ],
}

EXPECTED = {
    "8615": {2},
    "8740": {3},
    "8890": {6},
    "8720": {2},
    "8840": {3},
    "LOC10": {4},
    "LOC11": {6},
    "LOC12": {7},
    "8832": {8},
    "8841": {2},
    "LOC13": {2},
}


def test_section47(checked: Checked) -> None:
    for code in ("8615", "8740", "8890"):
        assert checked.rows(code) == EXPECTED[code], code


def test_child_protection_plans(checked: Checked) -> None:
    for code in ("8720", "8840", "LOC10", "LOC11", "LOC12", "8832", "8841"):
        assert checked.rows(code) == EXPECTED[code], code


def test_cin_plans(checked: Checked) -> None:
    assert checked.rows("LOC13") == EXPECTED["LOC13"]


def test_every_rule_of_the_family_is_covered() -> None:
    from csc_insight.rules import REGISTRY

    assert {c for c, r in REGISTRY.items() if r.family == FAMILY} == set(EXPECTED)
