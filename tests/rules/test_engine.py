"""The engine: findings stored in the warehouse, counts, JSON, and the xlsx/csv reports."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from rulecheck import Checked

from csc_insight.errors import InputError
from csc_insight.rules import REGISTRY, run

D = date

ROWS = {
    "children": [
        {"child_id": "a", "sex": "7", "ethnicity": "XXXX", "date_of_birth": D(2010, 1, 1)},
        {"child_id": "b", "sex": "1", "ethnicity": "WBRI", "date_of_birth": D(2010, 1, 1)},
    ],
    "cla_episodes": [
        {
            "child_id": "a",
            "decom": D(2024, 6, 1),
            "rne": "S",
            "ls": "C2",
            "dec": D(2024, 5, 1),
            "rec": "E8",
            "placement_postcode_district": "BN21",
        },
        {
            "child_id": "b",
            "decom": D(2024, 6, 1),
            "rne": "S",
            "ls": "C2",
            "rec": "E8",
            "placement_postcode_district": "BN21",
        },
    ],
}
# a: 101 (sex 7), 103, LOC01 on the children row; 356 on the episode.  b: 148 on the episode.
EXPECTED = {("101", "a"), ("103", "a"), ("LOC01", "a"), ("356", "a"), ("148", "b")}


def test_findings_are_the_failing_rows_with_their_lineage(checked: Checked) -> None:
    rows = checked.result.findings.to_pylist()
    assert {(f["rule_code"], f["child_id"]) for f in rows} == EXPECTED
    episode = next(f for f in rows if f["rule_code"] == "356")
    assert episode == episode | {
        "run_id": checked.result.run_id,
        "severity": "error",
        "target_table": "cla_episodes",
        "la_code": "E06000001",
        "source_file": "cla_episodes.csv",
        "source_row": 1,
        "fields": "decom,dec",
        "message": REGISTRY["356"].message,
    }


def test_findings_are_stored_in_the_warehouse(checked: Checked) -> None:
    stored = checked.warehouse.table("validation_findings").to_pyarrow().to_pylist()
    assert {(f["rule_code"], f["child_id"]) for f in stored} == EXPECTED
    assert {f["run_id"] for f in stored} == {checked.result.run_id}


def test_a_new_run_replaces_the_previous_findings(checked: Checked) -> None:
    again = run(checked.warehouse, rules=["356"])
    stored = checked.warehouse.table("validation_findings").to_pyarrow().to_pylist()
    assert [(f["run_id"], f["rule_code"]) for f in stored] == [(again.run_id, "356")]
    assert again.run_id != checked.result.run_id


def test_counts_and_json(checked: Checked) -> None:
    result = checked.result
    by_rule = {r["code"]: r for r in result.counts_by_rule()}
    assert len(by_rule) == len(REGISTRY)
    assert by_rule["356"] == {
        "code": "356",
        "source": "ssda903",
        "severity": "error",
        "table": "cla_episodes",
        "message": REGISTRY["356"].message,
        "count": 1,
    }
    assert by_rule["8820"]["count"] == 0
    assert result.counts_by_child() == [
        {"child_id": "a", "count": 4, "codes": ["101", "103", "356", "LOC01"]},
        {"child_id": "b", "count": 1, "codes": ["148"]},
    ]
    payload = json.loads(result.to_json())
    assert set(payload) == {"run_id", "rules_checked", "findings", "by_rule", "by_child"}
    assert payload["rules_checked"] == len(REGISTRY)
    assert payload["findings"] == 5


def test_xlsx_report(checked: Checked, tmp_path: Path) -> None:
    path = checked.result.write_report(tmp_path / "report.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["Summary by rule", "By child", "All findings"]
    summary = book.get_sheet_by_name("Summary by rule").to_python()
    assert summary[0] == ["code", "source", "severity", "table", "message", "count"]
    assert len(summary) == len(REGISTRY) + 1
    by_child = book.get_sheet_by_name("By child").to_python()
    assert by_child[1][:2] == ["a", 4]
    findings = book.get_sheet_by_name("All findings").to_python()
    header, body = findings[0], findings[1:]
    assert header[:3] == ["rule_code", "severity", "target_table"]
    assert {(r[0], r[4]) for r in body} == EXPECTED
    row = next(r for r in body if r[0] == "356")
    assert (row[5], row[6]) == ("cla_episodes.csv", 1)


def test_csv_report(checked: Checked, tmp_path: Path) -> None:
    path = checked.result.write_report(tmp_path / "report.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["rule_code"], r["child_id"]) for r in rows} == EXPECTED
    assert {r["source_row"] for r in rows if r["rule_code"] == "148"} == {"2"}


def test_bad_requests(checked: Checked, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="NOPE"):
        run(checked.warehouse, rules=["NOPE"])
    with pytest.raises(InputError, match=r"report\.pdf"):
        checked.result.write_report(tmp_path / "report.pdf")
