"""Data in and checked: synth, ingest, parse, load, template, reidentify and validate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from csc_insight import settings
from csc_insight.commands.common import (
    BackendOption,
    HomeOption,
    app,
    console,
    fail,
    open_warehouse,
    out,
    print_json,
    progress_bar,
)

if TYPE_CHECKING:
    from csc_insight.warehouse.store import Warehouse


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
        fail(f"--scale must be one of {', '.join(SCALES)}, not {scale!r}.")
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
        fail(f"Cannot find {', '.join(missing)}.")
    from csc_insight.ingest import ingest as run_ingest
    from csc_insight.privacy.options import PrivacyOptions
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key

    home_dir, warehouse = open_warehouse(home, backend)
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
        print_json(payload)
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
        fail(f"Cannot find {', '.join(missing)}.")
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
        print_json(payload)
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
        fail(f"Cannot find {', '.join(missing)}.")
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
    home_dir, warehouse = open_warehouse(home, backend)
    with warehouse, progress_bar(enabled=not as_json) as progress:
        report = load_parsed(
            folders,
            warehouse,
            key=Pseudonymiser(load_or_create_key(home_dir)),
            progress=progress,
        )
    payload = report.to_json()
    if as_json:
        print_json(payload)
    else:
        _print_ingest(payload)
    if payload["nothing_loaded"]:
        console.print(f"[bold red]Error:[/] {escape(payload['nothing_loaded'])}")
        raise typer.Exit(1)


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
        fail(f"{escape(repr(pseudonym))} is not in the re-identification lookup.")
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
        fail(f"Cannot find {', '.join(missing)}.")
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
                fail(f"{why} Nothing was checked.")
        else:
            _, warehouse = open_warehouse(home, backend)
        from csc_insight.rules import run as run_rules

        with warehouse:
            result = run_rules(warehouse, collection_year=collection_year)
        if output is not None:
            result.write_report(output)
    summary = result.to_dict()
    if paths:
        summary["rows_checked"] = report.to_json()["totals"]
    if as_json:
        print_json(summary, default=str)
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
