"""Working days in England: weekends and England and Wales bank holidays excluded.

The start day is day 0, as DfE counts timeliness (an assessment started on a Monday and
authorised on the Tuesday took one working day). Engines count working days by joining a
calendar table whose ``workday_number`` is the number of working days up to each date, so the
same expression runs on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
import ibis
import numpy as np
import pyarrow as pa

from csc_insight.warehouse.compiled import named_table

CALENDAR_FIRST_YEAR = 2000
CALENDAR_LAST_YEAR = 2035


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays for the calendar's years (offline, from `holidays`)."""
    years = range(CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR + 1)
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=years))


def is_working_day(day: date) -> bool:
    """True on a weekday that is not a bank holiday."""
    return day.weekday() < 5 and day not in bank_holidays()


def working_days_between(start: date, end: date) -> int:
    """Working days from ``start`` (day 0) to ``end``; negative if ``end`` is earlier."""
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


@lru_cache(maxsize=1)
def calendar_arrow() -> pa.Table:
    """One row per day: the date and the number of working days up to and including it."""
    first = np.datetime64(date(CALENDAR_FIRST_YEAR, 1, 1), "D")
    last = np.datetime64(date(CALENDAR_LAST_YEAR, 12, 31), "D")
    days = np.arange(first, last + 1, dtype="datetime64[D]")
    holidays_ = np.array(sorted(bank_holidays()), dtype="datetime64[D]")
    working = np.is_busday(days, holidays=holidays_)
    numbers = np.cumsum(working, dtype=np.int64)
    # From the buffers: pa.array() on a NumPy array imports pandas (a quarter of a second).
    return pa.table(
        {
            "calendar_date": pa.Array.from_buffers(
                pa.date32(), len(days), [None, pa.py_buffer(days.astype(np.int32))]
            ),
            "workday_number": pa.Array.from_buffers(
                pa.int64(), len(numbers), [None, pa.py_buffer(numbers)]
            ),
        }
    )


@lru_cache(maxsize=1)
def calendar() -> ibis.Table:
    """The working-day calendar as an Ibis table (joined into indicator expressions).

    One table object for the process, so an expression that joins it several times (a union
    of rules or indicators) ships it to the engine once; named, so compiled SQL can find it.
    """
    return named_table(calendar_arrow)
