"""The indicator catalogue: one module per family, one registry, one way to compute."""

from __future__ import annotations

import datetime as dt

from csc_insight.indicators import (  # noqa: F401  (importing a family registers it)
    adoption,
    care_leavers,
    cin,
    cla,
    cp,
    escalation,
    services,
)
from csc_insight.indicators.compute import (
    compute_for,
    compute_indicator,
    compute_series_for,
    dimensions_for,
)
from csc_insight.indicators.periods import Period, financial_year_of, parse
from csc_insight.indicators.registry import (
    REGISTRY,
    Indicator,
    IndicatorResult,
    Statistic,
    Tables,
    Unit,
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


def compute(
    warehouse: Warehouse,
    period: str | None = None,
    ids: list[str] | None = None,
    breakdown: list[str] | None = None,
) -> list[IndicatorResult]:
    """Every registered indicator (or those in ``ids``) for a period (default: the latest)."""
    label = period or latest_period(warehouse)
    if label is None:
        return []
    return compute_for(Tables(warehouse), parse(label), ids, breakdown)


def compute_series(
    warehouse: Warehouse,
    periods: list[str],
    ids: list[str] | None = None,
    breakdown: list[str] | None = None,
) -> list[IndicatorResult]:
    """Every registered indicator (or those in ``ids``) for each period label in ``periods``.

    The same figures as ``compute`` for each period in turn, worked out in one query per
    indicator (see ``compute_series_for``): use it for trends.
    """
    return compute_series_for(Tables(warehouse), [parse(p) for p in periods], ids, breakdown)


def catalogue_markdown() -> str:
    """The catalogue as the Markdown page docs/indicators.md (regenerated, never hand-edited)."""
    lines = [
        "# Indicator catalogue",
        "",
        "Generated from the registry by `csc-insight indicators --list --format markdown`; "
        "a test fails if this page and the registry disagree.",
        "",
        "Every figure can be computed for a financial year (`2024-25`), a quarter "
        "(`2024-25 Q1`), a month (`2024-06`) or rolling 12 months (`12m to 2024-06`), and "
        "broken down (`--breakdown`) by sex, age band, ethnic group, detailed ethnicity, "
        "disability and locality, plus the record-level dimensions listed for it.",
        "",
        "| id | title | unit | statistic | polarity | reads | breakdowns | DfE table "
        "| definition |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for ind in REGISTRY.values():
        lines.append(
            f"| `{ind.id}` | {ind.title} | {ind.unit} | "
            f"{'child-level list' if ind.child_level else ind.statistic} | {ind.polarity} | "
            f"{', '.join(ind.tables)} | {', '.join(ind.record_dimensions) or '-'} | "
            f"{ind.dfe_table or 'local'} | {ind.definition} |"
        )
    return "\n".join(lines) + "\n"


__all__ = [
    "REGISTRY",
    "Indicator",
    "IndicatorResult",
    "Period",
    "Statistic",
    "Unit",
    "catalogue_markdown",
    "compute",
    "compute_indicator",
    "compute_series",
    "dimensions_for",
    "latest_period",
]
