"""Local services: how long children wait, how many are helped and how often."""

from __future__ import annotations

from typing import ClassVar

import ibis

from csc_insight.indicators.expressions import Span, days_between
from csc_insight.indicators.registry import (
    InPeriod,
    Polarity,
    Statistic,
    Tables,
    Unit,
    register,
)


class _Services(InPeriod):
    """Local service involvements."""

    tables: ClassVar[tuple[str, ...]] = ("service_involvements",)
    record_dimensions: ClassVar[tuple[str, ...]] = ("service", "team")


@register
class ChildrenHelped(_Services):
    """Children who received a local service during the period."""

    id = "svc.children_helped"
    title = "Children helped by local services"
    definition = (
        "Children who received any local service at some point in the period (started on "
        "or before its end and not ended before its start)."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    per_child = True
    span = Span.OVERLAPS
    dates = ("date_started", "date_ended")

    def candidates(self, t: Tables) -> ibis.Table:
        s = t.service_involvements
        return s.filter(s.date_started.notnull())


class _Waits(_Services):
    """Services that started in the period, with the days waited since the request."""

    unit = Unit.DAYS
    polarity = Polarity.LOWER_IS_BETTER
    age_at = "date_requested"
    dates = ("date_started",)

    def candidates(self, t: Tables) -> ibis.Table:
        s = t.service_involvements
        return s.mutate(value=days_between(s.date_requested, s.date_started).cast("float64"))


@register
class MedianWait(_Waits):
    """Median days from a request for a service to its start."""

    id = "svc.wait_median_days"
    title = "Median wait for a local service"
    definition = (
        "Median number of calendar days from the request for a service to its first "
        "delivery, for services that started in the period."
    )
    statistic = Statistic.MEDIAN


@register
class LongWait(_Waits):
    """The wait nine in ten children were seen within."""

    id = "svc.wait_p90_days"
    title = "Longest waits for a local service (90th percentile)"
    definition = (
        "90th percentile of calendar days from request to first delivery, for services that "
        "started in the period: nine in ten children waited no longer than this."
    )
    statistic = Statistic.P90


@register
class RequestsPerChild(_Services):
    """Average number of requests each child makes of a service."""

    id = "svc.contacts_per_child"
    title = "Requests per child"
    definition = (
        "Average number of requests per child to each local service, among children with at "
        "least one request to that service in the period: how often the same children come "
        "back."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    statistic = Statistic.MEAN
    record_dimensions = ("service",)
    dates = ("date_requested",)

    def candidates(self, t: Tables) -> ibis.Table:
        return t.service_involvements

    def within(self, records: ibis.Table, keys: list[str], end: ibis.Value) -> ibis.Table:
        per_child = records.group_by([*keys, "la_code", "child_id", "service"]).aggregate(
            n=records.count()
        )
        return per_child.mutate(value=per_child.n.cast("float64"))


@register
class RepeatUse(_Services):
    """Share of requests from children who used the same service in the previous year."""

    id = "svc.repeat_use_pct"
    title = "Repeat use of a service within 12 months"
    definition = (
        "Requests in the period for a child who had an earlier request to the same service "
        "within the 12 months before, as a percentage of requests in the period."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE
    age_at = "date_requested"
    dates = ("date_requested",)

    def candidates(self, t: Tables) -> ibis.Table:
        # Earlier requests before the period count too: found before requests are placed.
        s = t.service_involvements
        window = ibis.window(
            group_by=[s.la_code, s.child_id, s.service],
            order_by=[s.date_requested, s.involvement_id],
        )
        s = s.mutate(previous_request=s.date_requested.lag().over(window))
        within = s.previous_request.notnull() & (
            s.previous_request + ibis.interval(years=1) >= s.date_requested
        )
        return s.mutate(hit=within)


@register
class OpenCaseload(_Services):
    """Children's service involvements open at the end of the period."""

    id = "svc.open_caseload"
    title = "Open caseload of local services"
    definition = "Service involvements started and not yet ended on the last day of the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    span = Span.OPEN_AT_END
    dates = ("date_started", "date_ended")

    def candidates(self, t: Tables) -> ibis.Table:
        s = t.service_involvements
        return s.filter(s.date_started.notnull())
