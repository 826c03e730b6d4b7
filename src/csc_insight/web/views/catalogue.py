"""/catalogue: every indicator's definition, owner and target."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from csc_insight.indicators import REGISTRY
from csc_insight.web import context, pages, scorecard
from csc_insight.web.auth import Viewer
from csc_insight.web.charts import UNIT_TITLES
from csc_insight.web.formatting import format_value
from csc_insight.web.tables import Cell, DataTable

router = APIRouter(include_in_schema=False)
PAGE = pages.register(pages.Page("/catalogue", "Indicator catalogue", pages.CATALOGUE))
DIRECTION = {
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
    "neither": "Neither",
}


def catalogue_table(request: Request) -> DataTable:
    authority = context.service(request).authority()
    table = DataTable(
        "catalogue",
        "Indicators",
        [
            "Indicator",
            "Definition",
            "Unit",
            "Better",
            "Owner",
            "Target",
            "Tolerance",
            "Cadence",
            "Reads",
            "DfE table",
            "Identifier",
        ],
    )
    order = [k for k, _ in scorecard.AREAS]
    for ind in sorted(REGISTRY.values(), key=lambda i: order.index(scorecard.area(i.id))):
        t = authority.targets.get(ind.id)
        link = None if ind.child_level else f"/indicators/{ind.id}"
        if ind.child_level:
            link = "/repeat-use"
        table.add(
            Cell(ind.title, ind.title, href=link),
            ind.definition,
            UNIT_TITLES.get(str(ind.unit), str(ind.unit))
            + (" (child-level list)" if ind.child_level else ""),
            DIRECTION.get(str(ind.polarity), str(ind.polarity)),
            (t.owner if t else None) or "Not recorded",
            Cell(
                "–" if not t or t.target is None else format_value(t.target, str(ind.unit)),
                t.target if t else None,
            ),
            Cell(
                "–" if not t or t.target is None else f"{t.tolerance:g}", t.tolerance if t else None
            ),
            (t.cadence if t else None) or "–",
            ", ".join(ind.tables),
            ind.dfe_table or "Local",
            Cell(ind.id),
        )
    return table


@router.get("/catalogue")
@context.cached_page
def catalogue(request: Request, user: Viewer) -> Response:
    table = catalogue_table(request)
    return context.render(
        request,
        "catalogue.html",
        {"title": "Indicator catalogue", "table": table},
        tables=[table],
    )
