"""Rules compare a child's records only within one authority: keys always include la_code."""

from __future__ import annotations

from datetime import date

from rulecheck import OTHER_LA, Checked

D = date
CHILD = "same-hash"  # the same pseudonymised id in two authorities (a deliberate collision)

ROWS = {
    "children": [
        {"child_id": CHILD, "sex": "1", "date_of_birth": D(2010, 1, 1)},
        {"la_code": OTHER_LA, "child_id": CHILD, "sex": "1", "date_of_birth": D(2024, 6, 1)},
    ],
    "cla_episodes": [
        {"child_id": CHILD, "decom": D(2024, 4, 1), "rne": "S", "ls": "C2"},
        # In the other LA these would overlap the first LA's episode, start before birth...
        {
            "la_code": OTHER_LA,
            "child_id": CHILD,
            "decom": D(2024, 6, 1),
            "rne": "S",
            "ls": "C2",
            "dec": D(2024, 9, 1),
            "rec": "E11",
        },
    ],
    "referrals": [
        {
            "child_id": CHILD,
            "referral_id": "r1",
            "referral_date": D(2024, 5, 1),
            "referral_nfa": True,
        },
        {
            "la_code": OTHER_LA,
            "child_id": CHILD,
            "referral_id": "r2",
            "referral_date": D(2024, 6, 1),
            "referral_nfa": False,
            "primary_need": "N1",
        },
    ],
    "assessments": [
        {
            "la_code": OTHER_LA,
            "child_id": CHILD,
            "referral_id": "r1",
            "assessment_id": "a1",
            "start_date": D(2024, 6, 2),
            "authorised_date": D(2024, 6, 20),
        },
    ],
    "cp_plans": [
        {"child_id": CHILD, "referral_id": "r1", "plan_id": "p1", "start_date": D(2024, 6, 1)},
        {
            "la_code": OTHER_LA,
            "child_id": CHILD,
            "referral_id": "r2",
            "plan_id": "p2",
            "start_date": D(2024, 7, 1),
        },
    ],
    "adoptions": [
        {"child_id": CHILD, "date_should_be_placed": D(2024, 5, 1)},
    ],
}


def test_no_rule_matches_another_authoritys_child(checked: Checked) -> None:
    for code in ("501", "142", "388", "8820", "LOC11", "184", "386", "8831"):
        assert checked.rows(code) == set(), code


def test_the_same_checks_do_fire_within_one_authority(checked: Checked) -> None:
    # Within the first LA, r1 is NFA yet has a CP plan: 8832 fires for the first LA only.
    findings = checked.result.findings.to_pylist()
    assert {(f["la_code"], f["rule_code"]) for f in findings if f["rule_code"] == "8832"} == {
        ("E06000001", "8832")
    }
