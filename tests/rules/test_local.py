"""csc-insight's own rules on local datasets."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
from rulecheck import Checked

FAMILY = "local"
D = date


def service(
    iid: str, child: str, requested: date, started: date | None, ended: date | None
) -> dict:
    return {
        "child_id": child,
        "involvement_id": iid,
        "service": "Family Support",
        "date_requested": requested,
        "date_started": started,
        "date_ended": ended,
    }


ROWS = {
    "service_involvements": [
        service("i1", "ok", D(2024, 5, 1), D(2024, 5, 5), D(2024, 6, 1)),  # 1 fine
        service("i2", "early", D(2024, 5, 1), D(2024, 4, 20), None),  # 2: LOC20
        service("i3", "ended", D(2024, 5, 1), D(2024, 5, 5), D(2024, 5, 1)),  # 3: LOC21
        service("i4", "never", D(2024, 5, 1), None, D(2024, 4, 1)),  # 4: LOC21
        service("i5", "dup", D(2024, 5, 1), None, None),  # 5: LOC22
        service("i6", "dup", D(2024, 5, 1), None, None),  # 6: LOC22
    ],
    "attendance": [
        {
            "child_id": c,
            "period": "2024-25 Autumn",
            "period_start": s,
            "period_end": e,
            "sessions_possible": 20,
            "sessions_attended": n,
        }
        for c, s, e, n in (
            ("ok", D(2024, 9, 1), D(2024, 12, 20), 10),  # 1 fine
            ("over", D(2024, 9, 1), D(2024, 12, 20), 25),  # 2: LOC23
            ("backwards", D(2024, 12, 20), D(2024, 9, 1), 10),  # 3: LOC24
        )
    ],
    "feedback_scores": [
        {"response_id": "f1", "item": "Listened to", "score": 3},
        {"response_id": "f2", "item": "Listened to", "score": 7},  # 2: LOC25
    ],
}

EXPECTED = {
    "LOC20": {2},
    "LOC21": {3, 4},
    "LOC22": {5, 6},
    "LOC23": {2},
    "LOC24": {3},
    "LOC25": {2},
}


def test_local_rules(checked: Checked) -> None:
    for code, rows in EXPECTED.items():
        assert checked.rows(code) == rows, code


def test_a_finding_without_a_child_keeps_its_file_line(checked: Checked) -> None:
    findings = checked.result.findings
    f = findings.filter(pc.equal(findings["rule_code"], "LOC25")).to_pylist()
    assert f[0]["child_id"] is None
    assert (f[0]["source_file"], f[0]["source_row"]) == ("feedback_scores.csv", 2)


def test_every_rule_of_the_family_is_covered() -> None:
    from csc_insight.rules import REGISTRY

    assert {c for c, r in REGISTRY.items() if r.family == FAMILY} == set(EXPECTED)
