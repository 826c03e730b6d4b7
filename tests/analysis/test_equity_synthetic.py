"""The synthetic authority's planted truths recovered: disproportionality and feedback.

The generator plants (ground_truth.json ``planted``): BCRB and MWBC children referred in line
with the population (relative rate 1.0) but 1.8 times as likely as WBRI children to reach a
CP plan and to enter care once referred; no other group has any planted difference. Feedback
is centred on a different score per service. Detection uses every collection year pooled
(as the ground truth's realised figures do); the error rate is Holm's family-wise 5%: the
chance of any false flag among the unplanted groups is at most 5% per analysis.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from csc_insight.analysis import equity
from csc_insight.analysis.voice import OFFERED_FROM_INVOLVEMENTS, voice
from csc_insight.cli import app
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.synth import generate
from csc_insight.warehouse.store import Warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def la(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, dict[str, Any], str]:
    root = tmp_path_factory.mktemp("la")
    result = generate(root / "files", scale="la", seed=1)
    url = f"duckdb://{root / 'w.duckdb'}"
    warehouse = Warehouse.connect(url)
    ingest([root / "files"], warehouse, Pseudonymiser(b"k" * 32))
    return warehouse, result.ground_truth, url


@pytest.fixture(scope="module")
def by_ethnicity(la: tuple[Warehouse, dict[str, Any], str]) -> equity.Analysis:
    warehouse, truth, _ = la
    years = len(truth["collection_years"])
    return equity.analyse(warehouse, "ethnicity", years=years, role="analyst")


def _row(a: equity.Analysis, stage: str, group: str) -> equity.GroupRow:
    return next(g for g in a.stage(stage).groups if g.group == group)


def test_planted_disproportionality_is_detected(
    la: tuple[Warehouse, dict[str, Any], str], by_ethnicity: equity.Analysis
) -> None:
    planted = la[1]["planted"]["disproportionality"]
    realised = la[1]["realised"]["disproportionality_all_years"]
    assert planted["reference"] == by_ethnicity.reference == "WBRI"
    for group in planted["group"]:
        for step, truth in (
            ("cp_plan given referral", realised["cp_plan_given_referral_rr"]),
            ("looked_after given referral", realised["entered_care_given_referral_rr"]),
        ):
            row = _row(by_ethnicity, step, group)
            assert row.significant, (group, step, row)
            assert row.ratio is not None and row.ratio > 1.3
            # The realised relative rate (both groups together) lies in each group's interval.
            assert row.ci_low is not None and row.ci_high is not None
            assert row.ci_low <= truth <= row.ci_high, (group, step, row)
        # Over-represented at CP plan and in care per 10,000 children (significance there
        # depends on how many were referred), in proportion at referral.
        for stage in ("cp_plan", "looked_after"):
            assert (_row(by_ethnicity, stage, group).ratio or 0) > 1
        referral = _row(by_ethnicity, "referral", group)
        assert not referral.significant
        summary = next(j for j in by_ethnicity.journey() if j["group"] == group)["summary"]
        assert "grows at" in summary and "cp_plan given referral" in summary


def test_no_false_flags_where_nothing_was_planted(
    la: tuple[Warehouse, dict[str, Any], str], by_ethnicity: equity.Analysis
) -> None:
    planted = set(la[1]["planted"]["disproportionality"]["group"])
    flagged = [
        (s.name, g.group, g.ratio)
        for s in by_ethnicity.stages
        for g in s.groups
        if g.significant and g.group not in planted
    ]
    assert flagged == []
    assert by_ethnicity.comparisons > 200  # every group x every stage and step, corrected
    # Major groups: only the groups holding a planted code may be flagged.
    major = equity.analyse(
        la[0], "ethnic_group", years=len(la[1]["collection_years"]), role="analyst"
    )
    allowed = {"Black, African, Caribbean or Black British", "Mixed or multiple ethnic groups"}
    assert {g.group for s in major.stages for g in s.groups if g.significant} <= allowed


def test_feedback_separates_the_services(la: tuple[Warehouse, dict[str, Any], str]) -> None:
    warehouse, truth, _ = la
    planted = {name: s["feedback_mean_score"] for name, s in truth["planted"]["services"].items()}
    out = voice(
        warehouse,
        years=len(truth["collection_years"]),
        role="analyst",
        offered=OFFERED_FROM_INVOLVEMENTS,
    )
    services = {s["service"]: s for s in out["services"]}
    assert set(services) == set(planted)
    by_score = sorted(planted, key=planted.__getitem__)
    assert sorted(services, key=lambda n: services[n]["mean_rating"]) == by_score
    assert sorted(services, key=lambda n: services[n]["sentiment_mean"]) == by_score
    assert sorted(services, key=lambda n: services[n]["pct_positive"]) == by_score
    for name, s in services.items():
        # The mean Likert answer is near the centre planted for the service.
        assert s["mean_rating"] == pytest.approx(planted[name], abs=0.15)
        assert s["response_rate"] == pytest.approx(
            truth["planted"]["feedback"]["response_rate"] * 100, abs=5
        )
        assert s["themes"]
    # Every pair of services differs in rating after Holm's correction.
    assert all(d["significant"] for d in out["differences"])
    lowest, highest = services[by_score[0]], services[by_score[-1]]
    assert lowest["sentiment_ci_high"] < highest["sentiment_ci_low"]


def test_cli_json(la: tuple[Warehouse, dict[str, Any], str], tmp_path: Path) -> None:
    runner = CliRunner()
    _, truth, url = la
    common = ["--home", str(tmp_path), "--backend", url, "--json"]
    years = str(len(truth["collection_years"]))
    result = runner.invoke(
        app, ["equity", "--stage", "referral", "--by", "ethnicity", "--years", years, *common]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["stage"] == "referral" and payload["reference"] == "WBRI"
    needed = {
        "group",
        "count",
        "population",
        "rate_per_10k",
        "ratio",
        "ci_low",
        "ci_high",
        "significant",
        "suppressed",
    }
    assert all(needed <= set(g) for g in payload["groups"])
    result = runner.invoke(app, ["voice", "--service", "Parenting Programme", *common])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    [service] = payload["services"]
    assert {
        "responses",
        "pct_positive",
        "mean_rating",
        "ci_low",
        "ci_high",
        "sentiment_mean",
        "themes",
    } <= set(service)
    assert "examples" not in service  # viewers never see comments
