"""Monthly and yearly values of indicators, computed once per call and kept for reuse."""

from __future__ import annotations

from dataclasses import dataclass, field

from csc_insight.concerns import spc
from csc_insight.indicators import REGISTRY, IndicatorResult, compute
from csc_insight.indicators.compute import compute_series_for
from csc_insight.indicators.periods import (
    Period,
    financial_year,
    financial_year_of,
    month,
    quarter,
    rolling_12_months,
)
from csc_insight.indicators.registry import Indicator, Polarity, Tables
from csc_insight.warehouse.store import Warehouse

# Measured once a year by nature (annual returns, "at 31 March" over a year or longer, or a
# three-year average): a monthly control chart of them would chart the method, not the
# service. They are judged against targets and comparators, and year on year.
ANNUAL_ONLY = frozenset(
    {
        "cla.placements_3plus_pct",  # placements during the year to 31 March
        "cla.long_term_stability_pct",  # two and a half years in care, two in placement
        "cla.health_check_pct",  # SSDA903 OC2: annual
        "cla.dental_check_pct",
        "cla.sdq_mean",
        "cla.sdq_concern_pct",
        "adoption.a1_days",  # three-year averages
        "adoption.a2_days",
        "leavers.in_touch_pct",  # around each leaver's birthday: annual return
        "leavers.eet_pct",
        "leavers.suitable_accom_pct",
    }
)
DEFAULT_MONTHS = 24


def monthly_ids() -> list[str]:
    """Indicators charted month by month: a better direction, and a monthly meaning."""
    return [
        i.id
        for i in REGISTRY.values()
        if not i.child_level and i.polarity != Polarity.NEITHER and i.id not in ANNUAL_ONLY
    ]


def headline_ids() -> list[str]:
    """Every indicator that is a figure (not a child-level list), in catalogue order."""
    return [i.id for i in REGISTRY.values() if not i.child_level]


def months_ending(period: Period, count: int) -> list[Period]:
    """The ``count`` calendar months ending with the month the period ends in."""
    year, number = period.end.year, period.end.month
    out = []
    for _ in range(count):
        out.append(month(year, number))
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    return out[::-1]


def previous_year(period: Period) -> Period:
    """The same span a year earlier: last financial year, quarter, month or 12 months."""
    fy = financial_year_of(period.start)
    end = period.end
    if fy == period:
        return financial_year(period.start.year - 1)
    if period.label.startswith("12m"):
        return rolling_12_months(end.year - 1, end.month)
    if period.label[-2:-1] == "Q":
        return quarter(fy.start.year - 1, int(period.label[-1]))
    return month(end.year - 1, end.month)


@dataclass
class MonthlySeries:
    """One indicator month by month, with its control chart."""

    id: str
    title: str
    unit: str
    polarity: str
    labels: list[str]
    values: list[float | None]
    numerators: list[float | None]
    denominators: list[float | None]
    chart: spc.ControlChart

    def value_at(self, label: str) -> float | None:
        return self.values[self.labels.index(label)] if label in self.labels else None


@dataclass
class Figures:
    """Indicator results, computed lazily and cached for the life of one pack or search."""

    warehouse: Warehouse
    _cache: dict[str, dict[str, IndicatorResult]] = field(default_factory=dict)

    def period(self, label: str, ids: list[str] | None = None) -> dict[str, IndicatorResult]:
        """Headline results for a period (every headline indicator, or at least ``ids``)."""
        have = self._cache.setdefault(label, {})
        wanted = ids or headline_ids()
        missing = [i for i in wanted if i not in have]
        if missing:
            for r in compute(self.warehouse, label, ids=missing):
                if r.breakdown is None:
                    have[r.id] = r
            for i in missing:  # remember absence too, so it is not computed again
                have.setdefault(i, _empty(i, label))
        return {i: have[i] for i in wanted}

    def monthly(
        self, period: Period, ids: list[str], months: int = DEFAULT_MONTHS
    ) -> dict[str, MonthlySeries]:
        """Each indicator in ``ids`` over the months ending with the period, on its chart."""
        spans = months_ending(period, months)
        labels = [p.label for p in spans]
        out: dict[str, MonthlySeries] = {}
        for i in ids:
            ind = REGISTRY[i]
            results = self._months(ind, spans)
            values = [r.value for r in results]
            nums = [r.numerator for r in results]
            dens = [r.denominator for r in results]
            # Leading months with no records at all are before the data starts.
            first = next((k for k, r in enumerate(results) if _has_records(r)), len(results))
            kept = labels[first:]
            values, nums, dens = values[first:], nums[first:], dens[first:]
            chart = spc.chart_for(str(ind.unit), kept, values, nums, dens)
            out[i] = MonthlySeries(
                i, ind.title, str(ind.unit), str(ind.polarity), kept, values, nums, dens, chart
            )
        return out

    def _months(self, ind: Indicator, spans: list[Period]) -> list[IndicatorResult]:
        """One indicator's headline result for each month, all months in one query."""
        cached = [self._cache.get(p.label, {}).get(ind.id) for p in spans]
        if any(r is None for r in cached):
            results = compute_series_for(Tables(self.warehouse), spans, ids=[ind.id])
            for r in results:
                if r.breakdown is None:
                    self._cache.setdefault(r.period, {})[r.id] = r
        return [self.period(p.label, [ind.id])[ind.id] for p in spans]


def _has_records(r: IndicatorResult) -> bool:
    return bool(r.denominator) or bool(r.numerator)


def _empty(indicator_id: str, label: str) -> IndicatorResult:
    ind = REGISTRY[indicator_id]
    return IndicatorResult(
        id=ind.id,
        title=ind.title,
        definition=ind.definition,
        period=label,
        value=None,
        numerator=None,
        denominator=None,
        unit=str(ind.unit),
        polarity=str(ind.polarity),
    )


__all__ = [
    "ANNUAL_ONLY",
    "DEFAULT_MONTHS",
    "Figures",
    "MonthlySeries",
    "headline_ids",
    "monthly_ids",
    "months_ending",
    "previous_year",
]
