"""Published comparisons: benchmarks import and benchmarks show (DfE tables, neighbours)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from csc_insight.commands.common import (
    BackendOption,
    HomeOption,
    app,
    fail,
    format_value,
    open_warehouse,
    out,
    print_json,
)

benchmarks_app = typer.Typer(
    help="Compare the authority with England, its region and its statistical neighbours, "
    "using DfE's published tables (see docs/benchmarking.md).",
    no_args_is_help=True,
)
app.add_typer(benchmarks_app, name="benchmarks")


@benchmarks_app.command("import")
def benchmarks_import(
    paths: Annotated[
        list[Path],
        typer.Argument(help="DfE's published CSVs, the ONS population, neighbour files."),
    ],
    home: HomeOption = None,
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Load published tables (recognised by their columns); a re-import replaces them."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"Cannot find {', '.join(missing)}.")
    from csc_insight.benchmarks.published import import_files

    _, warehouse = open_warehouse(home, backend)
    with warehouse:
        report = import_files(warehouse, paths)
    payload = report.to_json()
    if as_json:
        print_json(payload)
        return
    table = RichTable(title=f"Load {payload['load_id']}" if payload["load_id"] else "Not loaded")
    for column in ("file", "table", "rows", "values", "years", "symbols"):
        table.add_column(column, justify="right" if column in ("rows", "values") else "left")
    for f in payload["files"]:
        years = f["years"]
        table.add_row(
            Path(f["path"]).name,
            f["kind"],
            f"{f['rows_read']:,}",
            f"{f['values']:,}",
            f"{years[0]} to {years[-1]}" if len(years) > 1 else "".join(years),
            ", ".join(f"{k} {n:,}" for k, n in f["symbols"].items()),
        )
    out.print(table)
    for f in payload["files"]:
        for note in f["notes"]:
            out.print(f"[cyan]Note[/] {escape(Path(f['path']).name)}: {escape(note)}")


@benchmarks_app.command("show")
def benchmarks_show(
    home: HomeOption = None,
    backend: BackendOption = None,
    indicator: Annotated[
        str | None, typer.Option("--indicator", help="Only these indicators (comma-separated).")
    ] = None,
    la_code: Annotated[
        str | None,
        typer.Option(help="The authority (ONS or DfE code); default: authority.toml or the data."),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Local period, e.g. 2024-25; default: the latest loaded.")
    ] = None,
    neighbours: Annotated[
        str, typer.Option(help="Statistical neighbours: the 2025 model or the 2021 groupings.")
    ] = "2025",
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparisons as JSON.")] = False,
) -> None:
    """The authority's indicators beside England, its region and its statistical neighbours."""
    from csc_insight.benchmarks.compare import authority_code, compare

    home_dir, warehouse = open_warehouse(home, backend)
    with warehouse:
        code = authority_code(warehouse, home_dir, la_code)
        ids = [i.strip() for i in indicator.split(",")] if indicator else None
        comparisons = compare(warehouse, code, period, ids, neighbours)
    if as_json:
        print_json([c.to_dict() for c in comparisons])
        return
    first = comparisons[0]
    table = RichTable(
        title=f"{first.la_name or code}: {first.period or 'no local data'} against the latest "
        f"published year (statistical neighbours: {neighbours})"
    )
    columns = ("id", "local", "published", "England", "region", "SN mean", "SN median")
    for column in (*columns, "rank", "band"):
        table.add_column(column, justify="left" if column == "id" else "right", no_wrap=True)
    table.add_column("year", justify="right")
    for c in comparisons:
        values = (c.local, c.la_published, c.england, c.region, c.sn_mean, c.sn_median)
        table.add_row(
            c.id,
            *(format_value(v, c.unit) for v in values),
            f"{c.rank}/{c.of}" if c.rank else "-",
            c.quartile or "-",
            f"{c.published_period or '-'}{' (local newer)' if c.local_newer else ''}",
        )
    out.print(table)
    out.print(
        "published: the authority's own published figure. rank: 1 = the highest value of all "
        "authorities (the local value in the authority's place); band: A = the best quarter "
        "(the highest where neither direction is better) ... D. --json adds neighbours, "
        "trend, differences and where definitions differ."
    )
    # Notes about the data (definitional differences are in --json, per indicator).
    notes = (n for c in comparisons for n in c.notes if n != c.source.get("difference"))
    for note in dict.fromkeys(notes):
        out.print(f"[cyan]Note[/] {escape(note)}")
