"""Analysis of the loaded data: equity, voice, demand, impact and evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from csc_insight.commands.common import (
    BackendOption,
    HomeOption,
    app,
    fail,
    open_warehouse,
    out,
    print_json,
)


@app.command()
def equity(
    home: HomeOption = None,
    backend: BackendOption = None,
    stage: Annotated[
        str | None,
        typer.Option(
            help="One stage (contact, referral, assessment, cin_plan, section47, cp_plan, "
            "looked_after, a service's name) or step ('cp_plan given referral'); "
            "default: the whole journey."
        ),
    ] = None,
    by: Annotated[
        str,
        typer.Option(help="ethnicity, ethnic_group, sex, age_band, disability or locality."),
    ] = "ethnicity",
    period: Annotated[
        str | None, typer.Option(help="Financial year (2024-25); default: the latest.")
    ] = None,
    years: Annotated[
        int, typer.Option(help="Pool this many financial years ending with --period.")
    ] = 1,
    reference: Annotated[
        str | None,
        typer.Option(help="Group to compare with, or 'all' (default: WBRI / White / all)."),
    ] = None,
    equal_service: Annotated[
        bool,
        typer.Option(
            "--equal-service", help="Compare waits, timeliness, repeat use and outcomes instead."
        ),
    ] = False,
    include_uasc: Annotated[
        bool, typer.Option("--include-uasc", help="Count unaccompanied asylum-seeking children.")
    ] = False,
    role: Annotated[
        str, typer.Option(help="viewer (small numbers suppressed) or analyst.")
    ] = "viewer",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rates per 10,000, disproportionality and equal service across groups of children."""
    from csc_insight.analysis import equity as eq

    if role not in ("viewer", "analyst"):
        fail(f"--role must be viewer or analyst, not {role!r}.")
    _, warehouse = open_warehouse(home, backend)
    with warehouse:
        if equal_service:
            payload = eq.equal_service(
                warehouse, by, period, years, reference, role, include_uasc=include_uasc
            )
        else:
            analysis = eq.analyse(
                warehouse, by, period, years, reference, role, include_uasc=include_uasc
            )
            payload = analysis.stage_json(stage) if stage else analysis.as_json()
    if as_json:
        print_json(payload)
        return
    if equal_service:
        for m in payload["measures"]:
            _print_groups(
                f"{m['title']} ({payload['period']}, vs {payload['reference']})",
                m["groups"],
                ("group", "n", "value", "difference", "p_adjusted", "significant"),
            )
        return
    stages = [payload] if stage else payload["stages"]
    for s in stages:
        _print_groups(
            f"{s['title']}: {s['rate_basis']} ({payload['period']}, vs {payload['reference']})",
            s["groups"],
            (
                "group",
                "count",
                "population",
                "rate_per_10k",
                "ratio",
                "ci_low",
                "ci_high",
                "significant",
            ),
        )
    out.print(f"Significance: {escape(payload['correction'])}, alpha {payload['alpha']}.")


def _print_groups(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    table = RichTable(title=escape(title))
    for column in columns:
        table.add_column(column, justify="left" if column == "group" else "right")
    for row in rows:
        if row.get("suppressed"):
            cells = [row["group"], *("c" for _ in columns[1:])]
        else:
            cells = [
                "-"
                if row.get(c) is None
                else (
                    "yes"
                    if row[c] is True
                    else "no"
                    if row[c] is False
                    else f"{row[c]:,}"
                    if isinstance(row[c], int | float)
                    else str(row[c])
                )
                for c in columns
            ]
        table.add_row(*cells)
    out.print(table)


@app.command()
def voice(
    home: HomeOption = None,
    backend: BackendOption = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    by: Annotated[
        str | None,
        typer.Option(
            help="Also split each service by respondent_type, month, sex, age_band, "
            "ethnic_group, ethnicity, disability or locality."
        ),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Financial year (2024-25); default: the latest.")
    ] = None,
    years: Annotated[
        int, typer.Option(help="Pool this many financial years ending with --period.")
    ] = 1,
    role: Annotated[
        str, typer.Option(help="viewer (small numbers suppressed) or analyst (with examples).")
    ] = "viewer",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """What children and families say: ratings, sentiment and themes of feedback by service."""
    from csc_insight.analysis.voice import load_offered
    from csc_insight.analysis.voice import voice as run_voice

    if role not in ("viewer", "analyst"):
        fail(f"--role must be viewer or analyst, not {role!r}.")
    home_dir, warehouse = open_warehouse(home, backend)
    offered = load_offered(home_dir).get("offered")
    with warehouse:
        payload = run_voice(warehouse, period, years, service, by, role, offered)
    if not payload["services"]:
        fail(f"No feedback responses in {payload['period']}: load a feedback extract first.")
    if as_json:
        print_json(payload)
        return
    _print_groups(
        f"Feedback, {payload['period']}",
        [s | {"group": s["service"]} for s in payload["services"]],
        (
            "group",
            "responses",
            "pct_positive",
            "mean_rating",
            "ci_low",
            "ci_high",
            "sentiment_mean",
            "response_rate",
        ),
    )
    for s in payload["services"]:
        if s.get("themes"):
            phrases = ", ".join(f"{t['phrase']} ({t['comments']})" for t in s["themes"])
            out.print(f"[bold]{escape(s['service'])}[/] themes: {escape(phrases)}")


@app.command()
def demand(
    series_name: Annotated[
        str,
        typer.Option(
            "--series",
            help="contacts, referrals, assessments, section47, cp_plans, cla_starts, "
            "service_requests, or looked_after (children in care by placement type, projected).",
        ),
    ] = "referrals",
    home: HomeOption = None,
    backend: BackendOption = None,
    by: Annotated[
        str | None, typer.Option(help="Split by source, locality, team, service, ...")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only these sources, comma-separated (e.g. 2A,2B: schools).")
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="Only requests for this service (service_requests).")
    ] = None,
    freq: Annotated[str, typer.Option(help="W (weeks from Monday) or M (months).")] = "W",
    interruption: Annotated[
        str | None,
        typer.Option(help="Measure an event: START:END, e.g. 2020-03-23:2020-09-01."),
    ] = None,
    recovery_weeks: Annotated[
        int, typer.Option(help="Weeks after the interruption counted as its recovery.")
    ] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Demand over time: counts, seasonality, school-term effect, breaks and forecasts."""
    from csc_insight.analysis import demand as analysis
    from csc_insight.analysis import terms
    from csc_insight.analysis.placements import placement_forecast
    from csc_insight.indicators import targets

    if freq not in ("W", "M"):
        fail(f"--freq must be W or M, not {freq!r}.")
    filters: dict[str, list[str]] = {}
    if source:
        filters["source"] = [s.strip() for s in source.split(",") if s.strip()]
    if service:
        filters["service"] = [service]
    home_dir, warehouse = open_warehouse(home, backend)
    calendar = terms.from_config(targets.load(home_dir).raw)
    with warehouse:
        if series_name == "looked_after":
            payload = placement_forecast(warehouse).as_dict()
        elif interruption:
            event = analysis.parse_range(interruption)
            payload = analysis.demand_interruption(
                warehouse, series_name, event, calendar, by, filters, freq, recovery_weeks
            )
        else:
            payload = analysis.demand(warehouse, series_name, calendar, by, filters, freq)
    if as_json:
        print_json(payload)
        return
    if series_name == "looked_after":
        for row in payload["months"]:
            if row["group"] == "all":
                out.print(
                    f"{row['month_end']}: {row['mean']:.0f} children looked after "
                    f"(95% interval {row['lower95']:.0f} to {row['upper95']:.0f})"
                )
        return
    out.print(f"[bold]{payload['title']}[/] {payload['first']} to {payload['last']}")
    school = payload.get("term_ratio_school_sources")
    if school:
        out.print(school["sentence"])
    for group, g in payload["groups"].items():
        out.print(f"\n[bold]{escape(group)}[/]")
        if "error" in g:
            out.print(escape(g["error"]))
            continue
        if interruption:
            out.print(escape(g["sentence"]))
            continue
        if g["term_ratio"]:
            out.print(escape(g["term_ratio"]["sentence"]))
        for b in g["breaks"]:
            change = "" if b["change_pct"] is None else f" ({b['change_pct']:+.0f}%)"
            out.print(f"Change in level from {b['date']}{change}")
        if g["backtest"]:
            out.print(escape(g["backtest"]["verdict"]))
        if g["forecast"]:
            total = sum(m["mean"] for m in g["forecast"]["months"])
            out.print(f"Forecast for the next 12 months: about {total:,.0f}.")


@app.command()
def impact(
    service: Annotated[str, typer.Option("--service", help="The service, as recorded.")],
    home: HomeOption = None,
    backend: BackendOption = None,
    outcome: Annotated[str, typer.Option(help="Outcome measure (attendance).")] = "attendance",
    comparison: Annotated[
        str, typer.Option(help="matched, all or not_served (see docs/demand-and-impact.md).")
    ] = "matched",
    terms_each_side: Annotated[
        int, typer.Option("--terms", help="Terms compared before and after the start.")
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
) -> None:
    """Did a local service change an outcome? Difference-in-differences against similar
    children, with a confidence interval and a plain-English verdict."""
    from csc_insight.analysis.impact import impact as estimate

    _, warehouse = open_warehouse(home, backend)
    with warehouse:
        result = estimate(warehouse, service, outcome, comparison, terms_each_side)
    if as_json:
        print_json(result.as_dict())
        return
    out.print(escape(result.verdict))
    out.print(f"[dim]{escape(result.method)}[/]")


@app.command()
def evaluate(
    service: Annotated[str, typer.Option("--service", help="The service, as recorded.")],
    output: Annotated[Path, typer.Option("--out", help="File to write: .html or .pdf.")],
    home: HomeOption = None,
    backend: BackendOption = None,
    outcome: Annotated[str, typer.Option(help="Outcome measure (attendance).")] = "attendance",
) -> None:
    """Write a project evaluation report for one service: reach, timeliness, repeat use,
    outcomes with the impact estimate, and what service users said."""
    from csc_insight.reports.evaluation import write_report

    _, warehouse = open_warehouse(home, backend)
    with warehouse:
        path = write_report(warehouse, service, output, outcome)
    out.print(f"Evaluation report for {escape(service)} written to {path}")
