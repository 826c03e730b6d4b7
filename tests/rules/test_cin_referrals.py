"""Rules on CIN episodes (referrals): the source_row each rule flags, and no other."""

from __future__ import annotations

from datetime import date
from typing import Any

from rulecheck import Checked

FAMILY = "cin_referrals"
D = date


def ref(child: str, rid: str | None = None, **values: Any) -> dict[str, Any]:
    return {
        "child_id": child,
        "referral_id": rid or child,
        "referral_date": D(2024, 5, 1),
        "referral_source": "1A",
        "primary_need": "N1",
        "referral_nfa": False,
    } | values


CLOSED = {"closure_date": D(2024, 6, 1), "closure_reason": "RC1"}

ROWS = {
    "children": [
        {"child_id": "born", "sex": "1", "date_of_birth": D(2024, 6, 1)},
        {"child_id": "adult", "sex": "1", "date_of_birth": D(2000, 1, 1)},
        {"child_id": "ok", "sex": "1", "date_of_birth": D(2015, 1, 1)},
    ],
    "referrals": [
        ref("ok", **CLOSED),  # 1 fine
        ref(  # 2: 8630, 8640, 8650, LOC07
            "bad",
            closure_date=D(2024, 4, 1),
            closure_reason="RC99",
            primary_need="N99",
            referral_source="99",
        ),
        ref("noneed", primary_need=None),  # 3: 8610
        ref("nonfa", referral_nfa=None),  # 4: 8568
        ref("noreason", closure_date=D(2024, 6, 1)),  # 5: 8805
        ref("nodate", closure_reason="RC1"),  # 6: 8810
        ref(  # 7: 8620 closed before the census year
            "oldclose",
            referral_date=D(2023, 1, 1),
            closure_date=D(2023, 2, 1),
            closure_reason="RC1",
        ),
        ref("born", referral_date=D(2023, 1, 1)),  # 8: 8606 over 280 days before birth
        ref("ovl", "ovl1", closure_date=D(2024, 8, 1), closure_reason="RC1"),  # 9
        ref("ovl", "ovl2", referral_date=D(2024, 6, 1)),  # 10: 8820 starts inside ovl1
        ref("seq", "seq1", **CLOSED),  # 11
        ref("seq", "seq2", referral_date=D(2024, 6, 1)),  # 12: starts the day seq1 closed
        ref("nfa", referral_nfa=True),  # 13: 8831 NFA yet assessed
        ref("after", **CLOSED),  # 14: 8565 assessment authorised after closure
        ref("opens47", **CLOSED),  # 15: 8867
        ref("openass", **CLOSED),  # 16: 8868
        ref("openplan", **CLOSED),  # 17: 8869
        ref("adult"),  # 18: LOC15
    ],
    "assessments": [
        {"child_id": c, "referral_id": c, "assessment_id": c, "start_date": s, "authorised_date": a}
        for c, s, a in (
            ("nfa", D(2024, 5, 2), D(2024, 5, 20)),
            ("after", D(2024, 5, 10), D(2024, 7, 1)),
            ("openass", D(2024, 5, 10), None),
            ("ok", D(2024, 5, 2), D(2024, 5, 20)),
        )
    ],
    "section47": [
        {
            "child_id": "opens47",
            "referral_id": "opens47",
            "s47_id": "s1",
            "strategy_date": D(2024, 5, 10),
            "icpc_not_required": False,
        }
    ],
    "cin_plans": [
        {
            "child_id": "openplan",
            "referral_id": "openplan",
            "plan_id": "p1",
            "start_date": D(2024, 5, 10),
        }
    ],
}

EXPECTED = {
    "8630": {2},
    "8640": {2},
    "8650": {2},
    "LOC07": {2},
    "8610": {3},
    "8568": {4},
    "8805": {5},
    "8810": {6},
    "8620": {7},
    "8606": {8},
    "8820": {10},
    "8831": {13},
    "8565": {14},
    "8867": {15},
    "8868": {16},
    "8869": {17},
    "LOC15": {18},
}


def test_codes_and_required_fields(checked: Checked) -> None:
    for code in ("8640", "8650", "LOC07", "8610", "8568", "8805", "8810"):
        assert checked.rows(code) == EXPECTED[code], code


def test_dates(checked: Checked) -> None:
    for code in ("8630", "8620", "8606", "8820", "LOC15"):
        assert checked.rows(code) == EXPECTED[code], code


def test_work_against_the_episode(checked: Checked) -> None:
    for code in ("8831", "8565", "8867", "8868", "8869"):
        assert checked.rows(code) == EXPECTED[code], code


def test_every_rule_of_the_family_is_covered() -> None:
    from csc_insight.rules import REGISTRY

    assert {c for c, r in REGISTRY.items() if r.family == FAMILY} == set(EXPECTED)
