"""Owners, targets and the measurement plan of a new project."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from csc_insight.errors import ConfigError
from csc_insight.indicators import REGISTRY
from csc_insight.indicators.fields import fields_needed
from csc_insight.indicators.plan import measurement_plan, plan_markdown, projects, write_plan
from csc_insight.indicators.targets import NEAR_TARGET, OFF_TARGET, ON_TARGET, Target, load, status
from csc_insight.warehouse.store import Warehouse

Rows = dict[str, list[dict[str, Any]]]

CONFIG = """
[indicators."svc.wait_median_days"]
owner = "Family Support Manager"
target = 14
tolerance = 3
cadence = "monthly"

[escalation]
referrals = 4

[projects."Family Support"]
aims = "Families get help early."
intended_change = "Fewer re-referrals to social care."
service = "Family Support"
lead = "Early Help Lead"
cadence = "quarterly"
measures = ["svc.children_helped", "svc.wait_median_days"]

[[projects."Family Support".local_measures]]
name = "Attendance change"
definition = "Attendance after minus before."
needs = ["attendance.sessions_possible", "attendance.sessions_attended"]
"""


@pytest.mark.parametrize(
    ("value", "polarity", "expected"),
    [
        (92.0, "higher_is_better", ON_TARGET),
        (87.0, "higher_is_better", NEAR_TARGET),
        (80.0, "higher_is_better", OFF_TARGET),
        (12.0, "lower_is_better", ON_TARGET),
        (16.0, "lower_is_better", NEAR_TARGET),
        (30.0, "lower_is_better", OFF_TARGET),
        (30.0, "neither", None),
        (None, "higher_is_better", None),
    ],
)
def test_status_respects_polarity_and_tolerance(
    value: float | None, polarity: str, expected: str | None
) -> None:
    target = Target(
        target=90 if polarity == "higher_is_better" else 14,
        tolerance=5 if polarity == "higher_is_better" else 3,
    )
    assert status(value, target, polarity) == expected


def test_authority_config_is_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "authority.toml").write_text(CONFIG)
    config = load(tmp_path)
    assert config.targets["svc.wait_median_days"].owner == "Family Support Manager"
    assert config.escalation.referrals == 4 and config.escalation.service_requests == 2
    (tmp_path / "authority.toml").write_text('[indicators."no.such"]\ntarget = 1\n')
    with pytest.raises(ConfigError, match="not an indicator"):
        load(tmp_path)
    (tmp_path / "authority.toml").write_text("[indicators\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(tmp_path)


def test_fields_needed_are_few_and_exact() -> None:
    assert fields_needed("svc.wait_median_days") == {
        "service_involvements": ("date_requested", "date_started")
    }
    assert fields_needed("cin.nfa_pct") == {"referrals": ("referral_date", "referral_nfa")}
    assert fields_needed("cla.children_31mar") == {
        "cla_episodes": ("la_code", "child_id", "decom", "ls", "dec")
    }
    for indicator_id in REGISTRY:
        needed = fields_needed(indicator_id)
        assert needed and all(needed.values()), indicator_id


def test_measurement_plan_says_what_is_held(
    tmp_path: Path, warehouse_with: Callable[[Rows], Warehouse]
) -> None:
    (tmp_path / "authority.toml").write_text(CONFIG)
    config = load(tmp_path)
    project = projects(config)["Family Support"]
    w = warehouse_with(
        {
            "service_involvements": [
                {
                    "child_id": "a",
                    "involvement_id": "1",
                    "service": "Family Support",
                    "date_requested": date(2024, 5, 1),
                    "date_started": date(2024, 5, 9),
                }
            ]
        }
    )
    plan = measurement_plan(project, config, w)
    by_id = {m.id: m for m in plan.measures}
    wait = by_id["svc.wait_median_days"]
    assert wait.owner == "Family Support Manager" and wait.cadence == "monthly"
    assert all(wait.held.values())
    helped = by_id["svc.children_helped"]
    assert helped.owner == "Early Help Lead" and helped.cadence == "quarterly"
    assert helped.held["service_involvements.date_ended"] is False  # no end dates yet
    local = by_id["local: Attendance change"]
    assert local.local and not any(local.held.values())
    assert plan.templates == ["attendance", "service_involvements"]
    page = plan_markdown(plan)
    assert "Measurement plan: Family Support" in page and f"needs {len(plan.fields)} fields" in page
    written = write_plan(plan, tmp_path / "plan")
    assert {p.name for p in written} == {
        "measurement-plan.md",
        "attendance.xlsx",
        "service_involvements.xlsx",
    }


def test_unknown_measure_in_a_project_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "authority.toml").write_text('[projects.X]\nmeasures = ["svc.happiness"]\n')
    with pytest.raises(ConfigError, match="local measure"):
        projects(load(tmp_path))
