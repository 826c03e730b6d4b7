"""Child protection plans (DfE CIN census, tables D)."""

from __future__ import annotations

from typing import ClassVar

import ibis

from csc_insight.indicators.expressions import (
    Placement,
    Span,
    previous_in_series,
    with_working_days,
)
from csc_insight.indicators.registry import (
    InPeriod,
    Placed,
    Polarity,
    Statistic,
    Tables,
    Unit,
    register,
)


class _PlansAt31March(InPeriod):
    """Children on a plan at the end of the period."""

    tables: ClassVar[tuple[str, ...]] = ("cp_plans",)
    dfe_table: ClassVar[str | None] = "d1"
    per_child = True
    span = Span.OPEN_AT_END
    dates = ("start_date", "end_date")

    def candidates(self, t: Tables) -> ibis.Table:
        return t.cp_plans


@register
class PlansAt31March(_PlansAt31March):
    """Children on a child protection plan at the end of the period."""

    id = "cp.plans_31mar"
    title = "Children on a child protection plan at 31 March"
    definition = "Children whose child protection plan was open on the last day of the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class PlanRate(_PlansAt31March):
    """Children on a plan at the end of the period per 10,000 children."""

    id = "cp.plan_rate_31mar"
    title = "Children on a child protection plan at 31 March, rate"
    definition = (
        "Children on a child protection plan on the last day of the period per 10,000 "
        "children aged 0 to 17."
    )
    unit = Unit.RATE_PER_10K
    polarity = Polarity.NEITHER
    statistic = Statistic.RATE
    tables = ("cp_plans", "population")


class _PlansStarting(InPeriod):
    """Plans that started in the period, with the child's previous plan."""

    tables: ClassVar[tuple[str, ...]] = ("cp_plans",)
    dfe_table = "d3"
    age_at = "start_date"
    dates = ("start_date",)

    def candidates(self, t: Tables) -> ibis.Table:
        # The previous plan may be before the period: found before plans are placed in it.
        p = previous_in_series(t.cp_plans, "start_date", "end_date", "previous_end", "plan_id")
        return previous_in_series(p, "start_date", "start_date", "previous_start", "plan_id")


@register
class PlansStarted(_PlansStarting):
    """Child protection plans that started in the period."""

    id = "cp.plans_started"
    title = "Child protection plans started"
    definition = "Child protection plans that started during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class RepeatPlans(_PlansStarting):
    """Share of plans starting that were a second or subsequent plan, ever."""

    id = "cp.repeat_plan_pct"
    title = "Second or subsequent child protection plans"
    definition = (
        "Plans starting in the period that were the child's second or subsequent plan ever "
        "(an earlier plan in the data, or previous plans recorded in the CIN census), as a "
        "percentage of plans starting."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        p = super().candidates(t)
        return p.mutate(hit=p.previous_start.notnull() | (p.previous_plans.fill_null(0) > 0))


@register
class RepeatPlansWithinTwoYears(_PlansStarting):
    """Share of plans starting within two years of the child's previous plan ending."""

    id = "cp.repeat_plan_2y_pct"
    title = "Repeat child protection plans within two years"
    definition = (
        "Plans starting in the period within two years of the end of the same child's "
        "previous plan, as a percentage of plans starting."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        p = super().candidates(t)
        within = p.previous_end.notnull() & (
            p.previous_end + ibis.interval(years=2) >= p.start_date
        )
        return p.mutate(hit=within)


class _PlansEnding(InPeriod):
    """Plans that ended in the period."""

    tables: ClassVar[tuple[str, ...]] = ("cp_plans",)
    dfe_table = "d4"
    age_at = "end_date"
    dates = ("end_date",)

    def candidates(self, t: Tables) -> ibis.Table:
        return t.cp_plans


@register
class PlansEnded(_PlansEnding):
    """Child protection plans that ended in the period."""

    id = "cp.plans_ended"
    title = "Child protection plans ended"
    definition = "Child protection plans that ended during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class PlansEndedAfterTwoYears(_PlansEnding):
    """Share of plans ending that had lasted two years or more."""

    id = "cp.ended_2y_plus_pct"
    title = "Plans ending that lasted two years or more"
    definition = (
        "Child protection plans ending in the period that had lasted two years or more, as a "
        "percentage of plans ending."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        p = super().candidates(t)
        return p.mutate(hit=p.start_date + ibis.interval(years=2) <= p.end_date)


# Many authorities expect a child on a plan to be seen at least every 10 working days.
VISIT_STANDARD_WORKING_DAYS = 10


@register
class TimelyVisits(Placed):
    """Share of children on a plan seen within 10 working days of the period's end."""

    id = "cp.visits_timely_pct"
    title = "Children on a child protection plan seen within 10 working days"
    definition = (
        "Children on a child protection plan on the last day of the period whose latest "
        "recorded visit was within 10 working days before it, as a percentage of children on "
        "a plan with any visit recorded (needs visit dates: Annex A list 7 'Date Child Was "
        "Last Seen')."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    statistic = Statistic.SHARE
    per_child = False
    tables = ("cp_plans", "cp_visits")
    dfe_table = None

    def placed(self, t: Tables, at: Placement) -> ibis.Table:
        keys = [*at.keys, "la_code", "child_id"]
        plans = at.place(t.cp_plans, _PlansAt31March.span, _PlansAt31March.dates)
        on_plan = plans.select(*keys).distinct()
        v = at.place(t.cp_visits, Span.BEGUN, ("visit_date",))
        latest = v.group_by(keys).aggregate(last_seen=v.visit_date.max())
        seen = on_plan.join(latest, keys)
        seen = with_working_days(seen.mutate(period_end=at.end(seen)), "last_seen", "period_end")
        return seen.mutate(hit=seen.working_days <= VISIT_STANDARD_WORKING_DAYS)
