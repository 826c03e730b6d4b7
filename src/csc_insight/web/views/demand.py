"""/demand: demand over time. One series (referrals, contacts, assessments ...) by week or
month, optionally split by a breakdown, with its school-term effect, detected breaks, a
12-month forecast with its back-test, the effect of an interruption the user names, and
the projection of children looked after by placement type.

The analyses take seconds on a large authority: each is worked out once per data load and
choice (``DataService.analysis``); the page says "being worked out" rather than waiting.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from csc_insight.analysis import demand as analysis
from csc_insight.analysis import series, terms
from csc_insight.errors import CscInsightError
from csc_insight.web import context, pages
from csc_insight.web.auth import Viewer
from csc_insight.web.charts import Chart, forecast_chart, multi_line_chart
from csc_insight.web.formatting import Formatter
from csc_insight.web.service import DataService
from csc_insight.web.tables import Cell, DataTable
from csc_insight.web.views._analysis import PENDING, choice, interval, num

router = APIRouter()
PAGE = pages.register(
    pages.Page(
        "/demand",
        "Demand",
        30,
        description="Demand over time: seasonality, breaks, forecasts and projections.",
        available=lambda svc: not svc.is_empty(),
    )
)
SERIES = [s.name for s in series.SERIES]
FREQUENCIES = {"M": "Month", "W": "Week"}
RECOVERY_WEEKS = 8


def _calendar(svc: DataService) -> terms.TermCalendar:
    return terms.from_config(svc.authority().raw)


def run_demand(
    svc: DataService, name: str, by: str | None, freq: str, wait: float | None = None
) -> tuple[bool, dict[str, Any] | None]:
    return svc.analysis(
        ("demand", name, by, freq),
        lambda: analysis.demand(svc.warehouse(), name, _calendar(svc), by, None, freq),
        wait,
    )


def run_interruption(
    svc: DataService, name: str, by: str | None, freq: str, event: terms.Event, wait: float | None
) -> tuple[bool, dict[str, Any] | None]:
    key = ("demand-interruption", name, by, freq, event.start, event.end)
    return svc.analysis(
        key,
        lambda: analysis.demand_interruption(
            svc.warehouse(), name, event, _calendar(svc), by, None, freq, RECOVERY_WEEKS
        ),
        wait,
    )


def run_placements(svc: DataService, wait: float | None = None) -> tuple[bool, Any]:
    from csc_insight.analysis.placements import placement_forecast

    def work() -> dict[str, Any] | None:
        try:
            return placement_forecast(svc.warehouse()).as_dict()
        except CscInsightError as exc:  # no looked-after episodes to project from
            return {"error": str(exc)}

    return svc.analysis(("placements",), work, wait)


def _hidden_counts(result: dict[str, Any], fmt: Formatter) -> dict[str, Any]:
    """For viewers: counts from 1 to the threshold become null (shown as c)."""
    if not fmt.suppresses:
        return result
    groups = {}
    for key, g in result["groups"].items():
        counts = [
            {**c, "count": None, "suppressed": True} if fmt.hides(c["count"]) else c
            for c in g["counts"]
        ]
        small = fmt.hides(g["total"])
        groups[key] = {
            **g,
            "counts": counts,
            "total": None if small else g["total"],
            "suppressed": small,
            **(
                {"decomposition": None, "term_ratio": None, "breaks": [], "forecast": None}
                if small
                else {"decomposition": None}
            ),
        }
    return {**result, "groups": groups}


def _event(request: Request) -> tuple[terms.Event | None, str | None, dict[str, str]]:
    """The interruption the user asked about (from, to), or an error message."""
    q = request.query_params
    given = {"start": (q.get("start") or "").strip(), "end": (q.get("end") or "").strip()}
    if not given["start"] and not given["end"]:
        return None, None, given
    if not given["start"] or not given["end"]:
        return None, "Enter both the first and the last day of the interruption.", given
    try:
        date.fromisoformat(given["start"])
        date.fromisoformat(given["end"])
        return analysis.parse_range(f"{given['start']}:{given['end']}"), None, given
    except (ValueError, CscInsightError):
        return (
            None,
            "Enter the days as dates, such as 2020-03-23, the first before the last.",
            given,
        )


@router.get("/demand", include_in_schema=False)
@context.cached_page
def demand_page(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    name = choice(request, "series", SERIES, "referrals")
    assert name is not None
    sdef = series.series_def(name)
    by = choice(request, "by", list(series.dimensions_of(name)), None)
    freq = choice(request, "freq", list(FREQUENCIES), "M")
    assert freq is not None
    period_word = FREQUENCIES[freq].lower()
    tables: list[DataTable] = []
    charts: list[Chart] = []
    blocks: list[tuple[Chart, DataTable]] = []
    problem: str | None = None
    try:
        done, result = run_demand(svc, name, by, freq)
    except CscInsightError as exc:
        done, result, problem = True, None, str(exc)
    sentences: list[str] = []
    breaks_table: DataTable | None = None
    groups_table: DataTable | None = None
    if result is not None:
        result = _hidden_counts(result, fmt)
        groups = result["groups"]
        if by is None:
            g = groups.get("all") or next(iter(groups.values()))
            if g.get("term_ratio"):
                sentences.append(g["term_ratio"]["sentence"])
            school = result.get("term_ratio_school_sources")
            if school:
                sentences.append(school["sentence"])
            if g.get("backtest"):
                sentences.append(g["backtest"]["verdict"])
            forecast = (g.get("forecast") or {}).get("months", []) if freq == "M" else []
            chart_id = f"demand-{name}"
            t = DataTable(
                f"{chart_id}-data",
                f"{sdef.title} by {period_word}" + (", with the forecast" if forecast else ""),
                [FREQUENCIES[freq], "Recorded", "Forecast", "80% interval", "95% interval"],
                numeric={1, 2},
                caption_size="s",
                display_limit=400,
            )
            for c in g["counts"]:
                shown = "c" if c.get("suppressed") else num(c["count"], 0)
                t.add(Cell(c["period"]), Cell(shown, c["count"]), "", "", "")
            for f in forecast:
                t.add(
                    Cell(f["period"]),
                    "",
                    Cell(num(f["mean"], 0), round(f["mean"], 1)),
                    interval(f["lower80"], f["upper80"], 0),
                    interval(f["lower95"], f["upper95"], 0),
                )
            chart = forecast_chart(
                chart_id,
                f"{sdef.title} by {period_word}"
                + (": recorded and forecast for 12 months" if forecast else ""),
                [(c["period"], c["count"]) for c in g["counts"]],
                forecast,
            )
            tables.append(t)
            charts.append(chart)
            blocks.append((chart, t))
            breaks_table = DataTable(
                "demand-breaks",
                "Changes in level found in the series (seasonal pattern removed)",
                ["From", "Level before", "Level after", "Change"],
                numeric={1, 2, 3},
                caption_size="s",
            )
            for b in g.get("breaks") or []:
                change = b["change_pct"]
                breaks_table.add(
                    Cell(b["date"]),
                    Cell(num(b["level_before"]), b["level_before"]),
                    Cell(num(b["level_after"]), b["level_after"]),
                    Cell("–" if change is None else f"{change:+.0f}%", change),
                )
            tables.append(breaks_table)
        else:
            chart_id = f"demand-{name}-by-{by}"
            t = DataTable(
                f"{chart_id}-data",
                f"{sdef.title} by {period_word} and {by}",
                [FREQUENCIES[freq], "Group", "Recorded"],
                numeric={2},
                caption_size="s",
                display_limit=120,
            )
            points = []
            for key, g in groups.items():
                for c in g["counts"]:
                    shown = "c" if c.get("suppressed") else num(c["count"], 0)
                    t.add(Cell(c["period"]), Cell(key), Cell(shown, c["count"]))
                    points.append((c["period"], key, c["count"]))
            chart = multi_line_chart(chart_id, t.caption, points)
            tables.append(t)
            charts.append(chart)
            blocks.append((chart, t))
            groups_table = DataTable(
                "demand-groups",
                f"{sdef.title} by {by}: school terms, breaks and forecast",
                [
                    "Group",
                    "Total",
                    "Term weeks against holiday weeks",
                    "95% interval",
                    "Breaks found",
                    "Next 12 months (forecast)",
                    "Back-test",
                ],
                numeric={1, 2, 4, 5},
                caption_size="s",
            )
            for key, g in groups.items():
                if g.get("suppressed"):
                    groups_table.add(Cell(key), "c", "c", "c", "c", "c", "c")
                    continue
                tr = g.get("term_ratio") or {}
                months = (g.get("forecast") or {}).get("months") or []
                ahead = sum(m["mean"] for m in months) if months else None
                bt = g.get("backtest") or {}
                better = bt.get("better_than_seasonal_naive")
                groups_table.add(
                    Cell(key),
                    Cell(num(g["total"], 0), g["total"]),
                    Cell(num(tr.get("ratio"), 2), tr.get("ratio")),
                    interval(tr.get("ci_low"), tr.get("ci_high")),
                    Cell(str(len(g.get("breaks") or [])), len(g.get("breaks") or [])),
                    Cell(num(ahead, 0), None if ahead is None else round(ahead, 1)),
                    "–"
                    if better is None
                    else (
                        "Better than repeating last year"
                        if better
                        else "No better than repeating last year"
                    ),
                )
            tables.append(groups_table)
    # The interruption the user named.
    event, event_error, given = _event(request)
    interruption_table: DataTable | None = None
    interruption_sentences: list[str] = []
    interruption_done = True
    if event is not None:
        interruption_done, found = run_interruption(svc, name, by, freq, event, None)
        if found is not None:
            interruption_table = DataTable(
                "demand-interruption",
                f"{sdef.title} during and after {event.start:%-d %B %Y} to {event.end:%-d %B %Y}",
                [
                    "Group",
                    "Recorded during",
                    "Expected without it",
                    "Change during",
                    "95% interval",
                    "Change in the recovery weeks",
                    "Change afterwards",
                ],
                numeric={1, 2, 3, 5, 6},
                caption_size="s",
            )
            for key, g in found["groups"].items():
                if "error" in g:
                    interruption_sentences.append(f"{key}: {g['error']}")
                    continue
                observed = g["observed_during"]
                if fmt.hides(observed):
                    interruption_table.add(Cell(key), "c", "c", "c", "c", "c", "c")
                    continue
                interruption_sentences.append(g["sentence"])
                lc = g["level_change"]
                rec, aft = g.get("recovery"), g.get("after_recovery")
                interruption_table.add(
                    Cell(key),
                    Cell(num(observed, 0), observed),
                    Cell(num(g["expected_during"], 0), round(g["expected_during"], 1)),
                    Cell(f"{lc['change_pct']:+.0f}%", round(lc["change_pct"], 1)),
                    f"{lc['change_pct_ci_low']:+.0f}% to {lc['change_pct_ci_high']:+.0f}%",
                    "–" if rec is None else f"{rec['change_pct']:+.0f}%",
                    "–" if aft is None else f"{aft['change_pct']:+.0f}%",
                )
            tables.append(interruption_table)
    # Children looked after: the projection by placement type.
    placements_done, placements = run_placements(svc)
    placements_table: DataTable | None = None
    placements_blocks: list[tuple[Chart, DataTable]] = []
    placements_note = None
    if placements is not None and "error" in placements:
        placements_note = placements["error"]
    elif placements is not None:
        placements_table, chart = _placements(placements)
        tables.append(placements_table)
        charts.append(chart)
        placements_blocks.append((chart, placements_table))
    if not (done and interruption_done and placements_done):
        context.dont_keep(request)
    return context.render(
        request,
        "demand.html",
        {
            "title": "Demand",
            "series_choices": [(s.name, s.title) for s in series.SERIES],
            "by_choices": list(series.dimensions_of(name)),
            "freq_choices": list(FREQUENCIES.items()),
            "name": name,
            "sdef": sdef,
            "by": by,
            "freq": freq,
            "pending": not done,
            "pending_text": PENDING,
            "problem": problem,
            "result": result,
            "sentences": sentences,
            "blocks": blocks,
            "breaks_table": breaks_table,
            "groups_table": groups_table,
            "event": event,
            "event_error": event_error,
            "given": given,
            "interruption_pending": not interruption_done,
            "interruption_table": interruption_table,
            "interruption_sentences": interruption_sentences,
            "recovery_weeks": RECOVERY_WEEKS,
            "placements_pending": not placements_done,
            "placements_note": placements_note,
            "placements": placements,
            "placements_blocks": placements_blocks,
        },
        tables=tables,
        charts=charts,
    )


GROUP_TITLES = {
    "foster": "Foster care",
    "residential": "Residential",
    "other": "Other",
    "total": "Total",
}


def _placements(p: dict[str, Any]) -> tuple[DataTable, Chart]:
    t = DataTable(
        "demand-placements-data",
        f"Children looked after at each month end from {p['start']}, projected by placement type",
        ["Month end", "Placement type", "Expected", "80% interval", "95% interval"],
        numeric={2},
        caption_size="s",
    )
    points = []
    for row in p["months"]:
        group = GROUP_TITLES.get(str(row["group"]), str(row["group"]))
        t.add(
            Cell(str(row["month_end"])),
            Cell(group),
            Cell(num(row["mean"], 0), round(float(row["mean"]), 1)),
            interval(row["lower80"], row["upper80"], 0),
            interval(row["lower95"], row["upper95"], 0),
        )
        points.append((str(row["month_end"]), group, float(row["mean"])))
    chart = multi_line_chart(
        "demand-placements",
        "Children looked after: projected month-end numbers by placement type",
        points,
    )
    return t, chart


# --- API ----------------------------------------------------------------------------------
@router.get("/api/demand", tags=["analysis"])
def demand_api(
    request: Request,
    user: Viewer,
    series_name: str = Query("referrals", alias="series", description=", ".join(SERIES)),
    by: str | None = Query(None, description="A breakdown of the series (source, team ...)."),
    freq: str = Query("M", description="M (months) or W (weeks)."),
    start: date | None = Query(None, description="First day of an interruption to measure."),
    end: date | None = Query(None, description="Last day of the interruption."),
) -> dict[str, Any]:
    """One demand series: counts, school-term ratio, breaks, forecast and back-test (and the
    effect of an interruption when ``start`` and ``end`` are given). Viewers get counts from 1
    to the suppression threshold as null."""
    from csc_insight.web.service import API_WAIT_SECONDS

    svc = context.service(request)
    fmt = context.formatter(request, user)
    choice(request, "series", SERIES, "referrals")
    choice(request, "by", list(series.dimensions_of(series_name)), None)
    choice(request, "freq", list(FREQUENCIES), "M")
    _, result = run_demand(svc, series_name, by, freq, API_WAIT_SECONDS)
    assert result is not None
    out = _hidden_counts(result, fmt)
    if start is not None and end is not None:
        event = analysis.parse_range(f"{start}:{end}")
        _, found = run_interruption(svc, series_name, by, freq, event, API_WAIT_SECONDS)
        assert found is not None
        groups = {}
        for key, g in found["groups"].items():
            if "error" not in g and fmt.hides(g["observed_during"]):
                g = {"suppressed": True}
            groups[key] = g
        out = {**out, "interruption": {**found, "groups": groups}}
    return out


@router.get("/api/demand/placements", tags=["analysis"])
def placements_api(request: Request, user: Viewer) -> dict[str, Any]:
    """Children looked after projected 12 months ahead by placement type, with intervals."""
    from csc_insight.web.service import API_WAIT_SECONDS

    _, result = run_placements(context.service(request), API_WAIT_SECONDS)
    return dict(result or {})
