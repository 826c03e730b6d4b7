"""The csc-insight command line: synth, ingest, indicators, serve, demo."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

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


def _print_json(data: Any, default: Callable[[Any], Any] | None = None) -> None:
    """JSON for other programs on standard output: plain, indented, never wrapped.

    Not Rich's print_json: its highlighting takes a tenth of a second on a large report.
    """
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=default) + "\n")
    sys.stdout.flush()


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
        _print_json(payload)
    else:
        _print_ingest(payload)
    # A non-zero exit only when nothing could be loaded (files already loaded are not a fault).
    if payload["nothing_loaded"]:
        console.print(f"[bold red]Error:[/] {escape(payload['nothing_loaded'])}")
        raise typer.Exit(1)


def _print_ingest(payload: dict[str, Any], title: str | None = None) -> None:
    if title is None:
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
    for done in payload.get("already_parsed", []):
        out.print(f"[green]Already parsed[/] {escape(done['message'])}")
    for failed in payload.get("failed", []):
        out.print(f"[red]Not loaded[/] {escape(failed['path'])}: {escape(failed['reason'])}")
    for skipped in payload.get("skipped", []):
        out.print(f"[yellow]Skipped[/] {escape(skipped['path'])}: {escape(skipped['reason'])}")


@app.command()
def parse(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to parse.")],
    output: Annotated[
        Path, typer.Option("--out", help="Folder to save the parsed files in (one folder each).")
    ],
    home: HomeOption = None,
    la_code: Annotated[str | None, typer.Option(help="LA code, if the files don't say.")] = None,
    collection_year: Annotated[
        int | None, typer.Option(help="Year the return ends, e.g. 2025 for 2024-25.")
    ] = None,
    part: Annotated[
        str | None,
        typer.Option(
            help="K/N: parse only the K-th of N shares of the files, so N processes or "
            "machines given the same files parse each once (e.g. 2/8)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    keep_lookup: Annotated[
        bool | None,
        typer.Option(
            "--keep-lookup/--no-keep-lookup",
            help="Also keep the re-identification lookup in this workspace, as ingest does.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Read files as ingest does (checks, pseudonyms, quarantine) and save them as Parquet.

    Nothing is written to a warehouse: `csc-insight load OUT` loads the folder later, into
    any engine, exactly as `ingest` would have loaded the files. Use the same workspace key
    (pseudonymisation.key) on every machine that parses for one warehouse.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"Cannot find {', '.join(missing)}.")
    from csc_insight.parsed import parse as run_parse
    from csc_insight.parsed import parse_part
    from csc_insight.privacy.options import PrivacyOptions
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key

    home_dir = settings.home(home)
    privacy = PrivacyOptions.from_settings(home_dir, keep_lookup=keep_lookup)
    with progress_bar(enabled=not as_json) as progress:
        report = run_parse(
            paths,
            output,
            Pseudonymiser(load_or_create_key(home_dir)),
            la_code=la_code,
            collection_year=collection_year,
            progress=progress,
            privacy=privacy,
            part=parse_part(part) if part else None,
        )
    payload = report.to_json()
    if as_json:
        _print_json(payload)
    else:
        _print_ingest(payload | {"load_id": None}, title=f"Parsed into {output}")
    if payload["nothing_parsed"]:
        console.print(f"[bold red]Error:[/] {escape(payload['nothing_parsed'])}")
        raise typer.Exit(1)


@app.command()
def load(
    folders: Annotated[list[Path], typer.Argument(help="Folders `csc-insight parse` wrote.")],
    home: HomeOption = None,
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the load report as JSON.")] = False,
) -> None:
    """Load parsed folders into the warehouse, as ingest would have loaded the files.

    On Spark the Parquet files are read by Spark itself, so they must be where the cluster
    can read them (a shared file system or object store).
    """
    missing = [str(p) for p in folders if not p.exists()]
    if missing:
        _fail(f"Cannot find {', '.join(missing)}.")
    from csc_insight.errors import InputError
    from csc_insight.parsed import load_parsed
    from csc_insight.privacy.pseudonymise import KEY_FILE, Pseudonymiser, load_or_create_key

    home_dir = settings.home(home)
    if not (home_dir / KEY_FILE).exists():
        # Parsed rows carry pseudonyms made with the parsing workspace's key; a warehouse
        # must keep one key, or the same child would get two pseudonyms.
        raise InputError(
            f"This workspace ({home_dir}) has no pseudonymisation key: copy the {KEY_FILE} "
            "of the workspace that parsed these files into it, then load again (the warehouse "
            "must keep the key its pseudonyms were made with)."
        )
    home_dir, warehouse = _open_warehouse(home, backend)
    with warehouse, progress_bar(enabled=not as_json) as progress:
        report = load_parsed(
            folders,
            warehouse,
            key=Pseudonymiser(load_or_create_key(home_dir)),
            progress=progress,
        )
    payload = report.to_json()
    if as_json:
        _print_json(payload)
    else:
        _print_ingest(payload)
    if payload["nothing_loaded"]:
        console.print(f"[bold red]Error:[/] {escape(payload['nothing_loaded'])}")
        raise typer.Exit(1)


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
        _print_json(export.as_json(results))
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
        # An average count (requests per child) keeps its decimals; a plain count has none.
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
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


StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        help=settings.SETTINGS_BY_NAME["state_url"].help,
        envvar=settings.SETTINGS_BY_NAME["state_url"].env,
        show_default=False,
    ),
]


def _state(home_dir: Path, state_url: str | None) -> Any:
    from csc_insight.appstate import AppState, default_url

    return AppState(state_url or settings.get("state_url") or default_url(home_dir))


@app.command()
def serve(
    home: HomeOption = None,
    backend: BackendOption = None,
    state: StateOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    auth_header: Annotated[
        str | None,
        typer.Option(
            help=settings.SETTINGS_BY_NAME["auth_header"].help,
            envvar=settings.SETTINGS_BY_NAME["auth_header"].env,
            show_default=False,
        ),
    ] = None,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help=settings.SETTINGS_BY_NAME["trusted_proxies"].help,
            envvar=settings.SETTINGS_BY_NAME["trusted_proxies"].env,
            show_default=False,
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate (PEM).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's private key.")] = None,
) -> None:
    """Serve the dashboard: people sign in (csc-insight users add NAME --role ROLE)."""
    import uvicorn

    from csc_insight.appstate import users as user_store
    from csc_insight.web.app import create_app
    from csc_insight.web.auth import AuthConfig

    home_dir = settings.home(home)
    url = settings.backend_url(home_dir, backend)
    store = _state(home_dir, state)
    auth = AuthConfig.from_settings(header=auth_header, trusted_proxies=trusted_proxies)
    if not user_store.all_users(store):
        console.print(
            "[yellow]No one can sign in yet:[/] add an account with "
            "`csc-insight users add NAME --role admin`."
        )
    scheme = "https" if tls_cert else "http"
    out.print(f"csc-insight dashboard: {scheme}://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(
        create_app(url, state=store, home=home_dir, auth_config=auth),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=",".join(sorted(auth.trusted_proxies)) or None,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


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
    from csc_insight.rules import run as run_rules

    with Warehouse.connect(url) as warehouse:
        results = compute(warehouse)
        run_rules(warehouse)  # findings for the data-quality page
    if results:
        _print_indicators(results)
    _demo_targets(demo_home)
    logins = _demo_logins(demo_home)
    if no_serve:
        return
    out.print(
        "\n[bold]Demo sign-in (DEMO ONLY: made-up data, throw-away accounts of this demo "
        f"workspace {demo_home}):[/]"
    )
    for name, role, password in logins:
        out.print(f"  {role:<8} user [bold]{name}[/]  password [bold]{password}[/]")
    serve(
        home=demo_home,
        backend=url,
        state=None,
        host="127.0.0.1",
        port=port,
        auth_header="",
        trusted_proxies=None,
        tls_cert=None,
        tls_key=None,
    )


DEMO_TARGETS = """# DEMO ONLY: made-up owners and targets for the synthetic authority.
[indicators."cin.assessment_45wd_pct"]
owner = "Head of Assessment (demo)"
target = 85
tolerance = 5
cadence = "monthly"

[indicators."cin.rereferral_pct"]
owner = "Head of Front Door (demo)"
target = 20
tolerance = 3
cadence = "monthly"

[indicators."cin.nfa_pct"]
owner = "Head of Front Door (demo)"
target = 30
tolerance = 5
cadence = "monthly"

[indicators."cin.icpc_15wd_pct"]
owner = "Head of Child Protection (demo)"
target = 80
tolerance = 5
cadence = "monthly"

[indicators."cp.repeat_plan_pct"]
owner = "Head of Child Protection (demo)"
target = 22
tolerance = 3
cadence = "quarterly"

[indicators."cla.placements_3plus_pct"]
owner = "Head of Children in Care (demo)"
target = 10
tolerance = 2
cadence = "quarterly"

[indicators."cla.health_check_pct"]
owner = "Head of Children in Care (demo)"
target = 90
tolerance = 5
cadence = "quarterly"

[indicators."leavers.eet_pct"]
owner = "Head of Leaving Care (demo)"
target = 60
tolerance = 5
cadence = "quarterly"

[indicators."svc.wait_median_days"]
owner = "Head of Early Help (demo)"
target = 10
tolerance = 3
cadence = "monthly"
"""


def _demo_targets(demo_home: Path) -> None:
    path = demo_home / "authority.toml"
    if not path.exists():
        path.write_text(DEMO_TARGETS, encoding="utf-8")


def _demo_logins(demo_home: Path) -> list[tuple[str, str, str]]:
    """The demo workspace's throw-away accounts, made on first run and kept in a 0600 file."""
    import secrets

    from csc_insight.appstate import users as user_store

    store = _state(demo_home, None)
    path = demo_home / "demo-logins.txt"
    logins: list[tuple[str, str, str]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, role, password = line.split("\t")
                logins.append((name, role, password))
    if {n for n, _, _ in logins} != {"demo-viewer", "demo-analyst", "demo-admin"} or any(
        user_store.get(store, n) is None for n, _, _ in logins
    ):
        logins = []
        for role in ("viewer", "analyst", "admin"):
            name, password = f"demo-{role}", secrets.token_urlsafe(12)
            if user_store.get(store, name) is None:
                user_store.add(store, name, role, password)
            else:
                user_store.set_password(store, name, password)
            logins.append((name, role, password))
        path.touch(mode=0o600)
        path.write_text(
            "# DEMO ONLY: sign-ins for the synthetic demo workspace; never use for real data.\n"
            + "".join(f"{n}\t{r}\t{p}\n" for n, r, p in logins),
            encoding="utf-8",
        )
        path.chmod(0o600)
    return logins


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

    def open_scratch(folder: str) -> Warehouse:
        # Runs while another process reads the files: importing Ibis and the rules and
        # making the scratch warehouse's tables then cost no time.
        from csc_insight.rules import prepare
        from csc_insight.warehouse.store import Warehouse

        prepare()

        return Warehouse.scratch(Path(folder))

    missing = [str(p) for p in paths or [] if not p.exists()]
    if missing:
        _fail(f"Cannot find {', '.join(missing)}.")
    home_dir = settings.home(home)
    with tempfile.TemporaryDirectory() as scratch:
        if paths:
            from csc_insight.ingest import ingest_new

            with progress_bar(enabled=not as_json) as progress:
                warehouse, report = ingest_new(
                    paths,
                    lambda: open_scratch(scratch),
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
        from csc_insight.rules import run as run_rules

        with warehouse:
            result = run_rules(warehouse, collection_year=collection_year)
        if output is not None:
            result.write_report(output)
    summary = result.to_dict()
    if paths:
        summary["rows_checked"] = report.to_json()["totals"]
    if as_json:
        _print_json(summary, default=str)
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
        _fail(f"Cannot find {', '.join(missing)}.")
    from csc_insight.benchmarks.published import import_files

    _, warehouse = _open_warehouse(home, backend)
    with warehouse:
        report = import_files(warehouse, paths)
    payload = report.to_json()
    if as_json:
        _print_json(payload)
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

    home_dir, warehouse = _open_warehouse(home, backend)
    with warehouse:
        code = authority_code(warehouse, home_dir, la_code)
        ids = [i.strip() for i in indicator.split(",")] if indicator else None
        comparisons = compare(warehouse, code, period, ids, neighbours)
    if as_json:
        _print_json([c.to_dict() for c in comparisons])
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
            *(_format_value(v, c.unit) for v in values),
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
        _fail(f"--role must be viewer or analyst, not {role!r}.")
    _, warehouse = _open_warehouse(home, backend)
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
        _print_json(payload)
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
        _fail(f"--role must be viewer or analyst, not {role!r}.")
    home_dir, warehouse = _open_warehouse(home, backend)
    offered = load_offered(home_dir).get("offered")
    with warehouse:
        payload = run_voice(warehouse, period, years, service, by, role, offered)
    if not payload["services"]:
        _fail(f"No feedback responses in {payload['period']}: load a feedback extract first.")
    if as_json:
        _print_json(payload)
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


users_app = typer.Typer(
    help="Accounts for the dashboard: add, list, change role, reset password, disable, remove.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name they sign in with.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    sso_only: Annotated[
        bool,
        typer.Option("--sso-only", help="No password: signs in only through the SSO header."),
    ] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Add an account (the password is asked for, or read with --password-stdin)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = _state(settings.home(home), state)
    password = None if sso_only else _read_password(password_stdin)
    user_store.add(store, name, role, password)
    audit.record(store, audit.USER_ADDED, user="(command line)", target=name, detail=f"role {role}")
    out.print(f"Added {name} ({role}).")


@users_app.command("list")
def users_list(home: HomeOption = None, state: StateOption = None) -> None:
    """List the accounts."""
    from csc_insight.appstate import users as user_store

    table = RichTable(title="Users")
    for column in ("name", "role", "sign-in", "status"):
        table.add_column(column)
    for u in user_store.all_users(_state(settings.home(home), state)):
        table.add_row(
            u.name,
            u.role,
            "password" if u.has_password else "single sign-on",
            "disabled" if u.disabled else "active",
        )
    out.print(table)


@users_app.command("role")
def users_role(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="viewer, analyst or admin.")],
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Change an account's role (their sessions end)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = _state(settings.home(home), state)
    user_store.set_role(store, name, role)
    audit.record(
        store, audit.USER_CHANGED, user="(command line)", target=name, detail=f"role {role}"
    )
    out.print(f"{name} is now {role}.")


@users_app.command("password")
def users_password(
    name: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Set a new password (their sessions end)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = _state(settings.home(home), state)
    user_store.set_password(store, name, _read_password(password_stdin))
    audit.record(
        store, audit.USER_CHANGED, user="(command line)", target=name, detail="password reset"
    )
    out.print(f"Password of {name} changed.")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument()],
    enable: Annotated[bool, typer.Option("--enable", help="Enable instead.")] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Disable (or --enable) an account."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = _state(settings.home(home), state)
    user_store.set_disabled(store, name, not enable)
    audit.record(
        store,
        audit.USER_CHANGED,
        user="(command line)",
        target=name,
        detail="enabled" if enable else "disabled",
    )
    out.print(f"{name} is {'enabled' if enable else 'disabled'}.")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument()],
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Remove an account (the audit log keeps its entries)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = _state(settings.home(home), state)
    user_store.remove(store, name)
    audit.record(store, audit.USER_REMOVED, user="(command line)", target=name)
    out.print(f"Removed {name}.")


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
        _fail(f"--freq must be W or M, not {freq!r}.")
    filters: dict[str, list[str]] = {}
    if source:
        filters["source"] = [s.strip() for s in source.split(",") if s.strip()]
    if service:
        filters["service"] = [service]
    home_dir, warehouse = _open_warehouse(home, backend)
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
        _print_json(payload)
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

    _, warehouse = _open_warehouse(home, backend)
    with warehouse:
        result = estimate(warehouse, service, outcome, comparison, terms_each_side)
    if as_json:
        _print_json(result.as_dict())
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

    _, warehouse = _open_warehouse(home, backend)
    with warehouse:
        path = write_report(warehouse, service, output, outcome)
    out.print(f"Evaluation report for {escape(service)} written to {path}")


AudienceOption = Annotated[
    str,
    typer.Option(
        help="viewer (small numbers shown as c, no child-level detail) or analyst (everything)."
    ),
]


def _check_audience(audience: str) -> None:
    if audience not in ("viewer", "analyst"):
        _fail(f"--audience must be viewer or analyst, not {audience!r}.")


@app.command()
def report(
    output: Annotated[
        list[Path],
        typer.Option(
            "--out", help="File to write: .pdf, .html or .xlsx (repeat --out for several)."
        ),
    ],
    home: HomeOption = None,
    backend: BackendOption = None,
    state: StateOption = None,
    period: Annotated[
        str | None,
        typer.Option(help="2024-25 (financial year), '2024-25 Q1', 2024-06 or '12m to 2024-06'."),
    ] = None,
    audience: AudienceOption = "viewer",
    la_code: Annotated[
        str | None, typer.Option("--la-code", help="Your authority's code, if not configured.")
    ] = None,
    months: Annotated[int, typer.Option(help="Months on each control chart.")] = 24,
) -> None:
    """Write the meeting pack: scorecard, areas of concern and improvement, charts, actions
    and their effect, data quality and definitions (see docs/meeting-pack.md)."""
    from csc_insight.reports import pack as meeting_pack

    _check_audience(audience)
    bad = [p for p in output if p.suffix.lower() not in meeting_pack.FORMATS]
    if bad:
        _fail(f"Cannot write a meeting pack as {bad[0].name}: use .pdf, .html or .xlsx.")
    home_dir, warehouse = _open_warehouse(home, backend)
    store = _state(home_dir, state)
    with warehouse:
        console.print("Working out the pack (figures, control charts, comparisons) ...")
        gathered = meeting_pack.gather(
            warehouse,
            period,
            home=home_dir,
            state=store,
            audience=audience,
            la_code=la_code,
            months=months,
        )
    for path in output:
        meeting_pack.write(gathered, path)
        out.print(f"Meeting pack for {gathered.period} ({audience} edition) written to {path}")
    out.print(
        f"{len(gathered.concerns)} area(s) of concern, {len(gathered.improvements)} of "
        f"improvement; {escape(gathered.actions_note)}"
    )


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

    _check_audience(audience)
    home_dir, warehouse = _open_warehouse(home, backend)
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
        _print_json(found.to_dict())
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


actions_app = typer.Typer(
    help="The action plan: add, list, update, review and close actions, and see their history.",
    no_args_is_help=True,
)
app.add_typer(actions_app, name="actions")


def _default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "(command line)"


ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is making the change (default: your login name)."),
]


def _ids(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [i.strip() for v in values for i in v.split(",") if i.strip()]


def _print_action(a: Any) -> None:
    due = a.due_date.isoformat() if a.due_date else "no due date"
    out.print(
        f"#{a.id} [bold]{escape(a.title)}[/] ({a.status}; {escape(a.owner or 'no owner')}; "
        f"due {due})"
    )


@actions_app.command("add")
def actions_add(
    title: Annotated[str, typer.Argument(help="What will be done.")],
    owner: Annotated[str | None, typer.Option(help="Who owns it.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.")] = None,
    indicator: Annotated[
        list[str] | None,
        typer.Option("--indicator", help="Indicator id(s) it should move (repeat or comma)."),
    ] = None,
    concern: Annotated[
        str | None,
        typer.Option(help="The area of concern it answers (a key from `concerns --json`)."),
    ] = None,
    description: Annotated[str | None, typer.Option(help="More detail.")] = None,
    effect_from: Annotated[
        str | None,
        typer.Option("--effect-from", help="Month its effect is measured from (YYYY-MM)."),
    ] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Add an action to the plan."""
    from csc_insight import actions

    a = actions.create(
        _state(settings.home(home), state),
        title=title,
        created_by=by or _default_user(),
        owner=owner,
        due_date=due,
        indicator_ids=_ids(indicator),
        concern=concern,
        description=description,
        effect_from=effect_from,
    )
    out.print(f"Added action #{a.id}.")
    _print_action(a)


@actions_app.command("list")
def actions_list(
    status: Annotated[
        str | None, typer.Option(help="Only this status: open, 'in progress', done, dropped.")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Include done and dropped actions.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the actions as JSON.")] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """List the actions, soonest due first (open and in progress unless --all or --status)."""
    from csc_insight import actions

    found = actions.list_actions(
        _state(settings.home(home), state),
        status=status,
        active_only=not show_all and status is None,
    )
    if as_json:
        _print_json([a.to_dict() for a in found])
        return
    table = RichTable(title="Actions")
    for column in ("#", "action", "owner", "due", "status", "indicators", "last review"):
        table.add_column(column)
    for a in found:
        last = a.last_review
        table.add_row(
            str(a.id),
            a.title,
            a.owner or "-",
            (a.due_date.isoformat() if a.due_date else "-") + (" (overdue)" if a.overdue() else ""),
            a.status,
            ", ".join(a.indicator_ids) or "-",
            f"{last.on.isoformat()}: {last.note}" if last else "-",
        )
    out.print(table)


@actions_app.command("update")
def actions_update(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date, YYYY-MM-DD.")] = None,
    status: Annotated[
        str | None, typer.Option(help="open, 'in progress', done or dropped.")
    ] = None,
    indicator: Annotated[
        list[str] | None,
        typer.Option("--indicator", help="Replace the linked indicator id(s)."),
    ] = None,
    concern: Annotated[str | None, typer.Option(help="The area of concern it answers.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes.")] = None,
    effect_from: Annotated[
        str | None, typer.Option("--effect-from", help="Month its effect is measured from.")
    ] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Change an action (only the options given); every change is kept in its history."""
    from csc_insight import actions

    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "title": title,
            "owner": owner,
            "due_date": due,
            "status": status,
            "indicator_ids": _ids(indicator),
            "concern": concern,
            "description": description,
            "notes": notes,
            "effect_from": effect_from,
        }.items()
        if v is not None
    }
    if not changes:
        _fail("Nothing to change: give at least one option (see --help).")
    a = actions.update(
        _state(settings.home(home), state), action_id, by=by or _default_user(), **changes
    )
    _print_action(a)


@actions_app.command("review")
def actions_review(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    note: Annotated[str, typer.Option(help="What the review found.")],
    status: Annotated[
        str | None, typer.Option(help="New status: open, 'in progress', done or dropped.")
    ] = None,
    on: Annotated[str | None, typer.Option(help="Date of the review (default today).")] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Add a dated review note (and optionally a new status)."""
    from csc_insight import actions

    a = actions.review(
        _state(settings.home(home), state),
        action_id,
        by=by or _default_user(),
        note=note,
        status=status,
        on=on,
    )
    _print_action(a)


@actions_app.command("close")
def actions_close(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    dropped: Annotated[
        bool, typer.Option("--dropped", help="Close as dropped rather than done.")
    ] = False,
    note: Annotated[str | None, typer.Option(help="A closing review note.")] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Close an action as done (or --dropped)."""
    from csc_insight import actions

    a = actions.close(
        _state(settings.home(home), state),
        action_id,
        by=by or _default_user(),
        status=actions.DROPPED if dropped else actions.DONE,
        note=note,
    )
    _print_action(a)


@actions_app.command("history")
def actions_history(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Who changed what on an action, and when."""
    from csc_insight import actions

    table = RichTable(title=f"History of action #{action_id}")
    for column in ("when", "who", "field", "from", "to"):
        table.add_column(column)
    for c in actions.history(_state(settings.home(home), state), action_id):
        table.add_row(
            c.at.strftime("%Y-%m-%d %H:%M"), c.by or "-", c.field, c.old or "-", c.new or "-"
        )
    out.print(table)


def run() -> None:
    """Entry point: csc-insight's own errors as a plain message, not a traceback; then exit."""
    code: int | str | None = 0
    try:
        app()
    except SystemExit as done:
        code = done.code
    except CscInsightError as exc:
        console.print(f"[bold red]Error:[/] {exc}")
        code = 2
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
        code = 3
    _exit(code)


def _exit(code: int | str | None) -> NoReturn:
    """End the process once a command has finished, without the interpreter's teardown.

    Freeing every object of every module imported (Ibis, DuckDB, pandas, Arrow) takes a
    quarter of a second and does nothing a finished command needs: commands close their
    warehouses and files themselves, and the exit handlers libraries registered (logging,
    Spark, temporary folders) are run here first.
    """
    if isinstance(code, str):  # sys.exit("message"): Python's own convention
        print(code, file=sys.stderr)
        status = 1
    else:
        status = int(code or 0)
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        sys.exit(status)
    os._exit(status)


if __name__ == "__main__":
    run()
