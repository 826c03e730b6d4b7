"""/timeliness: how quickly children and families are seen, assessed and helped."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csc_insight.web import context, pages
from csc_insight.web.auth import Viewer
from csc_insight.web.views._theme import Theme, render_theme

router = APIRouter(include_in_schema=False)
THEME = Theme(
    path="/timeliness",
    title="Timeliness and process",
    intro="How quickly referrals are decided, assessments completed, conferences held and "
    "local services started, against the authority's targets.",
    ids=(
        "cin.referrals",
        "cin.nfa_pct",
        "cin.assessments_completed",
        "cin.assessment_45wd_pct",
        "cin.assessment_median_wd",
        "cin.s47_enquiries",
        "cin.icpc_15wd_pct",
        "svc.wait_median_days",
        "svc.wait_p90_days",
        "adoption.a1_days",
        "adoption.a2_days",
    ),
    trend_ids=("cin.assessment_45wd_pct",),
    breakdowns=(("cin.assessment_45wd_pct", "team"), ("svc.wait_median_days", "service")),
)
PAGE = pages.register(pages.Page(THEME.path, "Timeliness", pages.TIMELINESS))


@router.get("/timeliness")
@context.cached_page
def timeliness(request: Request, user: Viewer) -> Response:
    return render_theme(request, user, THEME)
