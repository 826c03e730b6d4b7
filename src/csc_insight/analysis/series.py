"""Demand series: how many contacts, referrals, assessments ... arrived each week or month.

Counting happens on the engine with Ibis (group by the week or month an event fell in), so
the same code runs on DuckDB, PostgreSQL and Spark; only the few hundred counts come back
into pandas for the statistics. Weeks start on Monday.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import pandas as pd

from csc_insight.errors import CscInsightError
from csc_insight.indicators.expressions import SHORT_BREAK_LEGAL_STATUSES
from csc_insight.warehouse.store import Warehouse

NOT_RECORDED = "Not recorded"
FREQUENCIES = ("W", "M")
# Referral sources that are schools (CIN census ReferralSource 2A and 2B).
SCHOOL_SOURCES = ("2A", "2B")


@dataclass(frozen=True)
class SeriesDef:
    """A demand series: which table's rows are counted, on which date.

    ``dimensions`` maps a breakdown name (``source``, ``team`` ...) to the table's column;
    ``locality`` is always available through the children table.
    """

    name: str
    title: str
    table: str
    date: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    keep: Callable[[ibis.Table], ibis.Table] | None = None


def _cla_starts(t: ibis.Table) -> ibis.Table:
    # A period of care starts with reason for new episode S; short-break-only care is left
    # out, as DfE leaves it out of children starting to be looked after.
    return t.filter((t.rne == "S") & ~t.ls.isin(SHORT_BREAK_LEGAL_STATUSES))


SERIES: tuple[SeriesDef, ...] = (
    SeriesDef("contacts", "Contacts", "contacts", "contact_date", {"source": "contact_source"}),
    SeriesDef(
        "referrals",
        "Referrals",
        "referrals",
        "referral_date",
        {"source": "referral_source", "team": "team", "need": "primary_need"},
    ),
    SeriesDef("assessments", "Assessments started", "assessments", "start_date", {"team": "team"}),
    SeriesDef("section47", "Section 47 enquiries", "section47", "strategy_date"),
    SeriesDef(
        "cp_plans",
        "Child protection plans started",
        "cp_plans",
        "start_date",
        {"category": "initial_category"},
    ),
    SeriesDef(
        "cla_starts",
        "Children starting to be looked after",
        "cla_episodes",
        "decom",
        {"placement": "place", "legal_status": "ls"},
        _cla_starts,
    ),
    SeriesDef(
        "service_requests",
        "Requests for local services",
        "service_involvements",
        "date_requested",
        {"service": "service", "team": "team"},
    ),
)
SERIES_BY_NAME: dict[str, SeriesDef] = {s.name: s for s in SERIES}


def series_def(name: str) -> SeriesDef:
    """The demand series called ``name``."""
    try:
        return SERIES_BY_NAME[name]
    except KeyError:
        known = ", ".join(SERIES_BY_NAME)
        raise CscInsightError(
            f"There is no demand series {name!r} (choose from {known})."
        ) from None


def dimensions_of(name: str) -> tuple[str, ...]:
    """Breakdowns a series can be split by."""
    return (*series_def(name).dimensions, "locality")


@dataclass(frozen=True)
class DemandSeries:
    """Counts per period (``W`` weeks from Monday, ``M`` months), one column per group.

    ``counts`` has a DatetimeIndex of period starts and a column ``all`` (or one column per
    group of the breakdown); every period from ``first`` to ``last`` is present, zeros
    included. Only whole periods inside the data's coverage are kept.
    """

    name: str
    title: str
    freq: str
    counts: pd.DataFrame
    first: date
    last: date
    by: str | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def total(self) -> pd.Series:
        """All groups added together."""
        return self.counts.sum(axis=1).rename(self.name)


def _with_dimension(
    warehouse: Warehouse, sdef: SeriesDef, t: ibis.Table, dim: str, name: str
) -> ibis.Table:
    if dim == "locality":
        c = warehouse.table("children").select("la_code", "child_id", _loc="locality")
        t = t.left_join(c, [t.la_code == c.la_code, t.child_id == c.child_id])
        return t.mutate(**{name: t._loc.fill_null(NOT_RECORDED)})
    if dim not in sdef.dimensions:
        known = ", ".join(dimensions_of(sdef.name))
        raise CscInsightError(f"{sdef.title} cannot be split by {dim!r} (choose from {known}).")
    column = t[sdef.dimensions[dim]].cast("string")
    return t.mutate(**{name: ibis.ifelse(column.isnull() | (column == ""), NOT_RECORDED, column)})


def coverage(warehouse: Warehouse, sdef: SeriesDef) -> tuple[date, date] | None:
    """First and last day the data covers completely for this series.

    Statutory returns hold records that started long before their first year (episodes
    open in that year), so a series starts on 1 April before the earliest collection year
    loaded; local extracts, which have no collection year, start at their earliest record.
    """
    t = warehouse.table(sdef.table)
    if sdef.keep is not None:
        t = sdef.keep(t)
    span = t.aggregate(lo=t[sdef.date].min(), hi=t[sdef.date].max()).to_pandas()
    if span.empty or pd.isna(span.lo.iloc[0]):
        return None
    lo, hi = pd.Timestamp(span.lo.iloc[0]).date(), pd.Timestamp(span.hi.iloc[0]).date()
    files = warehouse.table("load_files")
    years = (
        files.filter((files.target_table == sdef.table) & files.collection_year.notnull())
        .aggregate(first=files.collection_year.min(), last=files.collection_year.max())
        .to_pandas()
    )
    if not years.empty and not pd.isna(years["first"].iloc[0]):
        lo = max(lo, date(int(years["first"].iloc[0]) - 1, 4, 1))
        hi = max(hi, date(int(years["last"].iloc[0]), 3, 31))
    return lo, hi


def period_starts(first: date, last: date, freq: str) -> pd.DatetimeIndex:
    """Starts of the whole weeks (Monday) or months lying within ``first`` to ``last``."""
    if freq == "W":
        start = first + timedelta(days=(7 - first.weekday()) % 7)
        end = last - timedelta(days=6)
        return pd.date_range(start, end, freq="W-MON") if start <= end else pd.DatetimeIndex([])
    start = first if first.day == 1 else (pd.Timestamp(first) + pd.offsets.MonthBegin(1)).date()
    month_end = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    end = pd.Timestamp(last if last == month_end else pd.Timestamp(last) - pd.offsets.MonthEnd(1))
    return pd.date_range(start, end.replace(day=1), freq="MS")


def demand_series(
    warehouse: Warehouse,
    name: str,
    freq: str = "W",
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> DemandSeries:
    """Counts of series ``name`` per week or month, overall or by a breakdown.

    ``filters`` keeps only rows whose breakdown value is one of those given, e.g.
    ``{"source": SCHOOL_SOURCES}`` for referrals from schools or ``{"service": [NAME]}``.
    """
    if freq not in FREQUENCIES:
        raise CscInsightError(f"The frequency must be W (weekly) or M (monthly), not {freq!r}.")
    sdef = series_def(name)
    span = coverage(warehouse, sdef)
    if span is None:
        raise CscInsightError(f"There are no {sdef.title.lower()} in the warehouse to count.")
    t = warehouse.table(sdef.table)
    if sdef.keep is not None:
        t = sdef.keep(t)
    t = t.filter(t[sdef.date].between(span[0], span[1]))
    wanted = {k: tuple(v) for k, v in (filters or {}).items()}
    for i, (dim, values) in enumerate(wanted.items()):
        t = _with_dimension(warehouse, sdef, t, dim, f"_f{i}")
        t = t.filter(t[f"_f{i}"].isin(values))
    if by is not None:
        t = _with_dimension(warehouse, sdef, t, by, "group")
    else:
        t = t.mutate(group=ibis.literal("all"))
    unit = "W" if freq == "W" else "M"
    t = t.mutate(period=t[sdef.date].truncate(unit))
    rows = t.group_by(["period", "group"]).aggregate(n=t.count()).to_pandas()
    index = period_starts(span[0], span[1], freq)
    if rows.empty:
        counts = pd.DataFrame({"all": 0}, index=index, dtype="int64")
    else:
        rows["period"] = pd.to_datetime(rows["period"])
        counts = rows.pivot_table(index="period", columns="group", values="n", aggfunc="sum")
        counts = counts.reindex(index).fillna(0).astype("int64")
        counts.columns = [str(c) for c in counts.columns]
        counts = counts[sorted(counts.columns, key=lambda c: -int(counts[c].sum()))]
    counts.index.name = "period"
    first = index[0].date() if len(index) else span[0]
    last = span[1]
    return DemandSeries(sdef.name, sdef.title, freq, counts, first, last, by, wanted)


__all__ = [
    "FREQUENCIES",
    "NOT_RECORDED",
    "SCHOOL_SOURCES",
    "SERIES",
    "SERIES_BY_NAME",
    "DemandSeries",
    "SeriesDef",
    "coverage",
    "demand_series",
    "dimensions_of",
    "period_starts",
    "series_def",
]
