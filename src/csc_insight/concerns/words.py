"""Numbers as a sentence says them: units, differences, months and lists."""

from __future__ import annotations

import math
from collections.abc import Sequence

from csc_insight.indicators.periods import parse

SUPPRESSED_WORDS = "a small number (not shown)"


def number(value: float, digits: int = 1) -> str:
    """1,234 or 27.8: whole numbers without decimals, others to ``digits`` places."""
    if math.isclose(value, round(value), abs_tol=1e-9):
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def value(value: float | None, unit: str, suppressed: bool = False, exact: bool = False) -> str:
    """A figure with its unit: 27.8%, 494.2 per 10,000 children, 28 working days.

    ``exact`` (for targets): a whole percentage without decimals, 22% rather than 22.0%.
    """
    if suppressed:
        return SUPPRESSED_WORDS
    if value is None:
        return "not available"
    if unit == "percent":
        return f"{number(value)}%" if exact else f"{value:.1f}%"
    if unit == "rate_per_10k":
        return f"{value:,.1f} per 10,000 children"
    if unit == "days":
        return f"{number(value)} days"
    if unit == "working_days":
        return f"{number(value)} working days"
    if unit == "count":
        return f"{value:,.0f}"
    return number(value)


def short(value: float | None, unit: str, suppressed: bool = False) -> str:
    """A figure for a table cell: 27.8%, 494.2, 28 (the column says the unit)."""
    if suppressed:
        return "c"
    if value is None:
        return "-"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def gap(amount: float, unit: str) -> str:
    """A difference: '2 points', '3.5 days', '10.0 per 10,000'."""
    amount = abs(amount)
    if unit == "percent":
        return f"{number(amount)} {'point' if amount == 1 else 'points'}"
    if unit in ("days", "working_days"):
        label = "working days" if unit == "working_days" else "days"
        return f"{number(amount)} {label}"
    if unit == "rate_per_10k":
        return f"{number(amount)} per 10,000 children"
    return number(amount)


def month_name(label: str) -> str:
    """'2024-06' as 'June 2024' (other labels as they are)."""
    try:
        period = parse(label)
    except Exception:
        return label
    one_month = period.start.day == 1 and (period.end - period.start).days < 31
    if one_month and period.start.month == period.end.month and period.label == label:
        return period.start.strftime("%B %Y")
    return label


def join(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    """Capitalised and ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


__all__ = ["gap", "join", "month_name", "number", "sentence", "short", "value"]
