"""Reusable pieces of indicator expressions."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from csc_insight.indicators.periods import Period
from csc_insight.indicators.workdays import calendar

# Children looked after only under a series of short breaks are excluded from DfE's figures.
SHORT_BREAK_LEGAL_STATUSES = ("V3", "V4")


def during(column: ir.DateValue, period: Period) -> ir.BooleanValue:
    """The date falls within the period."""
    return column.between(period.start, period.end)


def open_at(start: ir.DateValue, end: ir.DateValue, day: object) -> ir.BooleanValue:
    """Something that started on or before ``day`` and had not ended by then."""
    return (start <= day) & (end.isnull() | (end > day))


def overlaps(start: ir.DateValue, end: ir.DateValue, period: Period) -> ir.BooleanValue:
    """Something open at any point of the period."""
    return (start <= period.end) & (end.isnull() | (end >= period.start))


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
