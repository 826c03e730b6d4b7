"""The meeting pack: report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from csc_insight.commands.common import (
    AudienceOption,
    BackendOption,
    HomeOption,
    StateOption,
    app,
    check_audience,
    console,
    fail,
    open_state,
    open_warehouse,
    out,
)


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

    check_audience(audience)
    bad = [p for p in output if p.suffix.lower() not in meeting_pack.FORMATS]
    if bad:
        fail(f"Cannot write a meeting pack as {bad[0].name}: use .pdf, .html or .xlsx.")
    home_dir, warehouse = open_warehouse(home, backend)
    store = open_state(home_dir, state)
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
