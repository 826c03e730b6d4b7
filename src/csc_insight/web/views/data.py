"""/data: what is in the warehouse and the log of every load."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csc_insight.web import context

router = APIRouter()

LOADS_SHOWN = 100


@router.get("/data")
def data_loaded(request: Request) -> Response:
    """Rows per canonical table and the loads log, newest first."""
    with context.open_warehouse(request) as warehouse:
        counts = context.table_counts(warehouse)
        loads = context.loads(warehouse, limit=LOADS_SHOWN + 1)
    return context.render(
        request,
        "data.html",
        {
            "title": "Data loaded",
            "counts": counts,
            "loads": loads[:LOADS_SHOWN],
            "more_loads": len(loads) > LOADS_SHOWN,
            "empty": context.is_empty(counts),
        },
    )
