"""/impact: outcomes and impact. For each local service, the difference-in-differences
estimate of its effect on an outcome (attendance) against matched children not served, with
its interval, the numbers of children and a plain-English verdict; and each service's
evaluation report (HTML) to download. Estimates take seconds each: they are worked out once
per data load, in the background."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from csc_insight.analysis import impact as analysis
from csc_insight.analysis.outcomes import OUTCOMES
from csc_insight.appstate import audit as audit_log
from csc_insight.errors import ConfigError, CscInsightError
from csc_insight.web import auth, context, pages
from csc_insight.web.auth import Viewer
from csc_insight.web.formatting import Formatter
from csc_insight.web.service import API_WAIT_SECONDS, DataService
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._analysis import PENDING, choice, interval, num

router = APIRouter()
PAGE = pages.register(
    pages.Page(
        "/impact",
        "Outcomes and impact",
        50,
        description="Did local services change children's outcomes?",
        available=lambda svc: bool(svc.choices().services),
    )
)


def run_impact(
    svc: DataService, outcome: str, wait: float | None
) -> tuple[bool, list[dict[str, Any]] | None]:
    def work() -> list[dict[str, Any]]:
        out = []
        for service in svc.choices().services:
            try:
                out.append(analysis.impact(svc.warehouse(), service, outcome).as_dict())
            except CscInsightError as exc:
                out.append({"service": service, "outcome": outcome, "error": str(exc)})
        return out

    return svc.analysis(("impact", outcome), work, wait)


def _viewer_safe(row: dict[str, Any], fmt: Formatter) -> dict[str, Any]:
    """Children counts from 1 to the threshold hidden for viewers."""
    out = dict(row)
    for key in ("n_treated", "n_comparison", "n_served", "n_unmatched"):
        if key in out and fmt.hides(out[key]):
            out[key] = None
            out["suppressed"] = True
    return out


@router.get("/impact", include_in_schema=False)
@context.cached_page
def impact_page(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    outcome = choice(request, "outcome", list(OUTCOMES), "attendance")
    assert outcome is not None
    done, rows = run_impact(svc, outcome, None)
    if not done:
        context.dont_keep(request)
    table = DataTable(
        "impact",
        f"Effect of each service on {OUTCOMES[outcome].noun}",
        [
            "Service",
            "Estimated effect",
            "95% interval",
            "Children served (with data)",
            "Comparison children",
            "Verdict",
        ],
        numeric={1, 3, 4},
    )
    services = []
    for r in rows or []:
        r = _viewer_safe(r, fmt)
        report = context.url("/impact/report", service=r["service"], outcome=outcome)
        if "error" in r:
            table.add(Cell(r["service"]), "–", "–", "–", "–", Cell(r["error"]))
            continue
        table.add(
            Cell(r["service"]),
            Cell(num(r["effect"], 1), r["effect"]),
            interval(r["ci_low"], r["ci_high"], 1),
            Cell("c" if r["n_treated"] is None else num(r["n_treated"], 0), r["n_treated"]),
            Cell(
                "c" if r["n_comparison"] is None else num(r["n_comparison"], 0), r["n_comparison"]
            ),
            Cell(r["verdict"]),
        )
        services.append({"row": r, "report": report})
    method = next((r["method"] for r in rows or [] if r.get("method")), None)
    return context.render(
        request,
        "impact.html",
        {
            "title": "Outcomes and impact",
            "outcome": outcome,
            "outcome_choices": [(k, o.title) for k, o in OUTCOMES.items()],
            "pending": not done,
            "pending_text": PENDING,
            "table": table,
            "services": services,
            "method": method,
        },
        tables=[table],
    )


@router.get("/impact/report", include_in_schema=False)
def evaluation_report(request: Request, user: Viewer) -> Response:
    """A service's evaluation report as one self-contained HTML file (counts at or below the
    suppression threshold are 'fewer than N'; no comments). Audited as an export."""
    from csc_insight.reports.evaluation import gather, render

    svc = context.service(request)
    service = choice(request, "service", svc.choices().services, None)
    if service is None:
        raise ConfigError("Say which service: /impact/report?service=NAME.")
    outcome = choice(request, "outcome", list(OUTCOMES), "attendance")
    assert outcome is not None
    html = svc.cached(
        ("evaluation-report", service, outcome),
        lambda: render(gather(svc.warehouse(), service, outcome)),
    )
    auth.audit(
        request,
        audit_log.EXPORT,
        target=request.url.path,
        detail=f"evaluation report for {service} ({outcome})",
    )
    name = "".join(ch if ch.isalnum() else "-" for ch in service.lower()).strip("-")
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="evaluation-{name}.html"'},
    )


@router.get("/api/impact", tags=["analysis"])
def impact_api(
    request: Request,
    user: Viewer,
    outcome: str = Query("attendance", description=", ".join(OUTCOMES)),
) -> list[dict[str, Any]]:
    """Each service's difference-in-differences effect on the outcome, with its interval,
    p-value, numbers of children, method and verdict (small numbers null for viewers)."""
    choice(request, "outcome", list(OUTCOMES), "attendance")
    fmt = context.formatter(request, user)
    _, rows = run_impact(context.service(request), outcome, API_WAIT_SECONDS)
    return [_viewer_safe(r, fmt) for r in rows or []]
