"""Outcome measures a service can be judged on: one small declaration each.

An outcome is a child-level panel: for each child and period, a value and a weight. School
attendance is the first; exclusions, a wellbeing score or re-referral would be declared the
same way and every impact estimate and report works with them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from csc_insight.errors import CscInsightError
from csc_insight.warehouse.store import Warehouse

PANEL_COLUMNS = ("la_code", "child_id", "period_start", "period_end", "value", "weight")


@dataclass(frozen=True)
class Outcome:
    """A measure observed per child and period (a school term, a month ...)."""

    name: str
    title: str
    noun: str  # how a sentence names it: "attendance rose by ..."
    unit: str  # of the difference: "points" (percentage points), "days" ...
    higher_is_better: bool
    tables: tuple[str, ...]
    panel: Callable[[Warehouse], pd.DataFrame]  # PANEL_COLUMNS, one row per child and period


def _attendance(warehouse: Warehouse) -> pd.DataFrame:
    a = warehouse.table("attendance")
    a = a.filter(a.sessions_possible > 0)
    # A term's rate is the share of possible sessions attended, in percent; a term with more
    # sessions tells us more, so it weighs more when terms are averaged.
    a = a.select(
        "la_code",
        "child_id",
        "period_start",
        "period_end",
        value=100.0 * a.sessions_attended.cast("float64") / a.sessions_possible,
        weight=a.sessions_possible.cast("float64"),
    )
    df = a.to_pandas()
    for col in ("period_start", "period_end"):
        df[col] = pd.to_datetime(df[col])
    return df


OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        Outcome(
            "attendance",
            "School attendance",
            "attendance",
            "points",
            True,
            ("attendance",),
            _attendance,
        ),
    )
}


def outcome(name: str) -> Outcome:
    """The outcome measure called ``name``."""
    try:
        return OUTCOMES[name]
    except KeyError:
        known = ", ".join(OUTCOMES)
        raise CscInsightError(f"There is no outcome {name!r} (choose from {known}).") from None


__all__ = ["OUTCOMES", "PANEL_COLUMNS", "Outcome", "outcome"]
