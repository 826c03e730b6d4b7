"""Computing indicators: one place turns any indicator's records into figures, on any engine."""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir

from csc_insight.errors import ConfigError
from csc_insight.indicators.dimensions import DIMENSIONS_BY_NAME, with_child_dimensions
from csc_insight.indicators.expressions import PERIOD_END, PERIOD_KEY, PeriodSeries
from csc_insight.indicators.periods import Period
from csc_insight.indicators.registry import (
    REGISTRY,
    Indicator,
    IndicatorResult,
    Statistic,
    Tables,
    Unit,
)

# Dimensions child population estimates are published (or supplied locally) by.
POPULATION_DIMENSIONS = frozenset({"sex", "age_band", "ethnic_group", "ethnicity", "locality"})


def dimensions_for(indicator: Indicator) -> list[str]:
    """The breakdowns that make sense for an indicator."""
    child = [d.name for d in DIMENSIONS_BY_NAME.values() if d.from_child]
    return child + list(indicator.record_dimensions)


def _check_breakdown(indicator: Indicator, breakdown: list[str]) -> None:
    for name in breakdown:
        if name not in DIMENSIONS_BY_NAME:
            known = ", ".join(DIMENSIONS_BY_NAME)
            raise ConfigError(f"There is no breakdown called {name!r}; use one of: {known}.")


def _metrics(indicator: Indicator, records: ibis.Table) -> dict[str, ir.Scalar]:
    stat = indicator.statistic
    if stat in (Statistic.COUNT, Statistic.RATE):
        counted = records.child_id.nunique() if indicator.per_child else records.count()
        return {"numerator": counted}
    if stat is Statistic.SHARE:
        return {
            "numerator": ibis.ifelse(records.hit.fill_null(False), 1, 0).sum(),
            "denominator": records.count(),
        }
    value = records.value
    statistic = {
        Statistic.MEDIAN: value.median(),
        Statistic.P90: value.quantile(0.9),
        Statistic.MEAN: value.mean(),
    }[stat]
    return {"statistic": statistic, "denominator": value.count()}


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _value(indicator: Indicator, row: dict[str, Any]) -> tuple[float | None, ...]:
    stat = indicator.statistic
    num, den = _float(row.get("numerator")), _float(row.get("denominator"))
    if stat is Statistic.COUNT:
        return (num or 0.0), num or 0.0, None
    if stat is Statistic.SHARE:
        num = num or 0.0
        return (num / den * 100 if den else None), num, den
    if stat is Statistic.RATE:
        num = num or 0.0
        return (num / den * 10_000 if den else None), num, den
    return _float(row.get("statistic")), None, den


class _MemoTables(Tables):
    """Tables that remembers, for one computation, what it asked the engine.

    The population's estimate years and aggregated rows are asked once per computation. (The
    tables themselves are looked up once per connection by ``Warehouse.table``.)
    """

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._population_years: list[int] | None = None
        self._rows: dict[Any, list[dict[str, Any]]] = {}

    def __getattr__(self, name: str) -> ibis.Table:
        return getattr(self._tables, name)  # type: ignore[no-any-return]


def _population_years(pop: ibis.Table, t: Tables) -> list[int]:
    """The estimate years in ``pop``, asked of the engine once per ``_MemoTables``."""
    if isinstance(t, _MemoTables) and t._population_years is not None:
        return t._population_years
    years = sorted(int(y) for y in pop.year.to_pyarrow().unique().to_pylist() if y is not None)
    if isinstance(t, _MemoTables):
        t._population_years = years
    return years


def _population_groups(
    t: Tables, indicator: Indicator, breakdown: list[str]
) -> tuple[ibis.Table, list[int]] | None:
    """The authorities' child population in the breakdown's groups, and its estimate years.

    None when there is no population for it: none loaded, or a breakdown populations are not
    counted by (disability, team, referral source): the counts are then shown with no rate.
    """
    if any(d not in POPULATION_DIMENSIONS for d in breakdown):
        return None
    pop = t.population
    children = t.children.select("la_code").distinct()
    pop = pop.filter(pop.la_code.isin(children.la_code))
    years = _population_years(pop, t)
    if not years:
        return None
    marginal = ("sex", "ethnic_group", "ethnicity", "locality")
    for name in marginal:
        pop = pop.filter(pop[name].notnull() if name in breakdown else pop[name].isnull())
    if "age_band" in breakdown:
        pop = pop.filter(pop.age_band != "0-17")
    else:
        pop = pop.filter(pop.age_band == indicator.population_age_band)
    return pop, years


def _rows(tables: Tables, expr: ibis.Table) -> list[dict[str, Any]]:
    """The rows of ``expr``, worked out once per ``_MemoTables``.

    Indicators with the same records and statistic (a count and its rate: children in need
    and children in need per 10,000) build equal expressions, so they are aggregated once.
    Ibis expressions compare by structure, so equal ones are the same query.
    """
    memo = tables._rows if isinstance(tables, _MemoTables) else None
    key = expr.op()
    if memo is not None and key in memo:
        return [dict(r) for r in memo[key]]
    rows = expr.to_pyarrow().to_pylist()
    if memo is not None:
        memo[key] = rows
    return [dict(r) for r in rows]


def _estimate_year(years: list[int], period: Period) -> int:
    """The estimate year used for a period: the latest up to the year it starts in."""
    wanted = period.start.year
    return max((y for y in years if y <= wanted), default=years[0])


def _aggregate(
    indicator: Indicator,
    tables: Tables,
    records: ibis.Table,
    dims: list[str],
    keys: list[str],
    period_end: object,
) -> ibis.Table:
    """The indicator's metrics per group of ``keys`` and ``dims``, children's dimensions added.

    Ages "at the period end" are taken on ``period_end``: a date for one period, or the
    records' ``PERIOD_END`` column for a series.
    """
    child_dims = [d for d in dims if DIMENSIONS_BY_NAME[d].from_child]
    if indicator.age_at != "period_end":
        age_at: str | None = indicator.age_at
    else:
        age_at = PERIOD_END if keys else None
    records = with_child_dimensions(records, tables.children, child_dims, age_at, period_end)
    for d in dims:
        records = records.mutate(**{d: records[d].cast("string").fill_null("Not known")})
    if keys or dims:
        return records.group_by([*keys, *dims]).aggregate(**_metrics(indicator, records))
    return records.aggregate(**_metrics(indicator, records))


def _empty_row(indicator: Indicator) -> dict[str, Any]:
    """What ``_metrics`` gives for no records at all (counts 0, anything else null)."""
    stat = indicator.statistic
    if stat in (Statistic.COUNT, Statistic.RATE):
        return {"numerator": 0}
    if stat is Statistic.SHARE:
        return {"numerator": None, "denominator": 0}
    return {"statistic": None, "denominator": 0}


def _results(
    indicator: Indicator, rows: list[dict[str, Any]], dims: list[str], label: str
) -> list[IndicatorResult]:
    """One period's results from its aggregated rows, in the order of their groups."""
    results = []
    for row in sorted(rows, key=lambda r: tuple(str(r.get(d)) for d in dims)):
        value, num, den = _value(indicator, row)
        results.append(
            IndicatorResult(
                id=indicator.id,
                title=indicator.title,
                definition=indicator.definition,
                period=label,
                value=value,
                numerator=num,
                denominator=den,
                unit=str(indicator.unit),
                polarity=str(indicator.polarity),
                breakdown={d: str(row.get(d)) for d in dims} or None,
            )
        )
    return results


def _usable(indicator: Indicator, breakdown: list[str] | None) -> list[str] | None:
    """The breakdown's dimensions, or None when the indicator cannot be split so."""
    dims = list(breakdown or [])
    _check_breakdown(indicator, dims)
    usable = [d for d in dims if d in dimensions_for(indicator)]
    return dims if len(usable) == len(dims) else None


def compute_indicator(
    indicator: Indicator, tables: Tables, period: Period, breakdown: list[str] | None = None
) -> list[IndicatorResult]:
    """One indicator for one period: a single result, or one per breakdown group."""
    dims = _usable(indicator, breakdown)
    if dims is None:
        return []  # e.g. "service" for a referral measure: no such breakdown
    records = indicator.records(tables, period)
    rows = _rows(tables, _aggregate(indicator, tables, records, dims, [], period.end))
    return _finish(indicator, tables, PeriodSeries((period,)), {0: rows}, dims)


def _series_population(
    tables: Tables, series: PeriodSeries, indicator: Indicator, dims: list[str]
) -> dict[tuple[Any, ...], float | None] | None:
    """Each period's population per group, keyed (period position, *group): one query."""
    groups = _population_groups(tables, indicator, dims)
    if groups is None:
        return None
    pop, years = groups
    chosen = [_estimate_year(years, p) for p in series.periods]
    pop = pop.filter(pop.year.isin(sorted(set(chosen))))
    by_year = pop.group_by(["year", *dims]).aggregate(denominator=pop.population.sum())
    out: dict[tuple[Any, ...], float | None] = {}
    rows = _rows(tables, by_year)
    for k, year in enumerate(chosen):
        for row in rows:
            if row["year"] == year:
                out[(k, *(row[d] for d in dims))] = row["denominator"]
    return out


def _finish(
    indicator: Indicator,
    tables: Tables,
    series: PeriodSeries,
    by_period: dict[int, list[dict[str, Any]]],
    dims: list[str],
) -> list[IndicatorResult]:
    """Results from each period's aggregated rows, with each period's population for a rate.

    A period with no records at all has no row, and is given the figures of none (a count
    of 0). The population comes from its own small query (the estimate year nearest each
    period) and is matched to the groups here, so a count and its rate share one aggregate.
    """
    population = None
    if indicator.statistic is Statistic.RATE:
        population = _series_population(tables, series, indicator, dims)
    results: list[IndicatorResult] = []
    for k, period in enumerate(series.periods):
        rows = by_period.get(k, [])
        if not rows and not dims:
            rows = [_empty_row(indicator)]
        if indicator.statistic is Statistic.RATE:
            for row in rows:
                key = (k, *(row[d] for d in dims))
                row["denominator"] = None if population is None else population.get(key)
        results += _results(indicator, rows, dims, period.label)
    return results


def compute_indicator_series(
    indicator: Indicator,
    tables: Tables,
    periods: list[Period],
    breakdown: list[str] | None = None,
) -> list[IndicatorResult]:
    """One indicator for every period in ``periods`` in one query: what ``compute_indicator``
    gives for each period in turn, in period order.

    The records of all the periods are made together (``Indicator.series_records``: joined
    to a small table of the periods where the indicator allows, else each period's records
    unioned) and aggregated by period; rates take each period's population from one query.
    """
    dims = _usable(indicator, breakdown)
    if dims is None or not periods:
        return []
    series = PeriodSeries(tuple(periods))
    records = indicator.series_records(tables, series)
    aggregated = _aggregate(indicator, tables, records, dims, [PERIOD_KEY], None)
    by_period: dict[int, list[dict[str, Any]]] = {}
    for row in _rows(tables, aggregated):
        by_period.setdefault(int(row.pop(PERIOD_KEY)), []).append(row)
    return _finish(indicator, tables, series, by_period, dims)


def _chosen(ids: list[str] | None) -> list[Indicator]:
    unknown = [i for i in ids or [] if i not in REGISTRY]
    if unknown:
        raise ConfigError(f"No indicator is called {', '.join(unknown)}: see indicators --list.")
    chosen = [REGISTRY[i] for i in ids] if ids else list(REGISTRY.values())
    return [i for i in chosen if not i.child_level]


def compute_for(
    tables: Tables,
    period: Period,
    ids: list[str] | None = None,
    breakdown: list[str] | None = None,
) -> list[IndicatorResult]:
    """Every registered figure (or those in ``ids``) for a period, optionally broken down."""
    tables = tables if isinstance(tables, _MemoTables) else _MemoTables(tables)
    results: list[IndicatorResult] = []
    for indicator in _chosen(ids):
        results += compute_indicator(indicator, tables, period, breakdown)
    return results


def compute_series_for(
    tables: Tables,
    periods: list[Period],
    ids: list[str] | None = None,
    breakdown: list[str] | None = None,
) -> list[IndicatorResult]:
    """Every registered figure (or those in ``ids``) for each of ``periods`` (e.g. the months
    of a trend), one query per indicator for all of them: the same results as ``compute_for``
    for each period, grouped by indicator and in period order within each.
    """
    tables = tables if isinstance(tables, _MemoTables) else _MemoTables(tables)
    results: list[IndicatorResult] = []
    for indicator in _chosen(ids):
        results += compute_indicator_series(indicator, tables, periods, breakdown)
    return results


__all__ = [
    "Unit",
    "compute_for",
    "compute_indicator",
    "compute_indicator_series",
    "compute_series_for",
    "dimensions_for",
]
