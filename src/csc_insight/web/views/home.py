"""/: the overview of the loaded authority for one period."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csc_insight.indicators import compute, latest_period
from csc_insight.indicators.periods import parse
from csc_insight.web import context

router = APIRouter()


@router.get("/")
def overview(request: Request, period: str | None = None) -> Response:
    """Headline indicators, what data is loaded, and the latest load."""
    fmt = context.config(request).formatter
    with context.open_warehouse(request) as warehouse:
        counts = context.table_counts(warehouse)
        if context.is_empty(counts):
            return context.render(request, "empty.html", {"title": "No data loaded yet"})
        label = parse(period).label if period else latest_period(warehouse)
        chosen = parse(label) if label else None
        results = compute(warehouse, label) if label else []
        latest = context.loads(warehouse, limit=1)
        authorities = context.la_codes(warehouse, counts)
    return context.render(
        request,
        "home.html",
        {
            "title": "Overview",
            "authorities": authorities,
            "period": chosen,
            "indicators": [fmt.indicator(r) for r in results],
            "counts": [c for c in counts if c.about_children],
            "latest_load": latest[0] if latest else None,
        },
    )
