"""The action plan: create, update, review, close, list and history in the app state store
(SQLite here, PostgreSQL too), the command line, and whether linked indicators moved."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from csc_insight import actions
from csc_insight.actions import effect
from csc_insight.appstate import AppState
from csc_insight.cli import app
from csc_insight.concerns import spc
from csc_insight.concerns.series import MonthlySeries, months_ending
from csc_insight.indicators import REGISTRY
from csc_insight.indicators.periods import Period


@pytest.fixture
def state(tmp_path: Path) -> AppState:
    return AppState(f"sqlite:///{tmp_path / 'state.sqlite'}")


def test_an_action_is_created_reviewed_and_closed_with_its_history(state: AppState) -> None:
    a = actions.create(
        state,
        title="Audit re-referrals",
        created_by="pm",
        description="Case audit of 50 re-referrals",
        owner="Head of Front Door",
        due_date="2025-06-30",
        indicator_ids="cin.rereferral_pct, cin.nfa_pct",
        concern="indicator:cin.rereferral_pct",
        effect_from="2024-10",
    )
    assert a.status == actions.OPEN and a.active
    assert a.indicator_ids == ["cin.rereferral_pct", "cin.nfa_pct"]
    assert a.due_date == date(2025, 6, 30) and a.measured_from == "2024-10"
    assert actions.get(state, a.id) == a

    a = actions.update(state, a.id, by="jo", owner="Jo Bloggs", status="in progress")
    assert a.owner == "Jo Bloggs" and a.status == actions.IN_PROGRESS
    a = actions.review(state, a.id, by="dcs", note="Half the cases audited", on="2025-01-15")
    assert [(r.on, r.by, r.note) for r in a.reviews] == [
        (date(2025, 1, 15), "dcs", "Half the cases audited")
    ]
    a = actions.close(state, a.id, by="dcs", note="Audit finished; findings to the board")
    assert a.status == actions.DONE and not a.active
    assert a.last_review is not None and a.last_review.status == actions.DONE

    changes = [(c.by, c.field, c.old, c.new) for c in actions.history(state, a.id)]
    assert changes[0] == ("pm", "created", None, "Audit re-referrals")
    assert ("jo", "owner", "Head of Front Door", "Jo Bloggs") in changes
    assert ("jo", "status", "open", "in progress") in changes
    assert ("dcs", "review", None, "2025-01-15: Half the cases audited") in changes
    assert ("dcs", "status", "in progress", "done") in changes
    assert all(c.at is not None for c in actions.history(state, a.id))


def test_an_update_that_changes_nothing_writes_no_history(state: AppState) -> None:
    a = actions.create(state, title="Recruit", created_by="pm", owner="HR")
    before = len(actions.history(state, a.id))
    same = actions.update(state, a.id, by="pm", owner="HR", title="Recruit")
    assert len(actions.history(state, a.id)) == before
    assert same.updated_at == a.updated_at
    cleared = actions.update(state, a.id, by="pm", owner=None)
    assert cleared.owner is None
    assert actions.history(state, a.id)[-1].field == "owner"


def test_actions_are_listed_soonest_due_first_and_filtered(state: AppState) -> None:
    late = actions.create(state, title="Later", created_by="pm", due_date=date(2025, 9, 1))
    soon = actions.create(
        state,
        title="Soon",
        created_by="pm",
        due_date=date(2025, 2, 1),
        indicator_ids=["cp.plans_started"],
    )
    undated = actions.create(state, title="Some day", created_by="pm")
    dropped = actions.create(state, title="Dropped", created_by="pm")
    actions.close(state, dropped.id, by="pm", status="dropped")
    assert [a.id for a in actions.list(state)] == [soon.id, late.id, undated.id, dropped.id]
    assert [a.id for a in actions.list(state, active_only=True)] == [soon.id, late.id, undated.id]
    assert [a.id for a in actions.list(state, status="dropped")] == [dropped.id]
    assert [a.id for a in actions.list(state, indicator_id="cp.plans_started")] == [soon.id]
    assert [a.id for a in actions.list(state, due_by="2025-03-01")] == [soon.id]
    assert soon.overdue(date(2025, 2, 2)) and not soon.overdue(date(2025, 2, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "  "}, "needs a title"),
        ({"title": "x", "status": "finished"}, "status must be one of"),
        ({"title": "x", "indicator_ids": ["no.such"]}, "No indicator is called no.such"),
        ({"title": "x", "due_date": "30/06/2025"}, "is not a date"),
        ({"title": "x", "effect_from": "2024-13"}, "is not a month"),
        ({"title": "x", "created_by": " "}, "Say who"),
    ],
)
def test_bad_input_is_refused_plainly(
    state: AppState, kwargs: dict[str, Any], message: str
) -> None:
    args = {"created_by": "pm"} | kwargs
    with pytest.raises(actions.ActionError, match=message):
        actions.create(state, **args)
    assert actions.list(state) == []


def test_other_refusals(state: AppState) -> None:
    a = actions.create(state, title="x", created_by="pm")
    with pytest.raises(actions.ActionError, match="no field"):
        actions.update(state, a.id, by="pm", colour="red")
    with pytest.raises(actions.ActionError, match="closed as done or dropped"):
        actions.close(state, a.id, by="pm", status="open")
    with pytest.raises(actions.ActionError, match="There is no action 99"):
        actions.review(state, 99, by="pm", note="?")
    with pytest.raises(actions.ActionError, match="review note"):
        actions.review(state, a.id, by="pm", note="")


def test_a_store_made_before_action_plans_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE actions (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, "
        "created_by TEXT NOT NULL, updated_at TEXT NOT NULL, indicator_id TEXT, title TEXT NOT "
        "NULL, owner TEXT, due_date TEXT, status TEXT NOT NULL, notes TEXT)"
    )
    con.execute(
        "INSERT INTO actions (created_at, created_by, updated_at, indicator_id, title, status) "
        "VALUES ('2025-01-01T00:00:00+00:00', 'pm', '2025-01-01T00:00:00+00:00', "
        "'cin.referrals', 'Old action', 'open')"
    )
    con.commit()
    con.close()
    state = AppState(f"sqlite:///{path}")
    [old] = actions.list(state)
    assert old.title == "Old action" and old.indicator_ids == ["cin.referrals"]
    assert old.measured_from == "2025-01"
    reviewed = actions.review(state, old.id, by="pm", note="Still needed")
    assert reviewed.reviews[0].note == "Still needed"


def test_postgresql_action_plan(postgres_server: Any) -> None:
    """The same plan on a real PostgreSQL server (started by the tests)."""
    with postgres_server.database() as url:
        state = AppState(url.replace("postgres://", "postgresql://", 1))
        try:
            a = actions.create(
                state, title="Audit", created_by="pm", indicator_ids=["cin.rereferral_pct"]
            )
            actions.review(state, a.id, by="pm", note="Started", status="in progress")
            done = actions.close(state, a.id, by="pm")
            assert done.status == actions.DONE and done.reviews[0].note == "Started"
            assert [c.field for c in actions.history(state, a.id)][-1] == "status"
            AppState(url.replace("postgres://", "postgresql://", 1)).close()  # reopening is fine
        finally:
            state.close()


def test_the_actions_command(tmp_path: Path) -> None:
    runner = CliRunner()
    home = ["--home", str(tmp_path)]

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, *home])
        assert result.exit_code == 0, result.output
        return result.output

    assert "Added action #1" in run(
        "actions",
        "add",
        "Audit re-referrals",
        "--owner",
        "Head of Front Door",
        "--due",
        "2025-06-30",
        "--indicator",
        "cin.rereferral_pct",
        "--by",
        "pm",
    )
    run("actions", "update", "1", "--status", "in progress", "--by", "jo")
    run("actions", "review", "1", "--note", "Going well", "--on", "2025-02-01", "--by", "dcs")
    listed = json.loads(run("actions", "list", "--json"))
    assert [(a["id"], a["status"], a["reviews"][0]["note"]) for a in listed] == [
        (1, "in progress", "Going well")
    ]
    run("actions", "close", "1", "--dropped", "--by", "dcs")
    assert json.loads(run("actions", "list", "--json")) == []
    assert json.loads(run("actions", "list", "--all", "--json"))[0]["status"] == "dropped"
    history = run("actions", "history", "1")
    assert "in progress" in history and "dropped" in history
    bad = runner.invoke(app, ["actions", "add", "x", "--due", "soon", *home])
    assert bad.exit_code != 0


# --- did the linked indicator move? -----------------------------------------------------
class FakeFigures:
    """Stands in for Figures: monthly counts made up for the test."""

    def __init__(self, indicator_id: str, nums: list[float], dens: list[float]) -> None:
        self.indicator_id, self.nums, self.dens = indicator_id, nums, dens

    def monthly(self, end: Period, ids: list[str], months: int = 24) -> dict[str, MonthlySeries]:
        ind = REGISTRY[self.indicator_id]
        labels = [p.label for p in months_ending(end, len(self.nums))]
        values: list[float | None] = [
            100 * n / d for n, d in zip(self.nums, self.dens, strict=True)
        ]
        chart = spc.xmr(labels, values)
        return {
            self.indicator_id: MonthlySeries(
                ind.id,
                ind.title,
                "percent",
                str(ind.polarity),
                labels,
                values,
                list(self.nums),
                list(self.dens),
                chart,
            )
        }


def _action(state: AppState, effect_from: str) -> actions.Action:
    return actions.create(
        state,
        title="Audit",
        created_by="pm",
        indicator_ids=["cin.rereferral_pct"],
        effect_from=effect_from,
    )


def test_a_linked_indicator_that_fell_since_the_action_improved(state: AppState) -> None:
    # 12 months to March 2025: 30% a month before October 2024, 20% since.
    figures = FakeFigures("cin.rereferral_pct", [30.0] * 6 + [20.0] * 6, [100.0] * 12)
    [m] = effect.movement(_action(state, "2024-10"), figures, "2024-25")  # type: ignore[arg-type]
    assert m.verdict == effect.IMPROVED
    assert m.before == pytest.approx(30.0) and m.after == pytest.approx(20.0)
    assert m.before_months[0] == "2024-04" and m.after_months == [
        "2024-10",
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    assert m.sentence.startswith(
        "Re-referrals within 12 months: 30.0% in the 6 months before October 2024, 20.0% in "
        "the 6 months since (improved"
    )


def test_a_small_wobble_is_no_clear_change(state: AppState) -> None:
    figures = FakeFigures("cin.rereferral_pct", [30.0] * 6 + [29.0] * 6, [100.0] * 12)
    [m] = effect.movement(_action(state, "2024-10"), figures, "2024-25")  # type: ignore[arg-type]
    assert m.verdict == effect.NO_CLEAR_CHANGE


def test_an_action_after_the_data_is_too_early_to_tell(state: AppState) -> None:
    figures = FakeFigures("cin.rereferral_pct", [30.0] * 12, [100.0] * 12)
    [m] = effect.movement(_action(state, "2025-06"), figures, "2024-25")  # type: ignore[arg-type]
    assert m.verdict == effect.TOO_EARLY and "too early to tell" in m.sentence


def test_viewers_do_not_see_movement_built_on_small_numbers(state: AppState) -> None:
    # Three months since January 2025 with one case each: counts of 1 to 5 are hidden.
    figures = FakeFigures("cin.rereferral_pct", [1.0] * 9 + [0.0] * 3, [1.0] * 12)
    action = _action(state, "2025-01")
    [m] = effect.movement(action, figures, "2024-25", "viewer", 5)  # type: ignore[arg-type]
    assert m.suppressed and m.before is None and "small number" in m.sentence
    [m] = effect.movement(action, figures, "2024-25", "analyst", 5)  # type: ignore[arg-type]
    assert not m.suppressed and m.after == 0.0
