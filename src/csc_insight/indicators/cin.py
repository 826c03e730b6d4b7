"""Children in need: referrals, re-referrals and assessments (DfE CIN census tables)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from csc_insight.indicators.expressions import during, open_at, with_working_days
from csc_insight.indicators.periods import Period
from csc_insight.indicators.registry import Indicator, Polarity, Tables, Unit, register


def _referrals_in(t: Tables, period: Period) -> ibis.Table:
    r = t.referrals
    return r.filter(during(r.referral_date, period))


@register
class Referrals(Indicator):
    """Referrals received in the period."""

    id = "cin.referrals"
    title = "Referrals"
    definition = "Referrals to children's social care received during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    dfe_table = "c1"
    tables = ("referrals",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        return _referrals_in(t, period).count()


@register
class ReReferralPercent(Indicator):
    """Share of referrals within 12 months of the same child's previous referral."""

    id = "cin.rereferral_pct"
    title = "Re-referrals within 12 months"
    definition = (
        "Referrals in the period that came within 12 months of the same child's previous "
        "referral, as a percentage of all referrals in the period."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    dfe_table = "c1"
    tables = ("referrals",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        r = t.referrals
        window = ibis.window(
            group_by=[r.la_code, r.child_id], order_by=[r.referral_date, r.referral_id]
        )
        r = r.mutate(previous_referral=r.referral_date.lag().over(window))
        r = r.filter(during(r.referral_date, period))
        within = r.previous_referral.notnull() & (
            r.previous_referral + ibis.interval(years=1) >= r.referral_date
        )
        return r.filter(within).count()

    def denominator(self, t: Tables, period: Period) -> ir.Scalar:
        return _referrals_in(t, period).count()


@register
class NoFurtherActionPercent(Indicator):
    """Share of referrals closed with no further action."""

    id = "cin.nfa_pct"
    title = "Referrals with no further action"
    definition = "Referrals in the period that resulted in no further action, as a percentage."
    unit = Unit.PERCENT
    polarity = Polarity.NEITHER
    dfe_table = "c1"
    tables = ("referrals",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        r = _referrals_in(t, period)
        return r.filter(r.referral_nfa.fill_null(False)).count()

    def denominator(self, t: Tables, period: Period) -> ir.Scalar:
        return _referrals_in(t, period).count()


def _authorised_in(t: Tables, period: Period) -> ibis.Table:
    a = t.assessments
    return a.filter(during(a.authorised_date, period))


@register
class AssessmentsWithin45WorkingDays(Indicator):
    """Share of assessments completed within 45 working days of their start."""

    id = "cin.assessment_45wd_pct"
    title = "Assessments completed within 45 working days"
    definition = (
        "Assessments authorised in the period that were completed within 45 working days of "
        "their start (start day counted as day 0), as a percentage of assessments authorised."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    dfe_table = "c2"
    tables = ("assessments",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        a = with_working_days(_authorised_in(t, period), "start_date", "authorised_date")
        return a.filter(a.working_days <= 45).count()

    def denominator(self, t: Tables, period: Period) -> ir.Scalar:
        return _authorised_in(t, period).count()


@register
class AssessmentMedianWorkingDays(Indicator):
    """Median working days from assessment start to authorisation."""

    id = "cin.assessment_median_wd"
    title = "Median assessment duration"
    definition = (
        "Median number of working days from start to authorisation of the assessments "
        "authorised in the period."
    )
    unit = Unit.WORKING_DAYS
    polarity = Polarity.LOWER_IS_BETTER
    dfe_table = "c2"
    tables = ("assessments",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        a = with_working_days(_authorised_in(t, period), "start_date", "authorised_date")
        return a.working_days.median()


@register
class ChildrenInNeedAt31March(Indicator):
    """Children in need at the end of the period."""

    id = "cin.children_in_need_31mar"
    title = "Children in need at 31 March"
    definition = (
        "Children with an open episode of need (referral not yet closed) on the last day of "
        "the period, including those on plans and looked after."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    dfe_table = "b1"
    tables = ("referrals",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        r = t.referrals
        r = r.filter(open_at(r.referral_date, r.closure_date, period.end))
        return r.select("la_code", "child_id").distinct().count()
