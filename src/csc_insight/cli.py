"""The csc-insight command line: synth, ingest, indicators, serve, demo."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        _fail(f"--format must be table, json, csv, xlsx or markdown, not {fmt!r}.")
    if role not in ("viewer", "analyst"):
        _fail(f"--role must be viewer or analyst, not {role!r}.")
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
        _fail("--format xlsx needs --out FILE.xlsx.")
    home_dir, warehouse = _open_warehouse(home, backend)
    with warehouse:
        results = compute(
            warehouse,
            period,
            ids=[i.strip() for i in ids.split(",")] if ids else None,
            breakdown=[b.strip() for b in breakdown.split(",")] if breakdown else None,
        )
    if not results:
        _fail("The warehouse is empty: load data with `csc-insight ingest PATH` first.")
    results = targets.apply(results, targets.load(home_dir))
    # Exports leave the building: they are always disclosure-controlled.
    if role == "viewer" or fmt in ("csv", "xlsx"):
        results = suppress(results, suppression_threshold())
    if fmt == "json":
        out.print_json(json.dumps(export.as_json(results)))
    elif fmt in ("csv", "xlsx") and output is not None:
        export.write(results, output)
        out.print(f"{len(results)} figures written to {output}")
    elif fmt == "csv":
        sys.stdout.write(export.to_csv(results))
    else:
        _print_indicators(results)


def _format_value(value: float | None, unit: str, suppressed: bool = False) -> str:
    if suppressed:
        return "c"
    if value is None:
        return "-"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit in ("count",):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _print_indicators(results: list[IndicatorResult]) -> None:
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
            _format_value(r.value, r.unit, r.suppressed),
            _format_value(r.numerator, "count", r.suppressed),
            _format_value(r.denominator, "count", r.suppressed),
        ]
        if any(x.status for x in results):
            cells.append(r.status or "")
        table.add_row(*cells)
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


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to check; none checks the loaded warehouse."),
    ] = None,
    home: HomeOption = None,
    backend: BackendOption = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Error report: report.xlsx or report.csv.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    la_code: Annotated[str | None, typer.Option(help="LA code, if the files don't say.")] = None,
    collection_year: Annotated[
        int | None, typer.Option(help="Year the return ends, e.g. 2025 for 2024-25.")
    ] = None,
) -> None:
    """Check data against DfE's SSDA903 and CIN rules and csc-insight's own.

    Given files, they are loaded into a temporary warehouse and checked there, so the
    authority's warehouse is untouched; with no files, the loaded warehouse is checked and
    its findings kept for the data-quality page.
    """
    import tempfile

    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
    from csc_insight.rules import run as run_rules
    from csc_insight.warehouse.store import Warehouse

    missing = [str(p) for p in paths or [] if not p.exists()]
    if missing:
        _fail(f"Cannot find {', '.join(missing)}.")
    home_dir = settings.home(home)
    with tempfile.TemporaryDirectory() as scratch:
        if paths:
            from csc_insight.ingest import ingest as run_ingest

            warehouse = Warehouse.connect(f"duckdb://{Path(scratch) / 'check.duckdb'}")
            with progress_bar(enabled=not as_json) as progress:
                report = run_ingest(
                    paths,
                    warehouse,
                    Pseudonymiser(load_or_create_key(home_dir)),
                    la_code=la_code,
                    collection_year=collection_year,
                    progress=progress,
                )
            why = report.nothing_loaded()
            if why is not None:
                _fail(f"{why} Nothing was checked.")
        else:
            _, warehouse = _open_warehouse(home, backend)
        with warehouse:
            result = run_rules(warehouse, collection_year=collection_year)
        if output is not None:
            result.write_report(output)
    summary = result.to_dict()
    if as_json:
        out.print_json(json.dumps(summary, default=str))
        return
    table = RichTable(
        title=f"{summary['findings']:,} findings from {summary['rules_checked']} rules"
    )
    for column in ("code", "severity", "table", "count", "message"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for rule in summary["by_rule"]:
        table.add_row(
            rule["code"], rule["severity"], rule["table"], f"{rule['count']:,}", rule["message"]
        )
    out.print(table)
    if output is not None:
        out.print(f"Child-level error report written to {output}")


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

    home_dir, warehouse = _open_warehouse(home, backend)
    with warehouse:
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                _fail(f"--as-of must be a date such as 2025-03-31, not {as_of!r}.")
                return
        else:
            label = latest_period(warehouse)
            if label is None:
                _fail("The warehouse is empty: load data with `csc-insight ingest PATH` first.")
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
        _fail(
            f"Name a project declared under [projects] in {home_dir / targets.CONFIG_FILE} "
            f"(declared: {known}). See docs/measurement-plan.md for how to declare one."
        )
        return
    _, warehouse = _open_warehouse(home, backend)
    with warehouse:
        the_plan = planning.measurement_plan(declared[project], config, warehouse)
    if output is not None:
        for path in planning.write_plan(the_plan, output):
            out.print(f"wrote {path}")
        return
    out.print(planning.plan_markdown(the_plan), markup=False, highlight=False, soft_wrap=True)


def run() -> None:
    """Entry point that turns csc-insight's own errors into a plain message, not a traceback."""
    try:
        app()
    except CscInsightError as exc:
        console.print(f"[bold red]Error:[/] {exc}")
        sys.exit(2)
    except Exception as exc:  # a bug of ours: say so plainly, keep the details for us
        import traceback
        from datetime import datetime

        logs = settings.home() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"error-{datetime.now():%Y%m%d-%H%M%S}.txt"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        console.print(
            f"[bold red]csc-insight stopped unexpectedly[/] ({type(exc).__name__}). This is a "
            f"fault in csc-insight, not in your data's format as far as we can tell. The "
            f"details are in {log}; please send that file to whoever supports csc-insight."
        )
        sys.exit(3)


if __name__ == "__main__":
    run()
