"""Reusable pieces of indicator expressions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Protocol

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from csc_insight.indicators.periods import Period
from csc_insight.indicators.workdays import calendar

# Columns that tie a record to its period when many periods are computed at once.
PERIOD_KEY = "_period"  # the period's position in the series
PERIOD_END = "_period_end"  # its last day (ages "at the period end" are taken on it)
PERIOD_START = "_period_start"  # and its first day


class Bounds(Protocol):
    """A period's first and last day: dates, or the columns of a periods table."""

    @property
    def start(self) -> ir.DateValue | date: ...

    @property
    def end(self) -> ir.DateValue | date: ...


@dataclass(frozen=True)
class Window:
    """A period's bounds as Ibis expressions (columns of a periods table, or reworked)."""

    start: ir.DateValue
    end: ir.DateValue


# Children looked after only under a series of short breaks are excluded from DfE's figures.
SHORT_BREAK_LEGAL_STATUSES = ("V3", "V4")


def during(column: ir.DateValue, period: Bounds) -> ir.BooleanValue:
    """The date falls within the period."""
    return column.between(period.start, period.end)


# An open end (no end date yet) compared as the last date there is. Written so rather than
# as "end IS NULL OR end > day", the test is two plain inequalities: joined to a table of
# periods, DuckDB then uses a range join instead of comparing every pair of rows.
_OPEN = date.max


def open_at(start: ir.DateValue, end: ir.DateValue, day: object) -> ir.BooleanValue:
    """Something that started on or before ``day`` and had not ended by then."""
    return (start <= day) & (end.fill_null(_OPEN) > day)


def overlaps(start: ir.DateValue, end: ir.DateValue, period: Bounds) -> ir.BooleanValue:
    """Something open at any point of the period."""
    return (start <= period.end) & (end.fill_null(_OPEN) >= period.start)


def as_date(day: ir.DateValue | date) -> ir.DateValue:
    """A date (or a date column) as an Ibis date expression."""
    return ibis.literal(day, type="date") if isinstance(day, date) else day


def with_working_days(
    table: ibis.Table, start: str, end: str, name: str = "working_days"
) -> ibis.Table:
    """``table`` with a column counting working days from ``start`` (day 0) to ``end``.

    Dates outside the calendar (2000 to 2035) give a null count rather than losing the row.
    """
    cal = calendar()
    starts = cal.select(_wd_start_date=cal.calendar_date, _wd_start_n=cal.workday_number)
    ends = cal.select(_wd_end_date=cal.calendar_date, _wd_end_n=cal.workday_number)
    joined = table.left_join(starts, table[start] == starts._wd_start_date).left_join(
        ends, table[end] == ends._wd_end_date
    )
    return joined.mutate(**{name: joined._wd_end_n - joined._wd_start_n}).drop(
        "_wd_start_date", "_wd_start_n", "_wd_end_date", "_wd_end_n"
    )


def days_between(start: ir.DateValue, end: ir.DateValue) -> ir.IntegerValue:
    """Calendar days from ``start`` to ``end``."""
    return end.delta(start, unit="day")


def previous_in_series(
    table: ibis.Table, order: str, column: str, name: str, tie: str | None = None
) -> ibis.Table:
    """``table`` with ``name`` = the value of ``column`` on the same child's previous row."""
    order_by = [table[order]] + ([table[tie]] if tie else [])
    window = ibis.window(group_by=[table.la_code, table.child_id], order_by=order_by)
    return table.mutate(**{name: table[column].lag().over(window)})


class Span(StrEnum):
    """How a record's dates place it in a period."""

    DATED = "dated"  # its one date falls within the period (a referral received)
    OPEN_AT_END = "open_at_end"  # open on the period's last day (looked after at 31 March)
    OVERLAPS = "overlaps"  # open at any point of the period (children helped)
    RETURN_YEAR = "return_year"  # in the annual return of the year the period ends in
    BEGUN = "begun"  # its date is on or before the period's last day (history up to then)


def in_period(
    table: ibis.Table, span: Span, dates: tuple[str, ...], period: Bounds
) -> ir.BooleanValue:
    """Whether a row of ``table`` belongs to the period, by its ``dates`` column(s).

    The one test both for a single period (dates) and for a series of periods (the columns of
    a periods table joined to the rows), so a batched series selects exactly the rows each
    period selects on its own.
    """
    if span is Span.DATED:
        return during(table[dates[0]], period)
    if span is Span.OPEN_AT_END:
        return open_at(table[dates[0]], table[dates[1]], period.end)
    if span is Span.OVERLAPS:
        return overlaps(table[dates[0]], table[dates[1]], period)
    if span is Span.BEGUN:
        return table[dates[0]] <= period.end
    return table[dates[0]] == as_date(period.end).year()


def _same(bounds: Bounds) -> Bounds:
    return bounds


class Placement(Protocol):
    """Where records are placed: in one period, or in each period of a series.

    An indicator written against a placement (``Placed``) is the same expression for one
    period (rows filtered by the period's dates) and for many (rows joined to a table of
    periods, each carrying ``keys``): group and join by ``keys`` besides your own.
    """

    @property
    def keys(self) -> list[str]: ...

    def place(
        self,
        table: ibis.Table,
        span: Span,
        dates: tuple[str, ...],
        reach: Callable[[Bounds], Bounds] = _same,
    ) -> ibis.Table: ...

    def start(self, table: ibis.Table) -> ir.DateValue: ...

    def end(self, table: ibis.Table) -> ir.DateValue: ...


@dataclass(frozen=True)
class OnePeriod:
    """Records placed in one period: filtered by its dates, no period columns."""

    period: Period

    @property
    def keys(self) -> list[str]:
        return []

    def place(
        self,
        table: ibis.Table,
        span: Span,
        dates: tuple[str, ...],
        reach: Callable[[Bounds], Bounds] = _same,
    ) -> ibis.Table:
        return table.filter(in_period(table, span, dates, reach(self.period)))

    def start(self, table: ibis.Table) -> ir.DateValue:
        return as_date(self.period.start)

    def end(self, table: ibis.Table) -> ir.DateValue:
        return as_date(self.period.end)


@dataclass(frozen=True)
class PeriodSeries:
    """Several periods computed together: a small table of them, joined to the records.

    Each record of a period carries ``PERIOD_KEY`` (the period's position here),
    ``PERIOD_START`` and ``PERIOD_END``; a record of several periods (a child looked after at
    the end of two months) appears once per period.
    """

    periods: tuple[Period, ...]

    @cached_property
    def table(self) -> ibis.Table:
        """The periods as a table (one per series: the engine registers it once)."""
        return ibis.memtable(
            pa.table(
                {
                    PERIOD_KEY: pa.array(range(len(self.periods)), pa.int64()),
                    PERIOD_START: pa.array([p.start for p in self.periods], pa.date32()),
                    PERIOD_END: pa.array([p.end for p in self.periods], pa.date32()),
                }
            )
        )

    def tag(self, position: int) -> dict[str, ir.Value]:
        """The period columns as literals, for one period's own records."""
        return {
            PERIOD_KEY: ibis.literal(position, type="int64"),
            PERIOD_END: ibis.literal(self.periods[position].end, type="date"),
        }

    @property
    def keys(self) -> list[str]:
        return [PERIOD_KEY, PERIOD_START, PERIOD_END]

    def start(self, table: ibis.Table) -> ir.DateValue:
        return table[PERIOD_START]

    def end(self, table: ibis.Table) -> ir.DateValue:
        return table[PERIOD_END]

    def place(
        self,
        table: ibis.Table,
        span: Span,
        dates: tuple[str, ...],
        reach: Callable[[Bounds], Bounds] = _same,
    ) -> ibis.Table:
        """Each row of ``table`` once for every period it belongs to (one join).

        ``reach`` turns a period's bounds into those the rows are tested against (e.g. the
        three years ending with the period).
        """
        p = self.table
        bounds = reach(Window(p[PERIOD_START], p[PERIOD_END]))
        return table.join(p, in_period(table, span, dates, bounds))
