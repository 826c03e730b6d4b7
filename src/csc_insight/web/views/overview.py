"""/: the overview: headline indicators with target, status and 12-month trend."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csc_insight.indicators import REGISTRY
from csc_insight.indicators.periods import parse
from csc_insight.web import context, pages, scorecard
from csc_insight.web.auth import Viewer
from csc_insight.web.service import period_text

router = APIRouter(include_in_schema=False)
PAGE = pages.register(
    pages.Page("/", "Overview", pages.OVERVIEW, description="Headline indicators")
)


@router.get("/")
@context.cached_page
def overview(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    chosen = context.filters(request)
    label = context.period_or_latest(request, chosen)
    assert label is not None
    results = svc.indicators(label, chosen, suppressed=fmt.suppresses)
    trends = svc.trend(label, chosen, suppressed=fmt.suppresses, wait=False)
    if trends is None:
        context.dont_keep(request)
    tables = [
        scorecard.headline_table(f"overview-{key}", title, members, fmt, chosen, trends)
        for key, title, members in scorecard.grouped(results)
    ]
    loads = svc.loads()
    headline_count = sum(1 for i in REGISTRY.values() if not i.child_level)
    return context.render(
        request,
        "overview.html",
        {
            "title": "Overview",
            "authorities": svc.la_codes(),
            "period": parse(label),
            "period_text": period_text(parse(label)),
            "period_label": label,
            "chosen": chosen,
            "choices": svc.choices(),
            "rag": scorecard.summary(results, fmt),
            "tables": tables,
            "latest_load": loads[0] if loads else None,
            "not_split": headline_count - len(results) if chosen.dims() else 0,
            "trend_pending": trends is None,
        },
        tables=tables,
    )
