"""The indicator catalogue and what is built on it: indicators, escalation, plan, concerns."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from csc_insight import settings
from csc_insight.commands.common import (
    AudienceOption,
    BackendOption,
    HomeOption,
    app,
    check_audience,
    fail,
    format_value,
    open_warehouse,
    out,
    print_json,
)

if TYPE_CHECKING:
    from csc_insight.indicators import IndicatorResult


@app.command()
def indicators(
    home: HomeOption = None,
    backend: BackendOption = None,
    period: Annotated[
        str | None,
        typer.Option(help="2024-25 (financial year), '2024-25 Q1', 2024-06 or '12m to 2024-06'."),
    ] = None,
    breakdown: Annotated[
        str | None,
        typer.Option(
            help="Split by a dimension: sex, age_band, ethnic_group, ethnicity, "
            "disability, locality, team, referral_source, service, leaver_age."
        ),
    ] = None,
    ids: Annotated[
        str | None, typer.Option("--id", help="Only these indicators (comma-separated ids).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json, csv or xlsx (markdown with --list).")
    ] = "table",
    output: Annotated[Path | None, typer.Option("--out", help="File for csv or xlsx.")] = None,
    role: Annotated[
        str, typer.Option(help="viewer (small numbers suppressed) or analyst (all figures).")
    ] = "viewer",
    list_only: Annotated[bool, typer.Option("--list", help="List the catalogue.")] = False,
) -> None:
    """Compute the indicator catalogue for the loaded data."""
    from csc_insight.indicators import REGISTRY, catalogue_markdown, compute, export, targets
    from csc_insight.privacy.disclosure import suppress, suppression_threshold

    if fmt not in ("table", "json", "csv", "xlsx", "markdown"):
        fail(f"--format must be table, json, csv, xlsx or markdown, not {fmt!r}.")
    if role not in ("viewer", "analyst"):
        fail(f"--role must be viewer or analyst, not {role!r}.")
    if list_only and fmt == "markdown":
        out.print(catalogue_markdown(), end="", markup=False, highlight=False, soft_wrap=True)
        return
    if list_only:
        home_dir = settings.home(home)
        config = targets.load(home_dir)
        table = RichTable(title="Indicator catalogue")
        for column in ("id", "title", "unit", "owner", "target", "definition"):
            table.add_column(column, no_wrap=column == "id")
        for ind in REGISTRY.values():
            t = config.targets.get(ind.id)
            table.add_row(
                ind.id,
                ind.title,
                str(ind.unit),
                (t.owner if t else None) or "-",
                "-" if not t or t.target is None else f"{t.target:g} ± {t.tolerance:g}",
                ind.definition,
            )
        out.print(table)
        return
    if fmt == "xlsx" and output is None:
        fail("--format xlsx needs --out FILE.xlsx.")
    home_dir, warehouse = open_warehouse(home, backend)
    with warehouse:
        results = compute(
            warehouse,
            period,
            ids=[i.strip() for i in ids.split(",")] if ids else None,
            breakdown=[b.strip() for b in breakdown.split(",")] if breakdown else None,
        )
    if not results:
        fail("The warehouse is empty: load data with `csc-insight ingest PATH` first.")
    results = targets.apply(results, targets.load(home_dir))
    # Exports leave the building: they are always disclosure-controlled.
    if role == "viewer" or fmt in ("csv", "xlsx"):
        results = suppress(results, suppression_threshold())
    if fmt == "json":
        print_json(export.as_json(results))
    elif fmt in ("csv", "xlsx") and output is not None:
        export.write(results, output)
        out.print(f"{len(results)} figures written to {output}")
    elif fmt == "csv":
        sys.stdout.write(export.to_csv(results))
    else:
        print_indicators(results)


def print_indicators(results: list[IndicatorResult]) -> None:
    broken_down = any(r.breakdown for r in results)
    table = RichTable(title=f"Indicators, {results[0].period}")
    table.add_column("id", no_wrap=True)
    if broken_down:  # the group matters more than the title on a narrow terminal
        table.add_column("group")
    else:
        table.add_column("title")
    for column in ("value", "numerator", "denominator"):
        table.add_column(column, justify="right", no_wrap=True)
    if any(r.status for r in results):
        table.add_column("status")
    for r in results:
        cells = [r.id, ", ".join((r.breakdown or {}).values()) if broken_down else r.title]
        cells += [
            format_value(r.value, r.unit, r.suppressed),
            format_value(r.numerator, "count", r.suppressed),
            format_value(r.denominator, "count", r.suppressed),
        ]
        if any(x.status for x in results):
            cells.append(r.status or "")
        table.add_row(*cells)
    out.print(table)


@app.command()
def escalation(
    home: HomeOption = None,
    backend: BackendOption = None,
    as_of: Annotated[
        str | None, typer.Option(help="Date (yyyy-mm-dd); default: the latest period's end.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write the list as CSV.")] = None,
) -> None:
    """Children whose repeated referrals or service use suggest they need more help (analysts)."""
    import csv
    from datetime import date

    from csc_insight.indicators import latest_period, targets
    from csc_insight.indicators.escalation import candidates
    from csc_insight.indicators.periods import parse
    from csc_insight.indicators.registry import Tables

    home_dir, warehouse = open_warehouse(home, backend)
    with warehouse:
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                fail(f"--as-of must be a date such as 2025-03-31, not {as_of!r}.")
                return
        else:
            label = latest_period(warehouse)
            if label is None:
                fail("The warehouse is empty: load data with `csc-insight ingest PATH` first.")
                return
            day = parse(label).end
        rows = candidates(Tables(warehouse), day, targets.load(home_dir).escalation)
    if output is not None:
        with output.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(
                fh,
                fieldnames=["la_code", "child_id", "referrals", "service_requests", "reason"],
                extrasaction="ignore",
                lineterminator="\n",
            )
            writer.writeheader()
            writer.writerows(rows)
        out.print(f"{len(rows):,} children written to {output}")
        return
    table = RichTable(
        title=f"{len(rows):,} children who may need more intensive support, "
        f"12 months to {day:%d %B %Y}"
    )
    for column in ("child (pseudonym)", "referrals", "service requests", "reason"):
        table.add_column(column)
    for row in rows[:200]:
        table.add_row(
            str(row["child_id"]),
            str(row["referrals"]),
            str(row["service_requests"]),
            str(row["reason"]),
        )
    out.print(table)
    if len(rows) > 200:
        out.print(f"... and {len(rows) - 200:,} more: use --out FILE.csv for the whole list.")


@app.command()
def plan(
    project: Annotated[
        str | None, typer.Argument(help="The project, as named in authority.toml.")
    ] = None,
    home: HomeOption = None,
    backend: BackendOption = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Folder for the plan page and templates.")
    ] = None,
) -> None:
    """A project's measurement plan: measures reused from the catalogue, the few fields they
    need, whether they are already held, owners, cadence and data-collection templates."""
    from csc_insight.indicators import plan as planning
    from csc_insight.indicators import targets

    home_dir = settings.home(home)
    config = targets.load(home_dir)
    declared = planning.projects(config)
    if project is None or project not in declared:
        known = ", ".join(repr(p) for p in declared) or "none yet"
        fail(
            f"Name a project declared under [projects] in {home_dir / targets.CONFIG_FILE} "
            f"(declared: {known}). See docs/measurement-plan.md for how to declare one."
        )
        return
    _, warehouse = open_warehouse(home, backend)
    with warehouse:
        the_plan = planning.measurement_plan(declared[project], config, warehouse)
    if output is not None:
        for path in planning.write_plan(the_plan, output):
            out.print(f"wrote {path}")
        return
    out.print(planning.plan_markdown(the_plan), markup=False, highlight=False, soft_wrap=True)


@app.command()
def concerns(
    home: HomeOption = None,
    backend: BackendOption = None,
    period: Annotated[
        str | None,
        typer.Option(help="2024-25 (financial year), '2024-25 Q1', 2024-06 or '12m to 2024-06'."),
    ] = None,
    audience: AudienceOption = "viewer",
    la_code: Annotated[
        str | None, typer.Option("--la-code", help="Your authority's code, if not configured.")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Only these sources (repeat): targets, spc, benchmarks, equity, impact, "
            "data_quality.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Areas of concern and of improvement, found automatically and ranked, each in a
    plain-English sentence with the evidence behind it."""
    from csc_insight.concerns import SOURCES, find

    check_audience(audience)
    home_dir, warehouse = open_warehouse(home, backend)
    with warehouse:
        found = find(
            warehouse,
            period,
            home=home_dir,
            la_code=la_code,
            audience=audience,
            sources=source or SOURCES,
        )
    if as_json:
        print_json(found.to_dict())
        return
    for title, items in (
        (f"Areas of concern, {found.period}", found.concerns),
        (f"Areas of improvement, {found.period}", found.improvements),
    ):
        out.print(f"[bold]{title}[/]")
        if not items:
            out.print("  None found.")
        for n, f in enumerate(items, start=1):
            tags = ", ".join(f.tags)
            out.print(f"{n:>3}. [bold]{escape(f.title)}[/] [dim]({escape(tags)})[/]")
            out.print(f"     {escape(f.sentence)}", soft_wrap=True)
        out.print()
    for c in found.coverage:
        mark = "used" if c.included else "not used"
        out.print(f"[dim]{escape(c.title)}: {mark}. {escape(c.note)}[/]", soft_wrap=True)
