"""/benchmarks: the authority's indicators beside England, its region and its statistical
neighbours, from DfE's published tables imported with ``csc-insight benchmarks import``.
Without them the page says how to import them."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from csc_insight.benchmarks import view
from csc_insight.benchmarks.compare import Comparison, authority_code, compare
from csc_insight.benchmarks.published import PUBLISHED
from csc_insight.errors import ConfigError, CscInsightError
from csc_insight.web import context, pages
from csc_insight.web.auth import Viewer
from csc_insight.web.charts import Chart, from_spec
from csc_insight.web.formatting import format_value
from csc_insight.web.service import API_WAIT_SECONDS, DataService
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._analysis import PENDING

router = APIRouter()
PAGE = pages.register(
    pages.Page(
        "/benchmarks",
        "Benchmarks",
        80,
        description="Indicators beside England, the region and statistical neighbours.",
    )
)


def _published(svc: DataService) -> int:
    return svc.cached(("published-count",), lambda: svc.warehouse().count(PUBLISHED))


def run_compare(
    svc: DataService, period: str | None, wait: float | None
) -> tuple[bool, list[Comparison] | str | None]:
    def work() -> list[Comparison] | str:
        try:
            wh = svc.warehouse()
            return compare(wh, authority_code(wh, svc.home), period)
        except CscInsightError as exc:
            return str(exc)

    return svc.analysis(("benchmarks", period), work, wait)


def _value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format_value(value, unit)


@router.get("/benchmarks", include_in_schema=False)
@context.cached_page
def benchmarks_page(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    period = context.filters(request).period
    if _published(svc) == 0:
        return context.render(
            request, "benchmarks.html", {"title": "Benchmarks", "no_tables": True}
        )
    done, found = run_compare(svc, period, None)
    if not done:
        context.dont_keep(request)
    problem = found if isinstance(found, str) else None
    comparisons = found if isinstance(found, list) else []
    tables: list[DataTable] = []
    charts: list[Chart] = []
    blocks: list[tuple[Chart, DataTable]] = []
    chosen: Comparison | None = None
    if comparisons:
        first = comparisons[0]
        summary = DataTable(
            "benchmarks",
            f"{first.la_name or first.la_code}: {first.period or 'no local data'} against the "
            "latest published year",
            [
                "Indicator",
                "Local",
                "Published",
                "England",
                "Region",
                "Neighbours' mean",
                "Neighbours' median",
                "Rank",
                "Quartile band",
                "Published year",
            ],
            numeric={1, 2, 3, 4, 5, 6},
        )
        for c in comparisons:
            summary.add(
                Cell(c.title, href=context.url("/benchmarks", indicator=c.id, period=period)),
                Cell(_value(c.local, c.unit), c.local),
                Cell(_value(c.la_published, c.unit), c.la_published),
                Cell(_value(c.england, c.unit), c.england),
                Cell(_value(c.region, c.unit), c.region),
                Cell(_value(c.sn_mean, c.unit), c.sn_mean),
                Cell(_value(c.sn_median, c.unit), c.sn_median),
                f"{c.rank} of {c.of}" if c.rank else "–",
                c.quartile or "–",
                f"{c.published_period or '–'}" + (" (local figure newer)" if c.local_newer else ""),
            )
        tables.append(summary)
        wanted = request.query_params.get("indicator")
        if wanted:
            chosen = next((c for c in comparisons if c.id == wanted), None)
            if chosen is None:
                raise ConfigError(f"{wanted!r} is not a benchmarked indicator.")
            specs = view.chart_specs(chosen)
            slug = chosen.id.replace(".", "-")
            if "neighbours" in specs:
                nt = DataTable(
                    f"benchmarks-{slug}-neighbours-data",
                    f"{chosen.title}: the authority and its statistical neighbours",
                    ["Area", "Value", "Closeness"],
                    numeric={1},
                    caption_size="s",
                )
                for r in view.neighbour_table(chosen).to_dict("records"):
                    nt.add(
                        Cell(str(r["area"])),
                        Cell(_value(r["value"], chosen.unit), r["value"]),
                        Cell(str(r["closeness"] or "–")),
                    )
                ch = from_spec(f"benchmarks-{slug}-neighbours", nt.caption, specs["neighbours"])
                tables.append(nt)
                charts.append(ch)
                blocks.append((ch, nt))
            tt = DataTable(
                f"benchmarks-{slug}-trend-data",
                f"{chosen.title}: published years",
                ["Year", "Series", "Value"],
                numeric={2},
                caption_size="s",
            )
            for r in view.trend_table(chosen).to_dict("records"):
                tt.add(
                    Cell(str(r["year"])),
                    Cell(str(r["series"])),
                    Cell(_value(r["value"], chosen.unit), r["value"]),
                )
            ch = from_spec(f"benchmarks-{slug}-trend", tt.caption, specs["trend"])
            tables.append(tt)
            charts.append(ch)
            blocks.append((ch, tt))
    notes = list(dict.fromkeys(n for c in comparisons for n in c.notes))
    return context.render(
        request,
        "benchmarks.html",
        {
            "title": "Benchmarks",
            "no_tables": False,
            "pending": not done,
            "pending_text": PENDING,
            "problem": problem,
            "comparisons": comparisons,
            "main": tables[0] if tables else None,
            "chosen": chosen,
            "blocks": blocks,
            "notes": notes,
        },
        tables=tables,
        charts=charts,
    )


@router.get("/api/benchmarks", tags=["analysis"])
def benchmarks_api(
    request: Request,
    user: Viewer,
    period: str | None = Query(None, description="Local period; default: the latest loaded."),
) -> list[dict[str, Any]]:
    """Each benchmarked indicator: local value, England, region, statistical neighbours'
    mean and median, rank and quartile band, the published year and neighbours' values.
    An empty list when no published tables are imported."""
    svc = context.service(request)
    if _published(svc) == 0:
        return []
    _, found = run_compare(svc, context.filters(request).period, API_WAIT_SECONDS)
    if isinstance(found, str):
        raise ConfigError(found)
    return [c.to_dict() for c in found or []]
