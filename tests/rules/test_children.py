"""Rules on children: each row below passes or fails exactly the rules its comment says."""

from __future__ import annotations

from datetime import date
from typing import Any

from rulecheck import Checked

FAMILY = "children"


def child(cid: str, **values: Any) -> dict[str, Any]:
    return {
        "child_id": cid,
        "sex": "1",
        "ethnicity": "WBRI",
        "date_of_birth": date(2010, 1, 1),
    } | values


def episode(cid: str) -> dict[str, Any]:
    return {"child_id": cid, "decom": date(2024, 1, 1), "rne": "S", "ls": "C2"}


def referral(cid: str, nfa: bool) -> dict[str, Any]:
    return {
        "child_id": cid,
        "referral_id": f"r-{cid}",
        "referral_date": date(2024, 5, 1),
        "referral_nfa": nfa,
    }


ROWS = {
    "children": [
        child("ok"),  # looked after, valid
        child("bad903", sex="0", ethnicity="XXXX"),  # 101 and 103 (0 is a CIN code only)
        child("badsex", sex="7"),  # LOC01; not looked after so not 101
        child("future", date_of_birth=date(2025, 6, 1)),  # 8520: born after 31 March 2025
        child("nodob", date_of_birth=None),  # 8525: in need with neither date
        child("died", date_of_birth=date(2015, 1, 1), date_of_death=date(2014, 1, 1)),  # 8535Q
        child("baddis", disabilities="MOB,XYZ"),  # 8540 invalid
        child("nodis"),  # 8540 missing: further action but nothing about disability
        child("twice", disabilities="MOB,HAND,MOB"),  # 8794
        child("unborn", date_of_birth=None, expected_date_of_birth=date(2025, 5, 1)),  # 8750
        child("unborn0", sex="0", date_of_birth=None, expected_date_of_birth=date(2025, 5, 1)),
        child("cin_ok", disabilities="NONE", disability=False),
    ],
    "cla_episodes": [episode("ok"), episode("bad903")],
    "referrals": [
        referral("nodob", False),
        referral("died", True),
        referral("baddis", False),
        referral("nodis", False),
        referral("cin_ok", False),
    ],
}


def test_903_header_codes_apply_to_looked_after_children(checked: Checked) -> None:
    assert checked.children("101") == {"bad903"}
    assert checked.children("103") == {"bad903"}


def test_sex_code_list(checked: Checked) -> None:
    assert checked.children("LOC01") == {"badsex"}


def test_dates_of_birth(checked: Checked) -> None:
    assert checked.children("8520") == {"future"}
    assert checked.children("8525") == {"nodob"}
    assert checked.children("8535Q") == {"died"}


def test_disabilities(checked: Checked) -> None:
    assert checked.children("8540") == {"baddis", "nodis"}
    assert checked.children("8794") == {"twice"}


def test_unborn_child_sex(checked: Checked) -> None:
    assert checked.children("8750") == {"unborn"}
