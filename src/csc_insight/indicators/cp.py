"""Child protection plans (DfE CIN census tables D)."""

from __future__ import annotations

import ibis.expr.types as ir

from csc_insight.indicators.expressions import during, open_at
from csc_insight.indicators.periods import Period
from csc_insight.indicators.registry import Indicator, Polarity, Tables, Unit, register


@register
class PlansAt31March(Indicator):
    """Children on a child protection plan at the end of the period."""

    id = "cp.plans_31mar"
    title = "Children on a child protection plan at 31 March"
    definition = "Children whose child protection plan was open on the last day of the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    dfe_table = "d1"
    tables = ("cp_plans",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        p = t.cp_plans
        p = p.filter(open_at(p.start_date, p.end_date, period.end))
        return p.select("la_code", "child_id").distinct().count()


@register
class PlansStarted(Indicator):
    """Child protection plans that started in the period."""

    id = "cp.plans_started"
    title = "Child protection plans started"
    definition = "Child protection plans that started during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    dfe_table = "d1"
    tables = ("cp_plans",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        p = t.cp_plans
        return p.filter(during(p.start_date, period)).count()
