"""Rules on assessments: the source_row each rule flags, and no other."""

from __future__ import annotations

from datetime import date
from typing import Any

from rulecheck import Checked

FAMILY = "cin_assessments"
D = date


def a(aid: str, start: date, authorised: date | None, **values: Any) -> dict[str, Any]:
    return {
        "child_id": values.pop("child_id", aid),
        "referral_id": values.pop("referral_id", aid),
        "assessment_id": aid,
        "start_date": start,
        "authorised_date": authorised,
    } | values


ROWS = {
    "referrals": [
        {"child_id": "early", "referral_id": "early", "referral_date": D(2024, 6, 1)},
    ],
    "assessments": [
        a("ok", D(2024, 5, 1), D(2024, 6, 1), factors="1A,3B,21"),  # 1 fine
        a("backwards", D(2024, 6, 1), D(2024, 5, 1)),  # 2: 8608
        a("factors", D(2024, 5, 1), None, factors="1A"),  # 3: 8614 (also 8670Q: open too long)
        a("late", D(2025, 3, 1), D(2025, 4, 2)),  # 4: 8696 authorised after the year
        a("oldopen", D(2023, 3, 1), None),  # 5: 8736 open, started before the year; 8670Q
        a("recent", D(2025, 2, 3), None),  # 6: open 39 working days at 31 March: fine
        a("long", D(2025, 1, 20), None),  # 7: 8670Q open 49 working days
        a("badfactor", D(2024, 5, 1), D(2024, 6, 1), factors="1A,99Z"),  # 8: LOC08
        a("early", D(2024, 5, 1), D(2024, 6, 1)),  # 9: LOC09 before its referral
        a("dup1", D(2024, 5, 1), D(2024, 6, 1), child_id="dup", referral_id="dup"),  # 10: LOC14
        a("dup2", D(2024, 5, 1), D(2024, 6, 2), child_id="dup", referral_id="dup"),  # 11: LOC14
    ],
}

EXPECTED = {
    "8608": {2},
    "8614": {3},
    "8696": {4},
    "8736": {5},
    "8670Q": {3, 5, 7},
    "LOC08": {8},
    "LOC09": {9},
    "LOC14": {10, 11},
}


def test_assessment_rules(checked: Checked) -> None:
    for code, rows in EXPECTED.items():
        assert checked.rows(code) == rows, code


def test_every_rule_of_the_family_is_covered() -> None:
    from csc_insight.rules import REGISTRY

    assert {c for c, r in REGISTRY.items() if r.family == FAMILY} == set(EXPECTED)
