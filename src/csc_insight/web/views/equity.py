"""/equity: characteristics and equal access. For one breakdown (ethnicity, sex, age band,
disability, locality), every stage of the journey (contact to looked after, and each local
service): rates per 10,000 children, the ratio to the reference group with its interval,
significance after Holm's correction over every comparison, and the representation index;
where along the journey disproportionality grows; and whether groups get an equal service
(waits, timeliness, repeat use, outcomes). Viewers get small groups suppressed by the
analysis itself (``role="viewer"``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from csc_insight.analysis import equity as analysis
from csc_insight.errors import ConfigError
from csc_insight.indicators.periods import parse
from csc_insight.web import context, pages
from csc_insight.web.auth import Viewer
from csc_insight.web.charts import Chart, interval_chart
from csc_insight.web.service import API_WAIT_SECONDS, DataService, period_text
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._analysis import PENDING, choice, interval, num, role, yes_no

router = APIRouter()
PAGE = pages.register(
    pages.Page(
        "/equity",
        "Characteristics and equal access",
        70,
        description="Rates and disproportionality by group along the journey; equal service.",
        available=lambda svc: not svc.is_empty(),
    )
)
DEFAULT_STAGE = "referral"


def _period(request: Request) -> str | None:
    chosen = context.filters(request).period
    if chosen is not None and not period_text(parse(chosen)).startswith("Financial year"):
        raise ConfigError("Equal access is shown by financial year, such as 2024-25.")
    return chosen


def run_equity(
    svc: DataService, by: str, period: str | None, who: str, wait: float | None
) -> tuple[bool, dict[str, Any] | None]:
    def work() -> dict[str, Any]:
        a = analysis.analyse(svc.warehouse(), by, period, 1, None, who, threshold=svc.threshold)
        return a.as_json()

    return svc.analysis(("equity", by, period, who), work, wait)


def run_equal_service(
    svc: DataService, by: str, period: str | None, who: str, wait: float | None
) -> tuple[bool, dict[str, Any] | None]:
    return svc.analysis(
        ("equal-service", by, period, who),
        lambda: analysis.equal_service(svc.warehouse(), by, period, 1, None, who),
        wait,
    )


def _stage_title(stage: dict[str, Any]) -> str:
    return str(stage.get("title") or stage["stage"])


@router.get("/equity", include_in_schema=False)
@context.cached_page
def equity_page(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    by = choice(request, "by", list(analysis.BREAKDOWNS), "ethnicity")
    assert by is not None
    period = _period(request)
    who = role(fmt)
    done, result = run_equity(svc, by, period, who, None)
    service_done, service = run_equal_service(svc, by, period, who, None)
    if not (done and service_done):
        context.dont_keep(request)
    tables: list[DataTable] = []
    charts: list[Chart] = []
    blocks: list[tuple[Chart, DataTable]] = []
    stage_choices: list[tuple[str, str]] = []
    chosen_stage: dict[str, Any] | None = None
    journey: DataTable | None = None
    title = analysis.breakdown_title(by)
    if result is not None:
        stage_choices = [(s["stage"], _stage_title(s)) for s in result["stages"]]
        stage = choice(request, "stage", [s for s, _ in stage_choices], DEFAULT_STAGE)
        chosen_stage = next(s for s in result["stages"] if s["stage"] == stage)
        conditional = chosen_stage["conditional"]
        t = DataTable(
            "equity-stage-data",
            f"{_stage_title(chosen_stage)} by {title.lower()}, {result['period']} "
            f"(compared with {result['reference']})",
            [
                title,
                "Children",
                "Children at the step before" if conditional else "Population",
                "Rate per 10,000",
                "Ratio to the reference group",
                "95% interval",
                "Significant (Holm)",
                "Representation index",
            ],
            numeric={1, 2, 3, 4, 7},
        )
        rows = []
        for g in chosen_stage["groups"]:
            name = g["group"] + (" (reference)" if g.get("reference") else "")
            if g.get("suppressed"):
                t.add(Cell(name), "c", "c", "c", "c", "c", "–", "c")
                continue
            t.add(
                Cell(name),
                Cell(num(g["count"], 0), g["count"]),
                Cell(num(g["population"], 0), g["population"]),
                Cell(num(g["rate_per_10k"]), g["rate_per_10k"]),
                Cell(num(g["ratio"], 2), g["ratio"]),
                interval(g["ci_low"], g["ci_high"]),
                yes_no(g["significant"]) if g.get("tested") else "Not tested",
                Cell(num(g["representation_index"], 2), g["representation_index"]),
            )
            if g.get("tested") and g.get("ratio") is not None:
                rows.append((g["group"], g["ratio"], g["ci_low"], g["ci_high"]))
        chart = interval_chart(
            "equity-stage",
            f"{_stage_title(chosen_stage)}: rate ratio to {result['reference']} with 95% interval",
            rows,
            "Rate ratio (1 = the same rate as the reference group)",
        )
        tables.append(t)
        charts.append(chart)
        blocks.append((chart, t))
        journey = DataTable(
            "equity-journey",
            f"Where disproportionality grows along the journey, by {title.lower()}",
            [title, "Along the journey", *[s["stage"] for s in result["journey"][0]["steps"]]]
            if result["journey"]
            else [title, "Along the journey"],
            caption_size="s",
        )
        for j in result["journey"]:
            journey.add(
                Cell(j["group"]), Cell(j["summary"]), *[Cell(s["change"]) for s in j["steps"]]
            )
        tables.append(journey)
    service_tables: list[tuple[dict[str, Any], DataTable]] = []
    if service is not None:
        for m in service["measures"]:
            st = DataTable(
                f"equity-service-{m['measure'].replace('_', '-')}",
                f"{m['title']} by {title.lower()}, {service['period']}",
                [
                    title,
                    "Number",
                    "Value",
                    f"Difference from {service['reference']}",
                    "Significant (Holm)",
                ],
                numeric={1, 2, 3},
                caption_size="s",
            )
            for g in m["groups"]:
                name = g["group"] + (" (reference)" if g.get("reference") else "")
                if g.get("suppressed"):
                    st.add(Cell(name), "c", "c", "c", "–")
                    continue
                st.add(
                    Cell(name),
                    Cell(num(g["n"], 0), g["n"]),
                    Cell(num(g["value"], 2), g["value"]),
                    Cell(num(g["difference"], 2), g["difference"]),
                    yes_no(g["significant"]) if g.get("tested") else "Not tested",
                )
            tables.append(st)
            service_tables.append((m, st))
    return context.render(
        request,
        "equity.html",
        {
            "title": "Characteristics and equal access",
            "by": by,
            "by_choices": [(b, analysis.breakdown_title(b)) for b in analysis.BREAKDOWNS],
            "periods": [(v, t) for v, t in svc.choices().periods if t.startswith("Financial year")],
            "period_label": (result or {}).get("period") or period,
            "stage_choices": stage_choices,
            "stage": chosen_stage,
            "pending": not done,
            "service_pending": not service_done,
            "pending_text": PENDING,
            "result": result,
            "blocks": blocks,
            "journey": journey,
            "service": service,
            "service_tables": service_tables,
        },
        tables=tables,
        charts=charts,
    )


@router.get("/api/equity", tags=["analysis"])
def equity_api(
    request: Request,
    user: Viewer,
    by: str = Query("ethnicity", description=", ".join(analysis.BREAKDOWNS)),
    period: str | None = Query(None, description="Financial year (2024-25); default: latest."),
    stage: str | None = Query(None, description="One stage or step; default: every one."),
) -> dict[str, Any]:
    """Rates per 10,000, rate ratios with intervals, Holm-adjusted significance and the
    representation index at every stage, and the journey. Suppressed for viewers."""
    svc = context.service(request)
    choice(request, "by", list(analysis.BREAKDOWNS), "ethnicity")
    _, result = run_equity(
        svc, by, _period(request), role(context.formatter(request, user)), API_WAIT_SECONDS
    )
    assert result is not None
    if stage is not None:
        found = [s for s in result["stages"] if s["stage"] in (stage, f"service:{stage}")]
        if not found:
            raise ConfigError(f"There is no stage {stage!r}.")
        return {k: v for k, v in result.items() if k not in ("stages", "journey")} | found[0]
    return result


@router.get("/api/equity/equal-service", tags=["analysis"])
def equal_service_api(
    request: Request,
    user: Viewer,
    by: str = Query("ethnicity", description=", ".join(analysis.BREAKDOWNS)),
    period: str | None = Query(None, description="Financial year (2024-25); default: latest."),
) -> dict[str, Any]:
    """Waits, timeliness, repeat use and outcomes by group against the reference group."""
    svc = context.service(request)
    choice(request, "by", list(analysis.BREAKDOWNS), "ethnicity")
    _, result = run_equal_service(
        svc, by, _period(request), role(context.formatter(request, user)), API_WAIT_SECONDS
    )
    return dict(result or {})
