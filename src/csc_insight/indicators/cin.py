"""Children in need: referrals, assessments and section 47 enquiries (DfE CIN census)."""

from __future__ import annotations

from typing import ClassVar

import ibis

from csc_insight.indicators.expressions import Span, previous_in_series, with_working_days
from csc_insight.indicators.registry import (
    InPeriod,
    Polarity,
    Statistic,
    Tables,
    Unit,
    register,
)


class _ReferralsInPeriod(InPeriod):
    """Referrals received in the period (shared by the referral measures)."""

    tables: ClassVar[tuple[str, ...]] = ("referrals",)
    dfe_table = "c1"
    age_at = "referral_date"
    record_dimensions: ClassVar[tuple[str, ...]] = ("referral_source", "team")
    dates = ("referral_date",)

    def candidates(self, t: Tables) -> ibis.Table:
        return t.referrals


@register
class Referrals(_ReferralsInPeriod):
    """Referrals received in the period."""

    id = "cin.referrals"
    title = "Referrals"
    definition = "Referrals to children's social care received during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class ReferralRate(_ReferralsInPeriod):
    """Referrals per 10,000 children."""

    id = "cin.referral_rate"
    title = "Referral rate"
    definition = (
        "Referrals received during the period per 10,000 children aged 0 to 17 (ONS "
        "mid-year estimate for the year the period starts in)."
    )
    unit = Unit.RATE_PER_10K
    polarity = Polarity.NEITHER
    statistic = Statistic.RATE
    tables = ("referrals", "population")


@register
class ReReferralPercent(_ReferralsInPeriod):
    """Share of referrals within 12 months of the same child's previous referral."""

    id = "cin.rereferral_pct"
    title = "Re-referrals within 12 months"
    definition = (
        "Referrals in the period that came within 12 months of the same child's previous "
        "referral, as a percentage of all referrals in the period."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        # The previous referral is looked for among all of the child's referrals, before
        # the period too, so it is found before referrals are placed in periods.
        r = previous_in_series(
            t.referrals, "referral_date", "referral_date", "previous_referral", "referral_id"
        )
        within = r.previous_referral.notnull() & (
            r.previous_referral + ibis.interval(years=1) >= r.referral_date
        )
        return r.mutate(hit=within)


@register
class NoFurtherActionPercent(_ReferralsInPeriod):
    """Share of referrals closed with no further action."""

    id = "cin.nfa_pct"
    title = "Referrals with no further action"
    definition = "Referrals in the period that resulted in no further action, as a percentage."
    unit = Unit.PERCENT
    polarity = Polarity.NEITHER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        r = t.referrals
        return r.mutate(hit=r.referral_nfa.fill_null(False))


class _AssessmentsAuthorised(InPeriod):
    """Assessments authorised (completed) in the period, with their working days."""

    tables: ClassVar[tuple[str, ...]] = ("assessments",)
    dfe_table = "c2"
    age_at = "authorised_date"
    record_dimensions: ClassVar[tuple[str, ...]] = ("team",)
    dates = ("authorised_date",)

    def candidates(self, t: Tables) -> ibis.Table:
        return with_working_days(t.assessments, "start_date", "authorised_date")


@register
class AssessmentsCompleted(_AssessmentsAuthorised):
    """Assessments completed in the period."""

    id = "cin.assessments_completed"
    title = "Assessments completed"
    definition = "Children and family assessments authorised (completed) during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class AssessmentsWithin45WorkingDays(_AssessmentsAuthorised):
    """Share of assessments completed within 45 working days of their start."""

    id = "cin.assessment_45wd_pct"
    title = "Assessments completed within 45 working days"
    definition = (
        "Assessments authorised in the period that were completed within 45 working days of "
        "their start (start day counted as day 0), as a percentage of assessments authorised."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        a = super().candidates(t)
        return a.mutate(hit=a.working_days <= 45)


@register
class AssessmentMedianWorkingDays(_AssessmentsAuthorised):
    """Median working days from assessment start to authorisation."""

    id = "cin.assessment_median_wd"
    title = "Median assessment duration"
    definition = (
        "Median number of working days from start to authorisation of the assessments "
        "authorised in the period."
    )
    unit = Unit.WORKING_DAYS
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.MEDIAN

    def candidates(self, t: Tables) -> ibis.Table:
        a = super().candidates(t)
        return a.mutate(value=a.working_days)


@register
class Section47Enquiries(InPeriod):
    """Section 47 enquiries started in the period."""

    id = "cin.s47_enquiries"
    title = "Section 47 enquiries"
    definition = "Section 47 enquiries started (strategy discussion held) during the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    tables = ("section47",)
    dfe_table = "d2"
    age_at = "strategy_date"
    dates = ("strategy_date",)

    def candidates(self, t: Tables) -> ibis.Table:
        return t.section47


@register
class InitialConferencesWithin15WorkingDays(InPeriod):
    """Share of initial child protection conferences held within 15 working days."""

    id = "cin.icpc_15wd_pct"
    title = "Initial child protection conferences within 15 working days"
    definition = (
        "Initial child protection conferences held in the period within 15 working days of "
        "the strategy discussion that started the section 47 enquiry, as a percentage of all "
        "initial conferences held in the period."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    statistic = Statistic.SHARE
    tables = ("section47",)
    dfe_table = "d2"
    age_at = "icpc_date"
    dates = ("icpc_date",)

    def candidates(self, t: Tables) -> ibis.Table:
        s = with_working_days(t.section47, "strategy_date", "icpc_date")
        return s.mutate(hit=s.working_days <= 15)


class _InNeedAt31March(InPeriod):
    """Children with an open episode of need at the end of the period."""

    tables: ClassVar[tuple[str, ...]] = ("referrals",)
    dfe_table = "b1"
    per_child = True
    span = Span.OPEN_AT_END
    dates = ("referral_date", "closure_date")

    def candidates(self, t: Tables) -> ibis.Table:
        return t.referrals


@register
class ChildrenInNeedAt31March(_InNeedAt31March):
    """Children in need at the end of the period."""

    id = "cin.children_in_need_31mar"
    title = "Children in need at 31 March"
    definition = (
        "Children with an open episode of need (referral not yet closed) on the last day of "
        "the period, including those on plans and looked after."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class ChildrenInNeedRate(_InNeedAt31March):
    """Children in need at the end of the period per 10,000 children."""

    id = "cin.cin_rate_31mar"
    title = "Children in need at 31 March, rate"
    definition = "Children in need on the last day of the period per 10,000 children aged 0 to 17."
    unit = Unit.RATE_PER_10K
    polarity = Polarity.NEITHER
    statistic = Statistic.RATE
    tables = ("referrals", "population")
