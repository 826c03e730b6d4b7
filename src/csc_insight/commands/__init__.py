"""The csc-insight commands, one module per group; importing this package registers them all."""

from csc_insight.commands import (
    actions,
    analysis,
    benchmarks,
    data,
    indicators,
    reports,
    users,
    web,
)
from csc_insight.commands.common import app

__all__ = [
    "actions",
    "analysis",
    "app",
    "benchmarks",
    "data",
    "indicators",
    "reports",
    "users",
    "web",
]

# `csc-insight --help` lists the commands in the order people use them (the order they had when
# they lived in one file), not in the order their modules are imported; sub-command groups come
# after the commands. A command missing from the list is listed last.
HELP_ORDER = (
    "synth",
    "ingest",
    "parse",
    "load",
    "indicators",
    "serve",
    "demo",
    "template",
    "reidentify",
    "validate",
    "escalation",
    "plan",
    "equity",
    "voice",
    "demand",
    "impact",
    "evaluate",
    "report",
    "concerns",
    "benchmarks",
    "users",
    "actions",
)


def _help_position(name: str | None) -> int:
    return HELP_ORDER.index(name) if name in HELP_ORDER else len(HELP_ORDER)


app.registered_commands.sort(
    key=lambda c: _help_position(c.name or getattr(c.callback, "__name__", None))
)
app.registered_groups.sort(key=lambda g: _help_position(g.name))
