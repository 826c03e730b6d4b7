"""/actions: the action plan agreed at the meeting. Everyone signed in sees the actions (status,
owner, due date with overdue ones marked, linked indicators and how they moved); analysts and
admins add actions and, at /actions/ID, change, review and close them and read their history.
Every change is written to the audit log. The same through the JSON API at /api/actions."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from csc_insight import actions
from csc_insight.actions import effect
from csc_insight.actions.plan import Action, ActionError
from csc_insight.appstate import audit as audit_log
from csc_insight.concerns.series import Figures
from csc_insight.errors import ConfigError
from csc_insight.indicators import REGISTRY
from csc_insight.web import auth, context, pages
from csc_insight.web.auth import Analyst, Viewer
from csc_insight.web.formatting import format_date, format_datetime
from csc_insight.web.service import API_WAIT_SECONDS, DataService
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._analysis import role

router = APIRouter()
PAGE = pages.register(
    pages.Page(
        "/actions",
        "Actions",
        90,
        description="The action plan: who is doing what, by when, and whether the figures moved.",
    )
)
ACTIVE = "active"
SHOW = ("", ACTIVE, *actions.STATUSES)  # the list's ?status= choices ("" is every action)
TAG = {
    actions.OPEN: "govuk-tag--blue",
    actions.IN_PROGRESS: "govuk-tag--yellow",
    actions.DONE: "govuk-tag--green",
    actions.DROPPED: "govuk-tag--grey",
}
FIELD_TITLES = {
    "created": "Created",
    "review": "Review",
    "title": "Title",
    "description": "Description",
    "owner": "Owner",
    "due_date": "Due date",
    "status": "Status",
    "indicator_ids": "Indicators",
    "concern": "Area of concern",
    "notes": "Notes",
    "effect_from": "Effect measured from",
}


# --- how the linked indicators moved (worked out once per data load) -----------------------
def _movement_key(a: Action, period: str, who: str) -> tuple[Any, ...]:
    return ("action-movement", tuple(a.indicator_ids), a.measured_from, period, who)


def movements(
    svc: DataService, found: Sequence[Action], who: str, wait: float
) -> dict[int, list[effect.Movement] | None]:
    """Each action's movement sentences (None while still being worked out)."""
    period = svc.latest_period()
    out: dict[int, list[effect.Movement] | None] = {a.id: [] for a in found}
    linked = [a for a in found if a.indicator_ids]
    if period is None or not linked:
        return out

    def job(a: Action) -> Any:
        def work() -> list[effect.Movement]:
            return effect.movement(a, Figures(svc.warehouse()), period, who, svc.threshold)

        return work

    for a in linked:  # start them all, then wait for them together
        svc.analysis(_movement_key(a, period, who), job(a), 0)
    deadline = time.monotonic() + wait
    for a in linked:
        left = max(0.0, deadline - time.monotonic())
        done, result = svc.analysis(_movement_key(a, period, who), job(a), left)
        out[a.id] = list(result or []) if done else None
    return out


# --- shared --------------------------------------------------------------------------------
def _indicator_choices() -> list[tuple[str, str]]:
    return sorted(
        ((i.id, i.title) for i in REGISTRY.values() if not i.child_level),
        key=lambda c: c[1].lower(),
    )


def _tag(status: str) -> Markup:
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(
        TAG.get(status, ""), status[:1].upper() + status[1:]
    )


def _due(a: Action, today: date) -> Cell:
    if a.due_date is None:
        return Cell("–")
    text = format_date(a.due_date)
    if a.overdue(today):
        html = Markup('{} <strong class="govuk-tag govuk-tag--red">Overdue</strong>').format(text)
        return Cell(f"{text} (overdue)", a.due_date.isoformat(), html=html)
    return Cell(text, a.due_date.isoformat())


def _moved_cell(a: Action, moved: list[effect.Movement] | None) -> Cell:
    if not a.indicator_ids:
        return Cell("No indicator is linked")
    if moved is None:
        names = ", ".join(_indicator_title(i) for i in a.indicator_ids)
        return Cell(f"{names}: how they moved is being worked out")
    if not moved:
        return Cell(", ".join(_indicator_title(i) for i in a.indicator_ids))
    sentences = [m.sentence for m in moved]
    html = Markup("<br>").join(escape(s) for s in sentences)
    return Cell(" ".join(sentences), html=html)


def _indicator_title(indicator_id: str) -> str:
    ind = REGISTRY.get(indicator_id)
    return ind.title if ind is not None else indicator_id


def _audit_change(request: Request, what: str, a: Action, detail: dict[str, Any]) -> None:
    auth.audit(request, what, target=f"action {a.id}", detail=json.dumps(detail, default=str))


def _changes(before: Action, after: Action) -> dict[str, Any]:
    return {
        name: getattr(after, name)
        for name in actions.FIELDS
        if getattr(before, name) != getattr(after, name)
    }


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """Only an action's fields (a clear error for anything else)."""
    unknown = sorted(set(data) - set(actions.FIELDS))
    if unknown:
        raise ActionError(
            f"An action has no field {', '.join(unknown)}: the fields are "
            f"{', '.join(actions.FIELDS)}."
        )
    return data


def _get_or_404(request: Request, action_id: int) -> Action | Response:
    try:
        return actions.get(context.appstate(request), action_id)
    except ActionError as exc:
        if auth.is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return context.render(
            request, "error.html", {"title": "No such action", "message": str(exc)}, status_code=404
        )


# --- the list ------------------------------------------------------------------------------
def _list_page(
    request: Request,
    user: Any,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    svc = context.service(request)
    fmt = context.formatter(request, user)
    show = (request.query_params.get("status") or "").strip()
    if show not in SHOW:
        raise ConfigError(f"status={show!r} is not one of: all, {', '.join(SHOW[1:])}.")
    st = context.appstate(request)
    found = actions.list(
        st,
        status=None if show in ("", ACTIVE) else show,
        active_only=show == ACTIVE,
    )
    found = [a for a in found if a.active] + [a for a in found if not a.active]
    moved = movements(svc, found, role(fmt), svc.analysis_wait) if not svc.is_empty() else {}
    pending = any(v is None for v in moved.values())
    today = date.today()
    table = DataTable(
        "actions",
        "Actions, open ones first, soonest due first",
        ["Action", "Status", "Owner", "Due", "Linked indicators and how they moved", "Last review"],
    )
    analyst = user.can("analyst")
    for a in found:
        last = a.last_review
        table.add(
            Cell(a.title, href=f"/actions/{a.id}" if analyst else None),
            Cell(a.status, html=_tag(a.status)),
            a.owner or "–",
            _due(a, today),
            _moved_cell(a, moved.get(a.id, [])),
            "–" if last is None else f"{format_date(last.on)}: {last.note}",
        )
    overdue = sum(1 for a in found if a.overdue(today))
    active = sum(1 for a in found if a.active)
    return context.render(
        request,
        "actions.html",
        {
            "title": "Actions",
            "table": table,
            "count": len(found),
            "active": active,
            "overdue": overdue,
            "show": show,
            "show_choices": [("", "All actions"), (ACTIVE, "Open and in progress")]
            + [(s, s[:1].upper() + s[1:]) for s in actions.STATUSES],
            "pending": pending,
            "period": svc.latest_period() if not svc.is_empty() else None,
            "indicators": _indicator_choices(),
            "statuses": actions.STATUSES,
            "error": error,
            "form": form or {},
        },
        tables=[table],
        status_code=status_code,
    )


@router.get("/actions", include_in_schema=False)
def actions_page(request: Request, user: Viewer) -> Response:
    return _list_page(request, user)


@router.post("/actions", include_in_schema=False)
def add_action(
    request: Request,
    user: Analyst,
    title: str = Form(""),
    description: str = Form(""),
    owner: str = Form(""),
    due_date: str = Form(""),
    indicator_ids: list[str] = Form([]),
    concern: str = Form(""),
    notes: str = Form(""),
    effect_from: str = Form(""),
) -> Response:
    fields: dict[str, Any] = {
        "title": title,
        "description": description,
        "owner": owner,
        "due_date": due_date,
        "indicator_ids": indicator_ids,
        "concern": concern,
        "notes": notes,
        "effect_from": effect_from,
    }
    try:
        made = actions.create(context.appstate(request), created_by=user.name, **fields)
    except ActionError as exc:
        return _list_page(request, user, error=str(exc), form=fields, status_code=400)
    _audit_change(request, audit_log.ACTION_ADDED, made, _created(made))
    return RedirectResponse(f"/actions/{made.id}?done=added", status_code=303)


def _created(a: Action) -> dict[str, Any]:
    return {k: v for k, v in a.to_dict().items() if k in actions.FIELDS and v not in (None, [])}


# --- one action ----------------------------------------------------------------------------
DONE_MESSAGES = {
    "added": "The action was added.",
    "changed": "The action was changed.",
    "unchanged": "Nothing was changed.",
    "reviewed": "The review was added.",
    "closed": "The action was closed.",
}


def _action_page(
    request: Request,
    user: Any,
    a: Action,
    *,
    error: str | None = None,
    error_form: str | None = None,
    status_code: int = 200,
) -> Response:
    svc = context.service(request)
    fmt = context.formatter(request, user)
    moved = movements(svc, [a], role(fmt), svc.analysis_wait) if not svc.is_empty() else {}
    changes = DataTable(
        "action-history", "Changes, oldest first", ["When", "Who", "What", "From", "To"]
    )
    for c in actions.history(context.appstate(request), a.id):
        changes.add(
            Cell(format_datetime(c.at), c.at.isoformat()),
            c.by or "–",
            FIELD_TITLES.get(c.field, c.field),
            c.old if c.old is not None else "–",
            c.new if c.new is not None else "–",
        )
    done = request.query_params.get("done")
    today = date.today()
    return context.render(
        request,
        "action.html",
        {
            "title": f"Action {a.id}: {a.title}",
            "action": a,
            "due": _due(a, today),
            "status_tag": _tag(a.status),
            "moved": moved.get(a.id, []),
            "pending": moved.get(a.id, []) is None,
            "period": svc.latest_period() if not svc.is_empty() else None,
            "history": changes,
            "indicators": _indicator_choices(),
            "indicator_titles": {i: _indicator_title(i) for i in a.indicator_ids},
            "statuses": actions.STATUSES,
            "message": DONE_MESSAGES.get(done or ""),
            "error": error,
            "error_form": error_form,
            "added_at": format_datetime(a.created_at),
        },
        tables=[changes],
        status_code=status_code,
    )


@router.get("/actions/{action_id}", include_in_schema=False)
def action_page(request: Request, user: Analyst, action_id: int) -> Response:
    found = _get_or_404(request, action_id)
    if isinstance(found, Response):
        return found
    return _action_page(request, user, found)


@router.post("/actions/{action_id}", include_in_schema=False)
async def change_action(request: Request, user: Analyst, action_id: int) -> Response:
    """The change form: every field it sends is set (an emptied field is cleared)."""
    found = _get_or_404(request, action_id)
    if isinstance(found, Response):
        return found
    sent = await _body(request)
    shown = sent.pop("indicators_shown", None)
    if shown and "indicator_ids" not in sent:  # the form lists them all: none ticked clears
        sent["indicator_ids"] = []
    changes = {k: v for k, v in sent.items() if k in actions.FIELDS}
    try:
        after = actions.update(context.appstate(request), found.id, by=user.name, **changes)
    except ActionError as exc:
        return _action_page(
            request, user, found, error=str(exc), error_form="edit", status_code=400
        )
    changed = _changes(found, after)
    if changed:
        _audit_change(request, audit_log.ACTION_CHANGED, after, changed)
    return RedirectResponse(
        f"/actions/{after.id}?done={'changed' if changed else 'unchanged'}", status_code=303
    )


@router.post("/actions/{action_id}/review", include_in_schema=False)
def review_action(
    request: Request,
    user: Analyst,
    action_id: int,
    note: str = Form(""),
    status: str = Form(""),
    on: str = Form(""),
) -> Response:
    found = _get_or_404(request, action_id)
    if isinstance(found, Response):
        return found
    try:
        after = actions.review(
            context.appstate(request),
            found.id,
            by=user.name,
            note=note,
            status=status or None,
            on=on or None,
        )
    except ActionError as exc:
        return _action_page(
            request, user, found, error=str(exc), error_form="review", status_code=400
        )
    last = after.reviews[-1] if after.reviews else None
    detail: dict[str, Any] = {"review": note.strip(), "on": on or (last.on if last else None)}
    if after.status != found.status:
        detail["status"] = after.status
    _audit_change(request, audit_log.ACTION_CHANGED, after, detail)
    return RedirectResponse(f"/actions/{after.id}?done=reviewed", status_code=303)


@router.post("/actions/{action_id}/close", include_in_schema=False)
def close_action(
    request: Request,
    user: Analyst,
    action_id: int,
    status: str = Form(actions.DONE),
    note: str = Form(""),
) -> Response:
    found = _get_or_404(request, action_id)
    if isinstance(found, Response):
        return found
    try:
        after = actions.close(
            context.appstate(request), found.id, by=user.name, status=status, note=note or None
        )
    except ActionError as exc:
        return _action_page(
            request, user, found, error=str(exc), error_form="close", status_code=400
        )
    detail: dict[str, Any] = {"closed": after.status}
    if note.strip():
        detail["note"] = note.strip()
    _audit_change(request, audit_log.ACTION_CHANGED, after, detail)
    return RedirectResponse(f"/actions/{after.id}?done=closed", status_code=303)


# --- the API -------------------------------------------------------------------------------
def _as_json(a: Action, moved: list[effect.Movement] | None) -> dict[str, Any]:
    out = a.to_dict()
    out["movement"] = None if moved is None else [m.to_dict() for m in moved]
    return out


async def _body(request: Request) -> dict[str, Any]:
    """The fields sent: a JSON object, or form fields (``indicator_ids`` may repeat)."""
    if "json" in request.headers.get("content-type", ""):
        try:
            data = await request.json()
        except ValueError:
            raise ActionError("The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ActionError("Send a JSON object of the action's fields.")
        return {str(k): v for k, v in data.items()}
    form = await request.form()
    out: dict[str, Any] = {}
    for key in form:
        if key == auth.CSRF_FIELD:
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if key == "indicator_ids" else (values[-1] if values else None)
    return out


def _bad(exc: ActionError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


@router.get("/api/actions", tags=["actions"])
def actions_api(
    request: Request,
    user: Viewer,
    status: str | None = Query(None, description="Only actions with this status."),
    indicator_id: str | None = Query(None, description="Only actions linked to this indicator."),
    concern: str | None = Query(None, description="Only actions answering this area of concern."),
    due_by: str | None = Query(None, description="Only actions due on or before (YYYY-MM-DD)."),
    active_only: bool = Query(False, description="Only open and in-progress actions."),
) -> Response:
    """The action plan, soonest due first, with how each linked indicator moved since the
    action started (figures suppressed for viewers where they rest on small numbers)."""
    svc = context.service(request)
    try:
        found = actions.list(
            context.appstate(request),
            status=status or None,
            indicator_id=indicator_id or None,
            concern=concern or None,
            due_by=due_by or None,
            active_only=active_only,
        )
    except ActionError as exc:
        return _bad(exc)
    who = role(context.formatter(request, user))
    moved = movements(svc, found, who, API_WAIT_SECONDS) if not svc.is_empty() else {}
    return JSONResponse([_as_json(a, moved.get(a.id, [])) for a in found])


@router.post("/api/actions", tags=["actions"], status_code=201)
async def create_action_api(request: Request, user: Analyst) -> Response:
    """Add an action (analysts and admins). Send a JSON object with ``title`` and any of
    description, owner, due_date, indicator_ids, concern, status, notes, effect_from, and
    the session's CSRF token in the X-CSRF-Token header."""
    try:
        data = _fields(await _body(request))
        data.setdefault("title", "")
        if data.get("status") in (None, ""):
            data.pop("status", None)
        made = actions.create(context.appstate(request), created_by=user.name, **data)
    except ActionError as exc:
        return _bad(exc)
    _audit_change(request, audit_log.ACTION_ADDED, made, _created(made))
    return JSONResponse(_as_json(made, []), status_code=201)


@router.get("/api/actions/{action_id}", tags=["actions"])
def action_api(request: Request, user: Viewer, action_id: int) -> Response:
    """One action, how its indicators moved, and (for analysts and admins) its history."""
    found = _get_or_404(request, action_id)
    if isinstance(found, Response):
        return found
    svc = context.service(request)
    who = role(context.formatter(request, user))
    moved = movements(svc, [found], who, API_WAIT_SECONDS) if not svc.is_empty() else {}
    out = _as_json(found, moved.get(found.id, []))
    if user.can("analyst"):
        out["history"] = [c.to_dict() for c in actions.history(context.appstate(request), found.id)]
    return JSONResponse(out)


@router.patch("/api/actions/{action_id}", tags=["actions"], operation_id="update_action")
@router.post("/api/actions/{action_id}", tags=["actions"], operation_id="update_action_by_post")
async def update_action_api(request: Request, user: Analyst, action_id: int) -> Response:
    """Change an action (analysts and admins): a JSON object of the fields to change (any of
    title, description, owner, due_date, status, indicator_ids, concern, notes, effect_from;
    null clears an optional field)."""
    found = _get_or_404(request, action_id)
    if isinstance(found, Response):
        return found
    try:
        data = _fields(await _body(request))
        after = actions.update(context.appstate(request), found.id, by=user.name, **data)
    except ActionError as exc:
        return _bad(exc)
    changed = _changes(found, after)
    if changed:
        _audit_change(request, audit_log.ACTION_CHANGED, after, changed)
    svc = context.service(request)
    who = role(context.formatter(request, user))
    moved = movements(svc, [after], who, API_WAIT_SECONDS) if not svc.is_empty() else {}
    return JSONResponse(_as_json(after, moved.get(after.id, [])))
