"""Reusable pieces of indicator expressions."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from csc_insight.indicators.periods import Period
from csc_insight.indicators.workdays import calendar

# Children looked after only under a series of short breaks are excluded from DfE's figures.
SHORT_BREAK_LEGAL_STATUSES = ("V3", "V4")


def during(column: ir.DateColumn, period: Period) -> ir.BooleanColumn:
    """The date falls within the period."""
    return column.between(period.start, period.end)


def open_at(start: ir.DateColumn, end: ir.DateColumn, day: object) -> ir.BooleanColumn:
    """Something that started on or before ``day`` and had not ended by then."""
    return (start <= day) & (end.isnull() | (end > day))


def with_working_days(
    table: ibis.Table, start: str, end: str, name: str = "working_days"
) -> ibis.Table:
    """``table`` with a column counting working days from ``start`` (day 0) to ``end``."""
    cal = calendar()
    starts = cal.select(_wd_start_date=cal.calendar_date, _wd_start_n=cal.workday_number)
    ends = cal.select(_wd_end_date=cal.calendar_date, _wd_end_n=cal.workday_number)
    joined = table.join(starts, table[start] == starts._wd_start_date).join(
        ends, table[end] == ends._wd_end_date
    )
    return joined.mutate(**{name: joined._wd_end_n - joined._wd_start_n}).drop(
        "_wd_start_date", "_wd_start_n", "_wd_end_date", "_wd_end_n"
    )
