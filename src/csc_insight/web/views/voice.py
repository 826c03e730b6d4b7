"""/voice: what children and families say about the services: responses, share positive,
mean rating with its interval, sentiment of comments, themes and the monthly trend. Example
comments are for analysts only (they can identify people); viewers get small groups as c."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from csc_insight.analysis import voice as analysis
from csc_insight.errors import ConfigError
from csc_insight.indicators.periods import parse
from csc_insight.web import context, pages
from csc_insight.web.auth import Viewer
from csc_insight.web.charts import Chart, multi_line_chart
from csc_insight.web.service import API_WAIT_SECONDS, DataService, period_text
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._analysis import PENDING, interval, num, role

router = APIRouter()
PAGE = pages.register(
    pages.Page(
        "/voice",
        "Voice",
        60,
        description="What children and families say about the services.",
        available=lambda svc: any(c.name == "feedback" and c.rows for c in svc.counts()),
    )
)


def _financial_years(svc: DataService) -> list[tuple[str, str]]:
    return [(v, t) for v, t in svc.choices().periods if t.startswith("Financial year")]


def run_voice(
    svc: DataService, period: str | None, service: str | None, who: str, wait: float | None
) -> tuple[bool, dict[str, Any] | None]:
    def work() -> dict[str, Any]:
        offered = analysis.load_offered(svc.home).get("offered") if svc.home else None
        return analysis.voice(
            svc.warehouse(), period, 1, service, None, who, offered, svc.threshold
        )

    return svc.analysis(("voice", period, service, who), work, wait)


def _period(request: Request, svc: DataService) -> str | None:
    chosen = context.filters(request).period
    if chosen is not None and not period_text(parse(chosen)).startswith("Financial year"):
        raise ConfigError("Feedback is shown by financial year, such as 2024-25.")
    return chosen


@router.get("/voice", include_in_schema=False)
@context.cached_page
def voice_page(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    period = _period(request, svc)
    done, result = run_voice(svc, period, None, role(fmt), None)
    tables: list[DataTable] = []
    charts: list[Chart] = []
    blocks: list[tuple[Chart, DataTable]] = []
    services: list[dict[str, Any]] = []
    if not done:
        context.dont_keep(request)
    if result is not None:
        summary = DataTable(
            "voice-services",
            f"Feedback by service, {result['period']}",
            [
                "Service",
                "Responses",
                "Positive",
                "Mean rating (1 to 5)",
                "95% interval",
                "Comment sentiment (-1 to 1)",
                "Response rate",
                "Trend over the year",
            ],
            numeric={1, 2, 3, 5, 6},
        )
        for s in [*result["services"], {"service": "All services", **result["overall"]}]:
            if s.get("suppressed"):
                summary.add(Cell(s["service"]), "c", "c", "c", "c", "c", "c", "–")
                continue
            trend = (
                s.get("trend") or result["trend"]
                if s["service"] == "All services"
                else s.get("trend")
            )
            summary.add(
                Cell(s["service"]),
                Cell(num(s["responses"], 0), s["responses"]),
                Cell(f"{num(s.get('pct_positive'))}%", s.get("pct_positive")),
                Cell(num(s.get("mean_rating"), 2), s.get("mean_rating")),
                interval(s.get("ci_low"), s.get("ci_high")),
                Cell(num(s.get("sentiment_mean"), 2), s.get("sentiment_mean")),
                "–"
                if s.get("response_rate") is None
                else Cell(f"{num(s['response_rate'])}%", s["response_rate"]),
                (trend or {}).get("direction") or "–",
            )
        tables.append(summary)
        monthly = DataTable(
            "voice-monthly-data",
            f"Mean rating by month, {result['period']}",
            ["Month", "Responses", "Mean rating (1 to 5)", "95% interval", "Positive"],
            numeric={1, 2, 4},
            caption_size="s",
        )
        points = []
        for m in result["monthly"]:
            if m.get("suppressed"):
                monthly.add(Cell(m["group"]), "c", "c", "c", "c")
                points.append((f"{m['group']}-01", "Mean rating", None))
                continue
            monthly.add(
                Cell(m["group"]),
                Cell(num(m["responses"], 0), m["responses"]),
                Cell(num(m.get("mean_rating"), 2), m.get("mean_rating")),
                interval(m.get("ci_low"), m.get("ci_high")),
                Cell(f"{num(m.get('pct_positive'))}%", m.get("pct_positive")),
            )
            points.append((f"{m['group']}-01", "Mean rating", m.get("mean_rating")))
        chart = multi_line_chart(
            "voice-monthly", f"Mean rating by month, {result['period']}", points, "Mean rating"
        )
        tables.append(monthly)
        charts.append(chart)
        blocks.append((chart, monthly))
        for s in result["services"]:
            if s.get("suppressed"):
                continue
            items = DataTable(
                f"voice-items-{_slug(s['service'])}",
                f"{s['service']}: answers to each question",
                ["Question", "Answers", "Positive", "Mean", "95% interval"],
                numeric={1, 2, 3},
                caption_size="s",
            )
            for it in s.get("items") or []:
                if it.get("suppressed"):
                    items.add(Cell(_words(it["item"])), "c", "c", "c", "c")
                    continue
                items.add(
                    Cell(_words(it["item"])),
                    Cell(num(it["answers"], 0), it["answers"]),
                    Cell(f"{num(it.get('pct_positive'))}%", it.get("pct_positive")),
                    Cell(num(it.get("mean"), 2), it.get("mean")),
                    interval(it.get("ci_low"), it.get("ci_high")),
                )
            tables.append(items)
            services.append({"entry": s, "items": items})
    return context.render(
        request,
        "voice.html",
        {
            "title": "Voice",
            "periods": _financial_years(svc),
            "period_label": (result or {}).get("period") or period,
            "pending": not done,
            "pending_text": PENDING,
            "result": result,
            "tables_main": tables[:1],
            "blocks": blocks,
            "services": services,
            "differences": (result or {}).get("differences") or [],
        },
        tables=tables,
        charts=charts,
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _words(item: str) -> str:
    text = item.replace("_", " ")
    return text[:1].upper() + text[1:]


@router.get("/api/voice", tags=["analysis"])
def voice_api(
    request: Request,
    user: Viewer,
    period: str | None = Query(None, description="Financial year (2024-25); default: latest."),
    service: str | None = Query(None, description="Only this service."),
) -> dict[str, Any]:
    """Feedback by service: responses, share positive, mean rating with its interval,
    sentiment, themes, monthly trend. Small groups are suppressed for viewers; example
    comments are given to analysts only."""
    svc = context.service(request)
    fmt = context.formatter(request, user)
    _, result = run_voice(svc, _period(request, svc), service, role(fmt), API_WAIT_SECONDS)
    return dict(result or {})
