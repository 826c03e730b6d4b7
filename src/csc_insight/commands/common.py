"""What every command module shares: the Typer app, the consoles, the options and helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from csc_insight import __version__, settings

if TYPE_CHECKING:
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


def print_json(data: Any, default: Callable[[Any], Any] | None = None) -> None:
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
StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        help=settings.SETTINGS_BY_NAME["state_url"].help,
        envvar=settings.SETTINGS_BY_NAME["state_url"].env,
        show_default=False,
    ),
]
AudienceOption = Annotated[
    str,
    typer.Option(
        help="viewer (small numbers shown as c, no child-level detail) or analyst (everything)."
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


def open_warehouse(home: Path | None, backend: str | None) -> tuple[Path, Warehouse]:
    from csc_insight.warehouse.store import Warehouse

    home_dir = settings.home(home)
    return home_dir, Warehouse.connect(settings.backend_url(home_dir, backend))


def open_state(home_dir: Path, state_url: str | None) -> Any:
    from csc_insight.appstate import AppState, default_url

    return AppState(state_url or settings.get("state_url") or default_url(home_dir))


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def check_audience(audience: str) -> None:
    if audience not in ("viewer", "analyst"):
        fail(f"--audience must be viewer or analyst, not {audience!r}.")


def format_value(value: float | None, unit: str, suppressed: bool = False) -> str:
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
