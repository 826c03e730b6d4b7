"""Shared by the analysis pages (demand, impact, voice, equity, benchmarks): the role an
analysis is run for, choices from the URL, and numbers in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import Request

from csc_insight.errors import ConfigError
from csc_insight.web.formatting import Formatter, format_number

PENDING = (
    "This is being worked out. Refresh the page in a minute to see it: it is worked out "
    "once for each data load."
)


def role(fmt: Formatter) -> str:
    """The audience an analysis is run for: viewers get suppressed figures."""
    return "viewer" if fmt.suppresses else "analyst"


def choice(request: Request, name: str, allowed: Sequence[str], default: str | None) -> str | None:
    """A URL parameter that must be one of ``allowed`` (a clear 400 otherwise)."""
    value = (request.query_params.get(name) or "").strip() or default
    if value is not None and value not in allowed:
        raise ConfigError(
            f"{name}={value!r} is not one of the choices: {', '.join(allowed) or 'none'}."
        )
    return value


def num(value: Any, decimals: int = 1) -> str:
    """A number for a table, or a dash where there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format_number(float(value), decimals)


def interval(low: Any, high: Any, decimals: int = 2) -> str:
    if low is None or high is None:
        return "–"
    return f"{num(low, decimals)} to {num(high, decimals)}"


def yes_no(value: Any) -> str:
    if value is None:
        return "–"
    return "Yes" if value else "No"
