"""The synthetic authority's planted service effects, recovered end to end.

The School Attendance Project raises attendance by 6 points in the three terms after the
start (planted); the Parenting Programme has no effect. Attendance cannot pass 100%, so the
change the planted 6 points can actually make is a little smaller: about 5.6 points for the
synthetic children's spread of attendance (computed below from the generator's model).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_demand_synthetic import synthetic_home
from typer.testing import CliRunner

from csc_insight.analysis.impact import impact
from csc_insight.warehouse.store import Warehouse


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_home(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def planted(home: Path) -> dict[str, Any]:
    truth = json.loads((home / "files" / "ground_truth.json").read_text())
    return dict(truth["planted"]["services"])


def ceiling_adjusted(effect_pp: float) -> float:
    """The planted effect after attendance is capped at 100%: synth/local.py draws each
    child's level from N(84%, 8) within [35%, 98.5%] and each term's noise from N(0, 3.5)."""
    rng = np.random.default_rng(0)
    base = np.clip(rng.normal(0.84, 0.08, 400_000), 0.35, 0.985)
    before = np.clip(base + rng.normal(0, 0.035, base.size), 0, 1)
    after = np.clip(base + effect_pp / 100 + rng.normal(0, 0.035, base.size), 0, 1)
    return float((after - before).mean() * 100)


def test_planted_attendance_effect_is_recovered(home: Path, planted: dict[str, Any]) -> None:
    effect = planted["School Attendance Project"]["attendance_effect_pp"]
    assert effect == 6.0
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as w:
        r = impact(w, "School Attendance Project", "attendance")
    target = ceiling_adjusted(effect)
    assert 5.4 < target < 5.8
    assert r.ci_low is not None and r.ci_high is not None and r.effect is not None
    assert r.ci_low < target < r.ci_high
    assert abs(r.effect - effect) < 1.0
    assert r.n_treated >= 200 and r.n_comparison >= 200
    assert r.verdict.startswith("Attendance rose by")


def test_null_service_is_no_measurable_change(home: Path, planted: dict[str, Any]) -> None:
    assert planted["Parenting Programme"]["attendance_effect_pp"] == 0.0
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as w:
        r = impact(w, "Parenting Programme", "attendance")
    assert r.ci_low is not None and r.ci_high is not None
    assert r.ci_low < 0.0 < r.ci_high
    assert r.verdict.startswith("No measurable change")


def test_cli_impact_json_and_evaluation_report(home: Path, tmp_path: Path) -> None:
    from csc_insight.cli import app

    runner = CliRunner()
    env = {"CSC_INSIGHT_HOME": str(home)}
    res = runner.invoke(
        app,
        ["impact", "--service", "School Attendance Project", "--outcome", "attendance", "--json"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    for key in ("effect", "ci_low", "ci_high", "n_treated", "n_comparison", "method", "verdict"):
        assert payload[key] is not None
    res = runner.invoke(app, ["impact", "--service", "No Such Service"], env=env)
    assert res.exit_code != 0

    report = tmp_path / "report.html"
    res = runner.invoke(
        app, ["evaluate", "--service", "School Attendance Project", "--out", str(report)], env=env
    )
    assert res.exit_code == 0, res.output
    html = report.read_text()
    # Self-contained: charts inline, nothing fetched from elsewhere.
    assert "<svg" in html and 'src="http' not in html and 'href="http' not in html
    for words in (
        "requests for",
        "started within",
        "were for a child with an earlier",
        "Attendance rose by",
        "answered the feedback survey",
    ):
        assert words in html

    # The same report as PDF: its text says the same things.
    pdf = tmp_path / "report.pdf"
    res = runner.invoke(
        app, ["evaluate", "--service", "School Attendance Project", "--out", str(pdf)], env=env
    )
    assert res.exit_code == 0, res.output
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "School Attendance Project: evaluation" in text and "Attendance rose by" in text
