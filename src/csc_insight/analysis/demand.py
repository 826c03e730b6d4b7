"""Demand over time, in one call: the series, its seasonality, breaks and forecast.

These are the functions the command line (``csc-insight demand``) and the dashboard call;
each returns plain dictionaries ready for JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from csc_insight.analysis import breaks, forecast, seasonal, series
from csc_insight.analysis.terms import Event, TermCalendar
from csc_insight.errors import CscInsightError
from csc_insight.warehouse.store import Warehouse

# Series whose sources include schools: the school-term effect is also given for those.
SOURCED = {"referrals": "source", "contacts": "source"}


def parse_range(text: str) -> Event:
    """``2020-03-23:2020-09-01`` as an event (both days included)."""
    try:
        first, last = (date.fromisoformat(p.strip()) for p in text.split(":"))
    except ValueError:
        raise CscInsightError(
            f"An interruption is two dates joined by a colon, such as 2020-03-23:2020-09-01, "
            f"not {text!r}."
        ) from None
    if last < first:
        raise CscInsightError(f"The interruption {text} ends before it starts.")
    return Event("the interruption", first, last)


def _clean(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def _counts(s: pd.Series) -> list[dict[str, Any]]:
    return [
        {"period": pd.Timestamp(d).date().isoformat(), "count": int(v)}
        for d, v in zip(s.index, s.to_numpy(), strict=True)
    ]


def _term_ratio(s: pd.Series, calendar: TermCalendar, what: str) -> dict[str, Any] | None:
    r = seasonal.term_ratio(s, calendar)
    if r is None:
        return None
    return {
        "ratio": r.ratio,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "term_weeks": r.term_weeks,
        "holiday_weeks": r.holiday_weeks,
        "mean_term_week": _clean(r.mean_term_week),
        "mean_holiday_week": _clean(r.mean_holiday_week),
        "method": r.method,
        "sentence": r.sentence(what),
    }


def _decomposition(s: pd.Series, freq: str) -> dict[str, Any] | None:
    d = seasonal.decompose(s, freq)
    if d is None:
        return None
    return {
        "period": d.period,
        "method": "STL (robust), statsmodels",
        "seasonal_strength": d.seasonal_strength,
        "rows": [
            {
                "period": i.date().isoformat(),
                "observed": float(d.observed[i]),
                "trend": float(d.trend[i]),
                "seasonal": float(d.seasonal[i]),
                "remainder": float(d.remainder[i]),
            }
            for i in d.observed.index
        ],
    }


def interruption_dict(result: breaks.Interruption, what: str) -> dict[str, Any]:
    """An interruption estimate as JSON-ready values."""
    return {
        "event": {
            "name": result.event.name,
            "start": result.event.start.isoformat(),
            "end": result.event.end.isoformat(),
        },
        "level_change": result.during.as_dict(),
        "recovery": None if result.recovery is None else result.recovery.as_dict(),
        "recovery_weeks": result.recovery_weeks,
        "after_recovery": None if result.after is None else result.after.as_dict(),
        "observed_during": result.observed_during,
        "expected_during": result.expected_during,
        "expected_during_ci": list(result.expected_during_ci),
        "method": result.method,
        "sentence": result.sentence(what),
    }


def _group(
    weekly: pd.Series, monthly: pd.Series, calendar: TermCalendar, what: str, freq: str
) -> dict[str, Any]:
    base = weekly if freq == "W" else monthly
    out: dict[str, Any] = {
        "total": int(base.sum()),
        "counts": _counts(base),
        "decomposition": _decomposition(base, freq),
        "term_ratio": _term_ratio(weekly, calendar, what),
        "breaks": [
            {
                "date": b.date.isoformat(),
                "level_before": b.level_before,
                "level_after": b.level_after,
                "change_pct": _clean(b.change_pct),
            }
            for b in breaks.find_breaks(base, freq)
        ],
    }
    fc = forecast.forecast(monthly, calendar)
    acc = forecast.backtest(monthly, calendar)
    out["forecast"] = None if fc is None else {"model": fc.model, "months": fc.as_records()}
    out["backtest"] = None if acc is None else acc.as_dict()
    return out


def demand(
    warehouse: Warehouse,
    name: str,
    calendar: TermCalendar | None = None,
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    freq: str = "W",
    max_groups: int = 12,
) -> dict[str, Any]:
    """Everything about one demand series: counts, decomposition, school-term ratio with
    its interval, detected breaks, forecast with intervals and back-test scores; per group
    when ``by`` is given (the ``max_groups`` largest, the rest added together as Other)."""
    calendar = calendar or TermCalendar()
    weekly = series.demand_series(warehouse, name, "W", by, filters)
    monthly = series.demand_series(warehouse, name, "M", by, filters)
    what = weekly.title.lower() if by is None else ""
    groups: dict[str, Any] = {}
    columns = list(weekly.counts.columns)
    shown, rest = columns[:max_groups], columns[max_groups:]
    for col in shown:
        label = what or f"{weekly.title.lower()} ({by} {col})"
        groups[col] = _group(
            weekly.counts[col],
            monthly.counts.get(col, monthly.counts.iloc[:, 0] * 0),
            calendar,
            label,
            freq,
        )
    if rest:
        w_other = weekly.counts[rest].sum(axis=1)
        m_other = monthly.counts[[c for c in rest if c in monthly.counts]].sum(axis=1)
        groups["Other"] = _group(w_other, m_other, calendar, f"other {by} groups", freq)
    result: dict[str, Any] = {
        "series": weekly.name,
        "title": weekly.title,
        "freq": freq,
        "by": by,
        "filters": {k: list(v) for k, v in weekly.filters.items()},
        "first": weekly.first.isoformat(),
        "last": weekly.last.isoformat(),
        "groups": groups,
    }
    if name in SOURCED and by is None and not filters:
        school = series.demand_series(
            warehouse, name, "W", filters={SOURCED[name]: series.SCHOOL_SOURCES}
        )
        result["term_ratio_school_sources"] = _term_ratio(
            school.counts["all"], calendar, f"{weekly.title.lower()} from schools"
        )
    return result


def demand_interruption(
    warehouse: Warehouse,
    name: str,
    event: Event,
    calendar: TermCalendar | None = None,
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    freq: str = "W",
    recovery_weeks: int = 8,
) -> dict[str, Any]:
    """The level change during ``event`` and the recovery after it, per group."""
    calendar = calendar or TermCalendar()
    s = series.demand_series(warehouse, name, freq, by, filters)
    groups = {}
    for col in s.counts.columns:
        what = s.title.lower() if by is None else f"{s.title.lower()} ({by} {col})"
        try:
            r = breaks.interruption(s.counts[col], freq, event, calendar, recovery_weeks)
        except CscInsightError as exc:
            groups[col] = {"error": str(exc)}
            continue
        groups[col] = interruption_dict(r, what)
    return {
        "series": s.name,
        "title": s.title,
        "freq": freq,
        "by": by,
        "filters": {k: list(v) for k, v in s.filters.items()},
        "first": s.first.isoformat(),
        "last": s.last.isoformat(),
        "groups": groups,
    }


__all__ = ["demand", "demand_interruption", "interruption_dict", "parse_range"]
