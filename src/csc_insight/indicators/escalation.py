"""Children whose pattern of contact with services suggests they need more intensive help.

The seed article: data "can show how often particular children and families are using a
service", which can tell providers to escalate some cases to more intensive support. This is
a child-level list for analysts, never shown to viewers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import ibis

from csc_insight.indicators.registry import Indicator, Polarity, Tables, Unit, register


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day if it is short)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class EscalationThresholds:
    """How much contact in the last 12 months makes a child a candidate (configurable)."""

    referrals: int = 3
    service_requests: int = 2
    months: int = 12


@register
class EscalationCandidates(Indicator):
    """Children with repeated referrals or repeated early help in the last 12 months."""

    id = "escalation.candidates"
    title = "Children who may need more intensive support"
    definition = (
        "A child-level list (analysts only) of children with three or more referrals, or two "
        "or more requests for local services, in the 12 months up to the end of the period "
        "(thresholds set per authority), each with the reason."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    tables = ("referrals", "service_involvements")
    child_level = True
    child_level_fields = (
        ("referrals", ("la_code", "child_id", "referral_date")),
        ("service_involvements", ("la_code", "child_id", "service", "date_requested")),
    )


def candidates(
    t: Tables, as_of: date, thresholds: EscalationThresholds | None = None
) -> list[dict[str, object]]:
    """The escalation list on ``as_of``: one row per child with counts and a plain reason."""
    th = thresholds or EscalationThresholds()
    since = months_before(as_of, th.months)
    r = t.referrals
    r = r.filter(r.referral_date.between(since, as_of))
    refs = r.group_by(["la_code", "child_id"]).aggregate(referrals=r.count())
    s = t.service_involvements
    s = s.filter(s.date_requested.between(since, as_of))
    svc = s.group_by(["la_code", "child_id"]).aggregate(
        service_requests=s.count(), services=s.service.collect()
    )
    both = refs.outer_join(svc, ["la_code", "child_id"])
    both = both.mutate(
        la_code=ibis.coalesce(both.la_code, both.la_code_right),
        child_id=ibis.coalesce(both.child_id, both.child_id_right),
        referrals=both.referrals.fill_null(0),
        service_requests=both.service_requests.fill_null(0),
    ).drop("la_code_right", "child_id_right")
    flagged = both.filter(
        (both.referrals >= th.referrals) | (both.service_requests >= th.service_requests)
    ).order_by([ibis.desc("referrals"), ibis.desc("service_requests"), "child_id"])
    rows = flagged.to_pyarrow().to_pylist()
    for row in rows:
        # Sorted here: engines concatenate in no particular order (group_concat has none).
        row["services"] = ", ".join(sorted(row["services"])) if row["services"] else None
        reasons = []
        if row["referrals"] >= th.referrals:
            reasons.append(f"{row['referrals']} referrals in {th.months} months")
        if row["service_requests"] >= th.service_requests:
            reasons.append(
                f"{row['service_requests']} requests for local services in {th.months} months"
                f" ({row['services']})"
            )
        row["reason"] = "; ".join(reasons)
    return rows
