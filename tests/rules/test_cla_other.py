"""Rules on reviews, missing periods, OC2, OC3, adoption and previous permanence."""

from __future__ import annotations

from datetime import date
from typing import Any

from rulecheck import Checked

FAMILY = "cla_other"
D = date

HEALTH = {
    "convicted": False,
    "health_check": True,
    "immunisations": True,
    "teeth_check": True,
    "health_assessment": True,
    "substance_misuse": False,
}


def oc2(child: str, **values: Any) -> dict[str, Any]:
    return {"child_id": child, "collection_year": 2025, "sdq_score": 10} | HEALTH | values


def in_care(child: str) -> list[dict[str, Any]]:
    """Two episodes joined end to start: looked after from 2023 to after 31 March 2025."""
    return [
        {"child_id": child, "decom": D(2023, 1, 1), "dec": D(2024, 6, 1), "rec": "X1", "ls": "C2"},
        {"child_id": child, "decom": D(2024, 6, 1), "ls": "C2"},
    ]


CLA = ("cla", "blank", "sdq", "reason", "baby", "teen", "misuse")
DOB = {"baby": D(2022, 1, 1), "teen": D(2006, 1, 1), "early": D(2010, 1, 1)}
KIDS = (*CLA, "notcla", "sb", "gapcla", "early")

ROWS = {
    "children": [
        {"child_id": c, "sex": "1", "date_of_birth": DOB.get(c, D(2012, 1, 1))} for c in KIDS
    ],
    "cla_episodes": [
        *(e for c in CLA for e in in_care(c)),
        {"child_id": "notcla", "decom": D(2024, 9, 1), "ls": "C2"},
        {"child_id": "sb", "decom": D(2023, 1, 1), "ls": "V3"},
        {"child_id": "gapcla", "decom": D(2023, 1, 1), "dec": D(2024, 6, 1), "rec": "X1"},
        {"child_id": "gapcla", "decom": D(2024, 6, 5)},
    ],
    "oc2": [
        oc2("cla"),  # 1 fine
        oc2("notcla"),  # 2: 190 not looked after 12 months
        oc2("blank", immunisations=None),  # 3: 191
        oc2("sb"),  # 4: 190 short breaks do not count
        oc2("sdq", sdq_score=45),  # 5: 180
        oc2("reason", sdq_score=None, sdq_reason="SDQ9"),  # 6: 196
        oc2("baby"),  # 7: 188 under 4 at 31 March
        oc2("teen", sdq_score=None, sdq_reason="SDQ1"),  # 8: 189 17 by 1 April
        oc2("misuse", substance_misuse=True),  # 9: 192
        oc2("gapcla"),  # 10: 190 care broken by a gap
    ],
    "cla_reviews": [
        {"child_id": "r1", "review_date": D(2024, 5, 1), "review_code": "PN1"},
        {"child_id": "r2", "review_date": D(2024, 5, 1), "review_code": "PN9"},  # 167
        {"child_id": "r3", "review_date": D(2024, 5, 1), "review_code": None},  # 167
    ],
    "missing": [
        {
            "child_id": "m1",
            "missing_type": "M",
            "start_date": D(2024, 5, 1),
            "end_date": D(2024, 5, 2),
        },
        {"child_id": "m2", "missing_type": "X", "start_date": D(2024, 5, 1)},  # 1006
        {
            "child_id": "m3",
            "missing_type": "A",
            "start_date": D(2024, 5, 5),
            "end_date": D(2024, 5, 1),
        },  # 567
        {"child_id": "m4", "missing_type": "M", "start_date": D(2024, 5, 1)},
        {
            "child_id": "m4",
            "missing_type": "M",
            "start_date": D(2024, 6, 1),
            "end_date": D(2024, 6, 2),
        },  # 574
        {
            "child_id": "m5",
            "missing_type": "M",
            "start_date": D(2024, 5, 1),
            "end_date": D(2024, 5, 10),
        },
        {
            "child_id": "m5",
            "missing_type": "M",
            "start_date": D(2024, 5, 5),
            "end_date": D(2024, 5, 6),
        },  # 574
    ],
    "care_leavers": [
        {
            "child_id": "l1",
            "collection_year": 2025,
            "in_touch": "YES",
            "activity": "F1",
            "accommodation": "B1",
        },
        {
            "child_id": "l2",
            "collection_year": 2025,
            "in_touch": "MAYBE",
            "activity": "F1",
            "accommodation": "B1",
        },  # 131
        {
            "child_id": "l3",
            "collection_year": 2025,
            "in_touch": "YES",
            "activity": None,
            "accommodation": "B1",
        },  # 132
        {
            "child_id": "l4",
            "collection_year": 2025,
            "in_touch": "YES",
            "activity": "0",
            "accommodation": "X1",
        },  # 133
    ],
    "previous_permanence": [
        {"child_id": "p1", "prev_perm": "P1"},
        {"child_id": "p2", "prev_perm": "P9"},  # 631
    ],
    "adoptions": [
        {"child_id": "a1", "number_of_adopters": "M", "legal_status_of_adopters": "L0"},
        {"child_id": "a2", "number_of_adopters": "X"},  # 175
        {"child_id": "a3", "legal_status_of_adopters": "L9"},  # 177
        {"child_id": "a4", "date_placed_ceased": D(2024, 5, 1)},  # 119 no reason
        {"child_id": "early", "date_should_be_placed": D(2009, 1, 1)},  # 184 before birth
    ],
}

EXPECTED = {
    "167": {2, 3},
    "1006": {2},
    "567": {3},
    "574": {5, 7},
    "131": {2},
    "132": {3},
    "133": {4},
    "180": {5},
    "196": {6},
    "188": {7},
    "189": {8},
    "190": {2, 4, 10},
    "191": {3},
    "192": {9},
    "631": {2},
    "175": {2},
    "177": {3},
    "119": {4},
    "184": {5},
}


def test_reviews_and_missing(checked: Checked) -> None:
    for code in ("167", "1006", "567", "574"):
        assert checked.rows(code) == EXPECTED[code], code


def test_care_leavers(checked: Checked) -> None:
    for code in ("131", "132", "133"):
        assert checked.rows(code) == EXPECTED[code], code


def test_outcomes_of_children_looked_after_12_months(checked: Checked) -> None:
    for code in ("180", "196", "188", "189", "190", "191", "192"):
        assert checked.rows(code) == EXPECTED[code], code


def test_adoption_and_permanence(checked: Checked) -> None:
    for code in ("631", "175", "177", "119", "184"):
        assert checked.rows(code) == EXPECTED[code], code


def test_every_rule_of_the_family_is_covered() -> None:
    from csc_insight.rules import REGISTRY

    assert {c for c, r in REGISTRY.items() if r.family == FAMILY} == set(EXPECTED)
