"""/repeat-use: re-referrals, repeat plans and repeat use of services; the escalation list
(/repeat-use/escalation) is for analysts only, and every view of it is audited."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csc_insight.appstate import audit as audit_log
from csc_insight.indicators.periods import parse
from csc_insight.web import auth, context, pages
from csc_insight.web.auth import Analyst, Viewer
from csc_insight.web.service import period_text
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._theme import Theme, render_theme

router = APIRouter(include_in_schema=False)
THEME = Theme(
    path="/repeat-use",
    title="Repeat use and escalation",
    intro="Children and families who come back: re-referrals, repeat child protection plans "
    "and repeated requests for local services, which can mean help is needed sooner or at a "
    "higher level.",
    ids=(
        "cin.rereferral_pct",
        "cp.repeat_plan_pct",
        "cp.repeat_plan_2y_pct",
        "svc.repeat_use_pct",
        "svc.contacts_per_child",
        "svc.children_helped",
        "svc.open_caseload",
    ),
    trend_ids=("cin.rereferral_pct",),
    breakdowns=(("svc.repeat_use_pct", "service"),),
)
PAGE = pages.register(pages.Page(THEME.path, "Repeat use", pages.REPEAT_USE))


@router.get("/repeat-use")
@context.cached_page
def repeat_use(request: Request, user: Viewer) -> Response:
    return render_theme(request, user, THEME, extra={"escalation": True})


@router.get("/repeat-use/escalation")
def escalation(request: Request, user: Analyst) -> Response:
    svc = context.service(request)
    chosen = context.filters(request)
    label = context.period_or_latest(request, chosen)
    if label is None:
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    rows = svc.escalation(label)
    auth.audit(
        request,
        audit_log.CHILD_LEVEL_VIEW,
        target=request.url.path,
        detail=json.dumps({"list": "escalation", "period": label, "rows": len(rows)}),
    )
    thresholds = svc.authority().escalation
    table = DataTable(
        "escalation",
        f"Children who may need more intensive support, 12 months to {parse(label).end:%-d %B %Y}",
        ["Child (pseudonym)", "Authority", "Referrals", "Service requests", "Reason"],
        numeric={2, 3},
        child_level=True,
        caption_size="s",
        display_limit=500,
    )
    for r in rows:
        table.add(
            Cell(str(r["child_id"])),
            Cell(str(r["la_code"])),
            Cell(str(r["referrals"]), r["referrals"]),
            Cell(str(r["service_requests"]), r["service_requests"]),
            Cell(str(r["reason"])),
        )
    return context.render(
        request,
        "escalation.html",
        {
            "title": "Escalation list",
            "table": table,
            "count": len(rows),
            "thresholds": thresholds,
            "period_text": period_text(parse(label)),
            "back": context.url("/repeat-use", **chosen.query()),
        },
        tables=[table],
    )
