"""The indicator catalogue: one module per family, one registry, one way to compute."""

from __future__ import annotations

import datetime as dt

from csc_insight.indicators import cin, cla, cp, services  # noqa: F401  (registers the families)
from csc_insight.indicators.periods import Period, financial_year_of, parse
from csc_insight.indicators.registry import (
    REGISTRY,
    Indicator,
    IndicatorResult,
    Tables,
    Unit,
    ratio_value,
)
from csc_insight.warehouse.store import Warehouse

# Tables whose dates say how recent the loaded data is, in order of preference.
_RECENCY = (
    ("referrals", "referral_date"),
    ("cla_episodes", "decom"),
    ("service_involvements", "date_requested"),
)


def latest_period(warehouse: Warehouse) -> str | None:
    """The financial year of the most recent dated record, e.g. '2024-25'; None if empty."""
    for table, column in _RECENCY:
        latest = warehouse.table(table)[column].max().execute()
        if latest is not None and latest == latest:  # NaT/NaN compare unequal to themselves
            day = latest.date() if isinstance(latest, dt.datetime) else latest
            return financial_year_of(day).label
    return None


def _scalar(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number


def compute_one(indicator: Indicator, tables: Tables, period: Period) -> IndicatorResult:
    """One indicator for one period."""
    num = _scalar(indicator.numerator(tables, period).execute())
    den_expr = indicator.denominator(tables, period)
    den = _scalar(den_expr.execute()) if den_expr is not None else None
    return IndicatorResult(
        id=indicator.id,
        title=indicator.title,
        definition=indicator.definition,
        period=period.label,
        value=ratio_value(indicator.unit)(num, den),
        numerator=num,
        denominator=den,
        unit=str(indicator.unit),
        polarity=str(indicator.polarity),
    )


def compute(
    warehouse: Warehouse, period: str | None = None, ids: list[str] | None = None
) -> list[IndicatorResult]:
    """Every registered indicator (or those in ``ids``) for a period (default: the latest)."""
    label = period or latest_period(warehouse)
    if label is None:
        return []
    chosen = parse(label)
    tables = Tables(warehouse)
    selected = [REGISTRY[i] for i in ids] if ids else list(REGISTRY.values())
    return [compute_one(ind, tables, chosen) for ind in selected]


__all__ = [
    "REGISTRY",
    "Indicator",
    "IndicatorResult",
    "Unit",
    "catalogue_markdown",
    "compute",
    "compute_one",
    "latest_period",
]


def catalogue_markdown() -> str:
    """The catalogue as the Markdown page docs/indicators.md (regenerated, never hand-edited)."""
    lines = [
        "# Indicator catalogue",
        "",
        "Generated from the registry by `csc-insight indicators --list --format markdown`; "
        "a test fails if this page and the registry disagree.",
        "",
        "| id | title | unit | polarity | DfE table | definition |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for ind in REGISTRY.values():
        lines.append(
            f"| `{ind.id}` | {ind.title} | {ind.unit} | {ind.polarity} | "
            f"{ind.dfe_table or 'local'} | {ind.definition} |"
        )
    return "\n".join(lines) + "\n"
