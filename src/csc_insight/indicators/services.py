"""Local services: how many children they help and how long they wait."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from csc_insight.indicators.expressions import during
from csc_insight.indicators.periods import Period
from csc_insight.indicators.registry import Indicator, Polarity, Tables, Unit, register


def _started_in(t: Tables, period: Period) -> ibis.Table:
    s = t.service_involvements
    return s.filter(during(s.date_started, period))


@register
class ChildrenHelped(Indicator):
    """Children who received a local service during the period."""

    id = "svc.children_helped"
    title = "Children helped by local services"
    definition = (
        "Children who received any local service at some point in the period (started on "
        "or before its end and not ended before its start)."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    tables = ("service_involvements",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        s = t.service_involvements
        active = (s.date_started <= period.end) & (
            s.date_ended.isnull() | (s.date_ended >= period.start)
        )
        return s.filter(active).select("la_code", "child_id").distinct().count()


@register
class MedianWait(Indicator):
    """Median days from a request for a service to its start."""

    id = "svc.wait_median_days"
    title = "Median wait for a local service"
    definition = (
        "Median number of calendar days from the request for a service to its first "
        "delivery, for services that started in the period."
    )
    unit = Unit.DAYS
    polarity = Polarity.LOWER_IS_BETTER
    tables = ("service_involvements",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        s = _started_in(t, period)
        return s.date_started.delta(s.date_requested, unit="day").median()
