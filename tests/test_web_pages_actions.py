"""The Actions page and its API: analysts add, change, review and close actions; viewers see
the list but cannot change it; every change is in the action's history and the audit log;
linked indicators say how they moved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from csc_insight import actions
from csc_insight.appstate import audit as audit_log
from csc_insight.web.app import create_app
from web_support import TestClient, csrf_of, load_sample, make_state, signed_in


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("actions-pages")
    load_sample(f"duckdb:///{folder / 'warehouse.duckdb'}")
    return folder


@pytest.fixture(scope="module")
def app(home: Path) -> Any:
    made = create_app(
        f"duckdb:///{home / 'warehouse.duckdb'}", home=home, state=make_state(home), warm=False
    )
    made.state.service.analysis_wait = 120  # the tests wait for the movement of indicators
    return made


@pytest.fixture(scope="module")
def viewer(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "viewer") as client:
        yield client


@pytest.fixture(scope="module")
def analyst(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "analyst") as client:
        yield client


def words(page: str) -> str:
    main = lxml_html.fromstring(page).xpath("//main")[0]
    return " ".join(main.text_content().split())


def add(client: TestClient, **fields: Any) -> Any:
    token = csrf_of(client.get("/actions").text)
    return client.post("/actions", data={"csrf_token": token, **fields}, follow_redirects=False)


def audited(app: Any, what: str, action_id: int) -> list[audit_log.Entry]:
    return [
        e
        for e in audit_log.entries(app.state.appstate, action=what)
        if e.target == f"action {action_id}"
    ]


def test_actions_page_is_in_the_navigation(viewer: TestClient) -> None:
    page = viewer.get("/actions")
    assert page.status_code == 200
    assert 'href="/actions"' in page.text
    nav = lxml_html.fromstring(page.text).xpath("//nav//a/@href")
    assert nav.index("/actions") == nav.index("/data-quality") - 1  # order 90, before 100
    assert "Add an action" not in page.text  # viewers get no form


def test_analyst_adds_reviews_and_closes_an_action(analyst: TestClient, app: Any) -> None:
    due = (date.today() + timedelta(days=30)).isoformat()
    made = add(
        analyst,
        title="Audit of re-referrals",
        description="Audit 20 re-referred cases",
        owner="Head of Front Door",
        due_date=due,
        indicator_ids=["cin.referrals", "cin.nfa_pct"],
        concern="indicator:cin.rereferral_pct",
    )
    assert made.status_code == 303, made.text
    where = made.headers["location"]
    action_id = int(where.split("/")[2].split("?")[0])
    page = analyst.get(where)
    assert page.status_code == 200
    text = words(page.text)
    assert "The action was added." in text and "Audit of re-referrals" in text
    assert "Head of Front Door" in text and "Did the indicators move?" in text
    a = actions.get(app.state.appstate, action_id)
    assert a.indicator_ids == ["cin.referrals", "cin.nfa_pct"] and a.status == "open"

    # Change: owner and status.
    token = csrf_of(page.text)
    changed = analyst.post(
        f"/actions/{action_id}",
        data={
            "csrf_token": token,
            "title": "Audit of re-referrals",
            "description": "",  # emptied: cleared
            "owner": "J. Bloggs",
            "due_date": due,
            "status": "in progress",
            "indicators_shown": "1",
            "indicator_ids": ["cin.referrals"],
            "concern": "indicator:cin.rereferral_pct",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    a = actions.get(app.state.appstate, action_id)
    assert a.owner == "J. Bloggs" and a.status == "in progress"
    assert a.indicator_ids == ["cin.referrals"] and a.description is None

    # Review, with a date.
    reviewed = analyst.post(
        f"/actions/{action_id}/review",
        data={"csrf_token": token, "note": "Half the cases audited", "on": "2025-01-15"},
        follow_redirects=False,
    )
    assert reviewed.status_code == 303
    a = actions.get(app.state.appstate, action_id)
    assert [(r.on.isoformat(), r.note) for r in a.reviews] == [
        ("2025-01-15", "Half the cases audited")
    ]

    # A review without a note is refused, plainly.
    empty = analyst.post(f"/actions/{action_id}/review", data={"csrf_token": token, "note": " "})
    assert empty.status_code == 400 and "needs a review note" in empty.text

    # Close as done.
    closed = analyst.post(
        f"/actions/{action_id}/close",
        data={"csrf_token": token, "status": "done", "note": "All cases audited"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    a = actions.get(app.state.appstate, action_id)
    assert a.status == "done" and not a.active

    # History: every change, by the analyst.
    fields = [c.field for c in actions.history(app.state.appstate, action_id)]
    assert fields[0] == "created"
    assert {"owner", "status", "indicator_ids", "description", "review"} <= set(fields)
    assert all(c.by == "analyst" for c in actions.history(app.state.appstate, action_id))
    page = analyst.get(f"/actions/{action_id}")
    history = lxml_html.fromstring(page.text).xpath('//table[@id="action-history"]//tr')
    assert len(history) - 1 == len(fields)
    assert "J. Bloggs" in words(page.text) and "Close the action" not in page.text

    # The audit log: added once, then every change.
    added = audited(app, audit_log.ACTION_ADDED, action_id)
    assert len(added) == 1 and added[0].user_name == "analyst" and added[0].role == "analyst"
    assert json.loads(added[0].detail or "{}")["owner"] == "Head of Front Door"
    changes = audited(app, audit_log.ACTION_CHANGED, action_id)
    assert len(changes) == 3
    details = [json.loads(e.detail or "{}") for e in reversed(changes)]
    assert details[0]["owner"] == "J. Bloggs" and details[0]["status"] == "in progress"
    assert details[1]["review"] == "Half the cases audited"
    assert details[2] == {"closed": "done", "note": "All cases audited"}


def test_a_bad_form_says_what_is_wrong(analyst: TestClient) -> None:
    page = add(analyst, title="", owner="Someone")
    assert page.status_code == 400
    assert "There is a problem" in page.text and "An action needs a title." in page.text
    assert 'value="Someone"' in page.text  # what was typed is kept
    bad_date = add(analyst, title="Something", due_date="next week")
    assert bad_date.status_code == 400 and "is not a date" in bad_date.text


def test_viewer_sees_the_list_but_may_not_change_it(
    viewer: TestClient, analyst: TestClient, app: Any
) -> None:
    overdue = actions.create(
        app.state.appstate,
        title="Overdue thing",
        created_by="analyst",
        owner="Service manager",
        due_date=date.today() - timedelta(days=3),
        indicator_ids=["cin.referrals"],
    )
    page = viewer.get("/actions")
    assert page.status_code == 200
    rows = lxml_html.fromstring(page.text).xpath('//table[@id="actions"]/tbody/tr')
    row = next(r for r in rows if "Overdue thing" in r.text_content())
    text = " ".join(row.text_content().split())
    assert "Service manager" in text and "Overdue" in text and "Open" in text
    assert "Referrals" in text  # the linked indicator and how it moved
    assert not row.xpath(".//a")  # viewers do not open the action's page
    token = csrf_of(viewer.get("/catalogue").text)
    for path, data in [
        ("/actions", {"title": "Viewer's action"}),
        (f"/actions/{overdue.id}", {"title": "Changed"}),
        (f"/actions/{overdue.id}/review", {"note": "A note"}),
        (f"/actions/{overdue.id}/close", {"status": "done"}),
        ("/api/actions", {"title": "Viewer's action"}),
        (f"/api/actions/{overdue.id}", {"title": "Changed"}),
    ]:
        refused = viewer.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert refused.status_code == 403, path
    assert viewer.get(f"/actions/{overdue.id}").status_code == 403
    assert (
        viewer.patch(
            f"/api/actions/{overdue.id}", json={"title": "x"}, headers={"X-CSRF-Token": token}
        ).status_code
        == 403
    )
    assert actions.get(app.state.appstate, overdue.id).title == "Overdue thing"
    assert actions.history(app.state.appstate, overdue.id)[-1].by == "analyst"
    assert not any(a.title == "Viewer's action" for a in actions.list(app.state.appstate))
    # Without the form's token nothing changes either.
    no_token = analyst.post(f"/actions/{overdue.id}/close", data={"status": "done"})
    assert no_token.status_code == 403
    assert actions.get(app.state.appstate, overdue.id).active
    # The list can be filtered by status.
    done = viewer.get("/actions", params={"status": "done"})
    assert done.status_code == 200 and "Overdue thing" not in done.text
    assert viewer.get("/actions", params={"status": "nonsense"}).status_code == 400


def test_actions_api(viewer: TestClient, analyst: TestClient, app: Any) -> None:
    token = csrf_of(analyst.get("/actions").text)
    made = analyst.post(
        "/api/actions",
        json={"title": "From Power BI", "owner": "Analyst", "indicator_ids": ["cin.referrals"]},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["title"] == "From Power BI" and body["status"] == "open"
    action_id = body["id"]
    assert audited(app, audit_log.ACTION_ADDED, action_id)[0].user_name == "analyst"

    listed = viewer.get("/api/actions").json()
    found = next(a for a in listed if a["id"] == action_id)
    assert found["owner"] == "Analyst" and isinstance(found["movement"], list)
    assert found["movement"][0]["indicator_id"] == "cin.referrals"
    assert found["movement"][0]["sentence"].startswith("Referrals")
    assert "history" not in viewer.get(f"/api/actions/{action_id}").json()

    patched = analyst.patch(
        f"/api/actions/{action_id}",
        json={"status": "in progress", "due_date": "2030-01-31"},
        headers={"X-CSRF-Token": token},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "in progress" and patched.json()["due_date"] == "2030-01-31"
    one = analyst.get(f"/api/actions/{action_id}").json()
    assert {h["field"] for h in one["history"][-2:]} == {"due_date", "status"}
    change = audited(app, audit_log.ACTION_CHANGED, action_id)[0]
    assert json.loads(change.detail or "{}")["status"] == "in progress"

    bad = analyst.patch(
        f"/api/actions/{action_id}", json={"colour": "red"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 400 and "no field colour" in bad.json()["detail"]
    missing = analyst.get("/api/actions/99999")
    assert missing.status_code == 404
    assert analyst.get("/actions/99999").status_code == 404
    no_token = analyst.patch(f"/api/actions/{action_id}", json={"status": "done"})
    assert no_token.status_code == 403
    assert viewer.get("/api/actions", params={"status": "in progress"}).json()[0]["id"] == action_id
