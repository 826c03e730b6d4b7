"""The indicator registry: every measure is one small class, registered here.

An indicator says which records it is about (an Ibis table of rows, each tied to a child) and
which statistic turns them into a figure; breakdowns, periods, engines and suppression are
handled once, for all of them, in ``compute``. Built-in families register through
``register`` exactly as an extension would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import ibis

from csc_insight.indicators.expressions import (
    Bounds,
    OnePeriod,
    PeriodSeries,
    Placement,
    Span,
)
from csc_insight.indicators.periods import Period
from csc_insight.warehouse.store import Warehouse


class Unit(StrEnum):
    """How a value is expressed."""

    COUNT = "count"
    PERCENT = "percent"
    RATE_PER_10K = "rate_per_10k"
    DAYS = "days"
    WORKING_DAYS = "working_days"
    SCORE = "score"


class Polarity(StrEnum):
    """Which direction is better."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEITHER = "neither"


class Statistic(StrEnum):
    """How an indicator's records become its figure."""

    COUNT = "count"  # how many records (or distinct children, see Indicator.per_child)
    SHARE = "share"  # records with hit = True, as a percentage of all records
    RATE = "rate"  # records (or children) per 10,000 children in the population
    MEDIAN = "median"  # median of the records' value
    P90 = "p90"  # 90th percentile of the records' value
    MEAN = "mean"  # mean of the records' value


_UNIT_OF_STATISTIC = {Statistic.SHARE: Unit.PERCENT, Statistic.RATE: Unit.RATE_PER_10K}


class Tables:
    """Lazy access to canonical tables for indicator expressions."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    def __getattr__(self, name: str) -> ibis.Table:
        return self._warehouse.table(name)


class Indicator:
    """A measure: which records it counts, and the statistic that makes them a figure."""

    id: ClassVar[str]
    title: ClassVar[str]
    definition: ClassVar[str]
    unit: ClassVar[Unit]
    polarity: ClassVar[Polarity]
    statistic: ClassVar[Statistic] = Statistic.COUNT
    # Count distinct children rather than records (e.g. children looked after at 31 March).
    per_child: ClassVar[bool] = False
    # Tables the indicator reads: the measurement plan says which data each one needs.
    tables: ClassVar[tuple[str, ...]] = ()
    # DfE (Explore Education Statistics) table the figure corresponds to; None for local.
    dfe_table: ClassVar[str | None] = None
    # Ages are worked out at this date: "period_end", or a date column of the records.
    age_at: ClassVar[str] = "period_end"
    # Population the rate is per 10,000 of (age band of the population table).
    population_age_band: ClassVar[str] = "0-17"
    # Record-level dimensions this indicator can be broken down by (columns of records()).
    record_dimensions: ClassVar[tuple[str, ...]] = ()
    # For child-level lists (escalation): the indicator is a list, not a figure, and says
    # which fields it reads since it has no records() to work them out from.
    child_level: ClassVar[bool] = False
    child_level_fields: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()

    def records(self, t: Tables, period: Period) -> ibis.Table:
        """The records the figure is made of: la_code, child_id, and hit or value if needed."""
        raise NotImplementedError

    def series_records(self, t: Tables, series: PeriodSeries) -> ibis.Table:
        """The records of every period of ``series``, each with its period's columns.

        This general way unions each period's own ``records``: always the same records, but
        a scan (and a query plan) per period. ``Placed`` indicators place their records in
        periods with one join instead.
        """
        parts = [
            self.records(t, period).mutate(**series.tag(k))
            for k, period in enumerate(series.periods)
        ]
        return ibis.union(*parts, distinct=False)


class Placed(Indicator):
    """An indicator whose records are written once, against a ``Placement``.

    ``placed`` places the tables it reads in the period (``at.place``), groups and joins by
    ``at.keys`` besides its own keys, and takes the period's first and last days from
    ``at.start``/``at.end``: for one period that is ``records``; for a series of periods the
    same expression places the rows in every period with a join to a small table of them,
    instead of a scan per period.
    """

    def placed(self, t: Tables, at: Placement) -> ibis.Table:
        raise NotImplementedError

    def records(self, t: Tables, period: Period) -> ibis.Table:
        return self.placed(t, OnePeriod(period))

    def series_records(self, t: Tables, series: PeriodSeries) -> ibis.Table:
        if type(self).records is not Placed.records:
            # A subclass made its records another way: only the general way matches them.
            return super().series_records(t, series)
        return self.placed(t, series)


class InPeriod(Placed):
    """An indicator whose records are the ``candidates`` that fall in the period.

    Whether a candidate falls in a period is a test of its ``dates`` (``span`` says which
    test: dated within it, open at its end, or open at some point of it). ``reach`` can
    widen the period the dates are tested against (three years ending with it). ``within``
    then works on the rows of each period separately (one per child in the period, ages at
    its end), grouping by ``keys`` besides its own and taking the period's last day from
    ``end``.
    """

    span: ClassVar[Span] = Span.DATED
    dates: ClassVar[tuple[str, ...]]

    def candidates(self, t: Tables) -> ibis.Table:
        """Every record that could belong to some period, with hit or value if needed."""
        raise NotImplementedError

    def reach(self, period: Bounds) -> Bounds:
        """The dates a record's dates are tested against: the period's own unless overridden."""
        return period

    def within(self, records: ibis.Table, keys: list[str], end: ibis.Value) -> ibis.Table:
        """The period's records from those that fall in it (all of them unless overridden)."""
        return records

    def placed(self, t: Tables, at: Placement) -> ibis.Table:
        c = at.place(self.candidates(t), self.span, self.dates, self.reach)
        return self.within(c, at.keys, at.end(c))


REGISTRY: dict[str, Indicator] = {}


def register(cls: type[Indicator]) -> type[Indicator]:
    """Add an indicator class to the registry (its id must be new, its metadata complete)."""
    if cls.id in REGISTRY:
        raise ValueError(f"indicator {cls.id} is registered twice")
    for attr in ("title", "definition", "unit", "polarity"):
        if not getattr(cls, attr, None):
            raise ValueError(f"indicator {cls.id} has no {attr}")
    if not cls.__doc__ or not cls.tables:
        raise ValueError(f"indicator {cls.id} needs a docstring and the tables it reads")
    expected = _UNIT_OF_STATISTIC.get(cls.statistic)
    if expected is not None and cls.unit is not expected:
        raise ValueError(f"indicator {cls.id}: a {cls.statistic} is measured in {expected}")
    REGISTRY[cls.id] = cls()
    return cls


@dataclass(frozen=True)
class IndicatorResult:
    """One computed value, ready for a table, a chart or JSON."""

    id: str
    title: str
    definition: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    polarity: str
    breakdown: dict[str, str] | None = None
    suppressed: bool = False
    target: float | None = None
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
