"""The csc-insight command line's entry point: plain errors, then a quick exit.

The commands themselves are in csc_insight.commands, one module per group.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

from csc_insight import settings
from csc_insight.commands import app
from csc_insight.commands.common import console
from csc_insight.errors import CscInsightError

__all__ = ["app", "run"]


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
    Spark, temporary folders) are run here first. While another thread is still at work
    (the dashboard's warm-up after `serve` stops), Python's own exit waits for it instead.
    """
    if isinstance(code, str):  # sys.exit("message"): Python's own convention
        print(code, file=sys.stderr)
        status = 1
    else:
        status = int(code or 0)
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        sys.exit(status)
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        sys.exit(status)
    os._exit(status)


if __name__ == "__main__":
    run()
