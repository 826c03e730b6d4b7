"""Rules on looked-after episodes: the source_row each rule flags, and no other."""

from __future__ import annotations

from datetime import date
from typing import Any

from rulecheck import Checked

FAMILY = "cla_episodes"
D = date


def ep(child: str, decom: date, **values: Any) -> dict[str, Any]:
    return {
        "child_id": child,
        "decom": decom,
        "rne": "S",
        "ls": "C2",
        "cin": "N1",
        "place": "U1",
        "place_provider": "PR1",
        "placement_postcode_district": "BN21",
    } | values


ROWS = {
    "children": [
        {"child_id": "a", "sex": "1", "date_of_birth": D(2010, 1, 1)},
        {"child_id": "adopted18", "sex": "1", "date_of_birth": D(2006, 1, 1)},
        {"child_id": "asc15", "sex": "2", "date_of_birth": D(2010, 1, 1)},
        {"child_id": "prebirth", "sex": "2", "date_of_birth": D(2024, 6, 1)},
        {"child_id": "adult", "sex": "1", "date_of_birth": D(2000, 1, 1)},
    ],
    "cla_episodes": [
        ep("a", D(2024, 4, 1), dec=D(2024, 5, 1), rec="X1"),  # 1 fine
        ep("a", D(2024, 5, 1), rne="P", reason_place_change="CARPL"),  # 2 fine
        ep(  # 3: every code invalid; first episode not S
            "codes",
            D(2024, 6, 1),
            rne="Q",
            ls="Z9",
            cin="N9",
            place="X9",
            place_provider="PR9",
            dec=D(2024, 7, 1),
            rec="E99",
            reason_place_change="BAD",
        ),
        ep("t0prov", D(2024, 6, 1), place="T1"),  # 4: 178 provider for a temporary placement
        ep("backwards", D(2024, 6, 10), dec=D(2024, 6, 1), rec="E8"),  # 5: 356
        ep("open", D(2024, 4, 10)),  # 6: 142 not ended, yet a later episode follows
        ep("open", D(2024, 5, 10), rne="P", reason_place_change="CARPL"),  # 7
        ep("half", D(2024, 4, 10), dec=D(2024, 5, 1)),  # 8: 148 DEC without REC
        ep("first_p", D(2024, 4, 10), rne="P", reason_place_change="CARPL"),  # 9: 357
        ep("old", D(2020, 1, 1), rne="P", reason_place_change="CARPL"),  # 10: before the year
        ep("gap", D(2024, 4, 1), dec=D(2024, 5, 1), rec="X1"),  # 11: 388 X1 but a gap
        ep("gap", D(2024, 5, 5)),  # 12
        ep("lastx1", D(2024, 4, 1), dec=D(2024, 5, 1), rec="X1"),  # 13: 388 X1 with no next
        ep("notx1", D(2024, 4, 1), dec=D(2024, 5, 1), rec="E8"),  # 14: 388 continues, not X1
        ep("notx1", D(2024, 5, 1), rne="P", reason_place_change="CARPL"),  # 15
        ep("died", D(2024, 4, 1), dec=D(2024, 5, 1), rec="E2"),  # 16: 437
        ep("died", D(2024, 6, 1)),  # 17
        ep("overlap", D(2024, 4, 1), dec=D(2024, 6, 1), rec="X1"),  # 18: 388 (next starts earlier)
        ep("overlap", D(2024, 5, 1), rne="P", reason_place_change="CARPL"),  # 19: 501
        ep("d1", D(2010, 1, 1), ls="D1"),  # 20: 445
        ep("e1", D(2005, 1, 1), ls="E1"),  # 21: 446
        ep("adopted18", D(2023, 1, 1), dec=D(2024, 6, 1), rec="E11"),  # 22: 386
        ep("asc15", D(2024, 4, 1), dec=D(2024, 6, 1), rec="E7"),  # 23: 389
        ep("prebirth", D(2024, 5, 1)),  # 24: LOC02
        ep("future", D(2025, 5, 1)),  # 25: LOC03 after the collection year
        ep("noreason", D(2020, 1, 1), rne="P"),  # 26: LOC04
        ep("nopost", D(2024, 6, 1), placement_postcode_district=None),  # 27: LOC05
        ep("shortbreak", D(2024, 6, 1), ls="V3", placement_postcode_district=None),  # 28
        ep("adult", D(2024, 4, 1)),  # 29: LOC06
    ],
}

EXPECTED = {
    "143": {3},
    "144": {3},
    "145": {3},
    "146": {3},
    "178": {3, 4},
    "149": {3},
    "1009": {3},
    "356": {5},
    "142": {6},
    "148": {8},
    "357": {3, 9},
    "388": {11, 13, 14, 18},
    "437": {16},
    "501": {19},
    "445": {20},
    "446": {21},
    "386": {22},
    "389": {23},
    "LOC02": {24},
    "LOC03": {25},
    "LOC04": {26},
    "LOC05": {27},
    "LOC06": {29},
}


def test_code_lists(checked: Checked) -> None:
    for code in ("143", "144", "145", "146", "178", "149", "1009"):
        assert checked.rows(code) == EXPECTED[code], code


def test_episode_dates_and_sequence(checked: Checked) -> None:
    for code in ("356", "142", "148", "357", "388", "437", "501"):
        assert checked.rows(code) == EXPECTED[code], code


def test_legal_status_by_date(checked: Checked) -> None:
    assert checked.rows("445") == EXPECTED["445"]
    assert checked.rows("446") == EXPECTED["446"]


def test_ages_at_start_and_end(checked: Checked) -> None:
    for code in ("386", "389", "LOC02", "LOC06"):
        assert checked.rows(code) == EXPECTED[code], code


def test_required_and_plausible(checked: Checked) -> None:
    for code in ("LOC03", "LOC04", "LOC05"):
        assert checked.rows(code) == EXPECTED[code], code


def test_every_rule_of_the_family_is_covered() -> None:
    from csc_insight.rules import REGISTRY

    family = {c for c, r in REGISTRY.items() if r.family == FAMILY}
    assert family == set(EXPECTED)
