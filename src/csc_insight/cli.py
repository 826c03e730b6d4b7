"""The csc-insight command line: synth, ingest, indicators, serve, demo."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from csc_insight import __version__, settings
from csc_insight.errors import CscInsightError

if TYPE_CHECKING:
    from csc_insight.indicators import IndicatorResult
    from csc_insight.warehouse.store import Warehouse

app = typer.Typer(
    name="csc-insight",
    help="Children's social care data turned into insight for English local authorities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help=settings.SETTINGS_BY_NAME["home"].help,
        envvar=settings.SETTINGS_BY_NAME["home"].env,
        show_default=False,
    ),
]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help=settings.SETTINGS_BY_NAME["backend"].help,
        envvar=settings.SETTINGS_BY_NAME["backend"].env,
        show_default=False,
    ),
]
ProgressFn = Callable[[str, float], None]


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressFn]:
    """A Rich progress bar driven by ``(label, fraction)`` callbacks."""
    if not enabled:
        yield lambda label, fraction: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def update(label: str, fraction: float) -> None:
            bar.update(task, description=label, completed=min(max(fraction, 0.0), 1.0))

        yield update
        bar.update(task, completed=1.0)


def _open_warehouse(home: Path | None, backend: str | None) -> tuple[Path, Warehouse]:
    from csc_insight.warehouse.store import Warehouse

    home_dir = settings.home(home)
    return home_dir, Warehouse.connect(settings.backend_url(home_dir, backend))


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def _show_version(value: bool) -> None:
    if value:
        out.print(__version__)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Load a local authority's children's social care returns, check them and measure them."""


@app.command()
def synth(
    output: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")],
    scale: Annotated[str, typer.Option(help="small, la or national.")] = "la",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    years: Annotated[int | None, typer.Option(help="Collection years to write (latest N).")] = None,
    la_code: Annotated[str | None, typer.Option(help="LA code to pretend to be.")] = None,
) -> None:
    """Write a realistic synthetic local authority in the real file formats."""
    from csc_insight.synth import SCALES, generate

    if scale not in SCALES:
        _fail(f"--scale must be one of {', '.join(SCALES)}, not {scale!r}.")
    with progress_bar() as progress:
        result = generate(
            output, scale=scale, seed=seed, years=years, la_code=la_code, progress=progress
        )
    table = RichTable(title=f"Synthetic authority written to {result.out}")
    table.add_column("table")
    table.add_column("records", justify="right")
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    out.print(f"{len(result.files)} files; ground truth in {result.out / 'ground_truth.json'}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    home: HomeOption = None,
    backend: BackendOption = None,
    la_code: Annotated[str | None, typer.Option(help="LA code, if the files don't say.")] = None,
    collection_year: Annotated[
        int | None, typer.Option(help="Year the return ends, e.g. 2025 for 2024-25.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the load report as JSON.")] = False,
    keep_lookup: Annotated[
        bool | None,
        typer.Option(
            "--keep-lookup/--no-keep-lookup",
            help="Also keep pseudonym -> own child identifier in reidentification.duckdb in the "
            "workspace, for authorised analysts (default: CSC_INSIGHT_REIDENTIFICATION_LOOKUP).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load files into the warehouse: every row is loaded or quarantined with its reason."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"Cannot find {', '.join(missing)}.")
    from csc_insight.ingest import ingest as run_ingest
    from csc_insight.privacy.options import PrivacyOptions
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key

    home_dir, warehouse = _open_warehouse(home, backend)
    privacy = PrivacyOptions.from_settings(home_dir, keep_lookup=keep_lookup)
    with warehouse, progress_bar(enabled=not as_json) as progress:
        report = run_ingest(
            paths,
            warehouse,
            Pseudonymiser(load_or_create_key(home_dir)),
            la_code=la_code,
            collection_year=collection_year,
            progress=progress,
            privacy=privacy,
        )
    payload = report.to_json()
    if as_json:
        out.print_json(json.dumps(payload))
    else:
        _print_ingest(payload)
    # A non-zero exit only when nothing could be loaded (files already loaded are not a fault).
    if payload["nothing_loaded"]:
        console.print(f"[bold red]Error:[/] {escape(payload['nothing_loaded'])}")
        raise typer.Exit(1)


def _print_ingest(payload: dict[str, Any]) -> None:
    title = f"Load {payload['load_id']}" if payload["load_id"] else "Nothing was written"
    table = RichTable(title=title)
    for column in ("file", "dataset", "table", "read", "loaded", "quarantined"):
        table.add_column(
            column, justify="right" if column in ("read", "loaded", "quarantined") else "left"
        )
    for f in payload["files"]:
        for t in f["tables"]:
            table.add_row(
                Path(f["path"]).name,
                f["dataset"],
                t["table"],
                f"{t['read']:,}",
                f"{t['loaded']:,}",
                f"{t['quarantined']:,}",
            )
    totals = payload["totals"]
    table.add_row(
        "total",
        "",
        "",
        f"{totals['read']:,}",
        f"{totals['loaded']:,}",
        f"{totals['quarantined']:,}",
        style="bold",
    )
    if payload["files"]:
        out.print(table)
    for f in payload["files"]:
        for note in f.get("notes", []):
            out.print(f"[cyan]Note[/] {escape(f['path'])}: {escape(note)}")
    for reason, n in sorted(payload.get("quarantine_reasons", {}).items(), key=lambda r: -r[1]):
        out.print(f"[yellow]Quarantined[/] {n:,} row(s): {escape(reason)}")
    for done in payload.get("already_loaded", []):
        out.print(f"[green]Already loaded[/] {escape(done['message'])}")
    for failed in payload.get("failed", []):
        out.print(f"[red]Not loaded[/] {escape(failed['path'])}: {escape(failed['reason'])}")
    for skipped in payload.get("skipped", []):
        out.print(f"[yellow]Skipped[/] {escape(skipped['path'])}: {escape(skipped['reason'])}")


@app.command()
def indicators(
    home: HomeOption = None,
    backend: BackendOption = None,
    period: Annotated[str | None, typer.Option(help="Financial year, e.g. 2024-25.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json or csv (markdown with --list).")
    ] = "table",
    list_only: Annotated[bool, typer.Option("--list", help="List the catalogue.")] = False,
) -> None:
    """Compute the indicator catalogue for the loaded data."""
    from csc_insight.indicators import REGISTRY, catalogue_markdown, compute

    if fmt not in ("table", "json", "csv", "markdown"):
        _fail(f"--format must be table, json, csv or markdown, not {fmt!r}.")
    if list_only and fmt == "markdown":
        out.print(catalogue_markdown(), end="", markup=False, highlight=False, soft_wrap=True)
        return
    if list_only:
        table = RichTable(title="Indicator catalogue")
        for column in ("id", "title", "unit", "definition"):
            table.add_column(column)
        for ind in REGISTRY.values():
            table.add_row(ind.id, ind.title, str(ind.unit), ind.definition)
        out.print(table)
        return
    _, warehouse = _open_warehouse(home, backend)
    with warehouse:
        results = compute(warehouse, period)
    if not results:
        _fail("The warehouse is empty: load data with `csc-insight ingest PATH` first.")
    if fmt == "json":
        out.print_json(json.dumps([asdict(r) for r in results]))
    elif fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(asdict(results[0])))
        writer.writeheader()
        for r in results:
            writer.writerow(asdict(r))
    else:
        _print_indicators(results)


def _format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit in ("count",):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _print_indicators(results: list[IndicatorResult]) -> None:
    table = RichTable(title=f"Indicators, {results[0].period}")
    table.add_column("id", no_wrap=True)
    table.add_column("title")
    for column in ("value", "numerator", "denominator"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        table.add_row(
            r.id,
            r.title,
            _format_value(r.value, r.unit),
            _format_value(r.numerator, "count"),
            _format_value(r.denominator, "count"),
        )
    out.print(table)


@app.command()
def serve(
    home: HomeOption = None,
    backend: BackendOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    role: Annotated[
        str, typer.Option(help="viewer (small numbers suppressed) or analyst.")
    ] = "viewer",
) -> None:
    """Serve the dashboard."""
    import uvicorn

    from csc_insight.web.app import create_app

    home_dir = settings.home(home)
    url = settings.backend_url(home_dir, backend)
    out.print(f"csc-insight dashboard: http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(create_app(url, role=role), host=host, port=port, log_level="warning")


@app.command()
def demo(
    home: HomeOption = None,
    scale: Annotated[str, typer.Option(help="small, la or national.")] = "la",
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic authority.")] = 1,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve", help="Print headline figures and stop instead of serving the dashboard."
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the dashboard.")] = 8000,
) -> None:
    """Make a synthetic authority, load it, compute the indicators and serve the dashboard."""
    from csc_insight.indicators import compute
    from csc_insight.ingest import ingest as run_ingest
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
    from csc_insight.synth import SCALES, generate
    from csc_insight.warehouse.store import Warehouse

    if scale not in SCALES:
        _fail(f"--scale must be one of {', '.join(SCALES)}, not {scale!r}.")
    # The demo keeps to a folder of its own so it never touches a real authority's warehouse.
    demo_home = settings.home(home) / "demo"
    files = demo_home / f"synthetic-{scale}-seed{seed}"
    warehouse_path = demo_home / "warehouse.duckdb"
    for stale in (files, warehouse_path, warehouse_path.with_suffix(".duckdb.wal")):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    url = f"duckdb://{warehouse_path.resolve()}"
    with progress_bar() as progress:
        result = generate(
            files,
            scale=scale,
            seed=seed,
            progress=lambda label, f: progress(f"synth: {label}", f * 0.6),
        )
        with Warehouse.connect(url) as warehouse:
            report = run_ingest(
                [files],
                warehouse,
                Pseudonymiser(load_or_create_key(demo_home)),
                progress=lambda label, f: progress(f"ingest: {label}", 0.6 + f * 0.4),
            )
    totals = report.to_json()["totals"]
    out.print(
        f"Synthetic authority {result.ground_truth.get('authority', {}).get('name', '')} "
        f"written to {files}"
    )
    out.print(
        f"Loaded {totals['loaded']:,} of {totals['read']:,} rows "
        f"({totals['quarantined']:,} quarantined)."
    )
    with Warehouse.connect(url) as warehouse:
        results = compute(warehouse)
    if results:
        _print_indicators(results)
    if no_serve:
        return
    serve(home=None, backend=url, host="127.0.0.1", port=port, role="viewer")


@app.command()
def template(
    name: Annotated[
        str,
        typer.Argument(help="service_involvements, attendance, feedback, or all."),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--out", help="File to write (.xlsx or .csv), or a folder (for all, or any name)."
        ),
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="xlsx or csv, when --out is a folder.")
    ] = None,
) -> None:
    """Write a template for a local extract: the columns to fill in, with guidance."""
    from csc_insight.datasets.templates import write

    for path in write(name, output, fmt):
        out.print(f"Wrote {path}")


@app.command()
def reidentify(
    pseudonym: Annotated[str, typer.Argument(help="A child_id from the warehouse.")],
    home: HomeOption = None,
) -> None:
    """Look up the authority's own identifier of a pseudonymised child (authorised analysts).

    Works only where ingest kept the re-identification lookup (--keep-lookup); the lookup
    is a separate owner-only file in the workspace, never part of the warehouse.
    """
    from csc_insight.privacy.reidentification import reidentify as lookup

    found = lookup(settings.home(home), pseudonym)
    if not found:
        _fail(f"{escape(repr(pseudonym))} is not in the re-identification lookup.")
    for la_code, local_id in found:
        typer.echo(f"{la_code}\t{local_id}")


def run() -> None:
    """Entry point that turns csc-insight's own errors into a plain message, not a traceback."""
    try:
        app()
    except CscInsightError as exc:
        console.print(f"[bold red]Error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    run()
