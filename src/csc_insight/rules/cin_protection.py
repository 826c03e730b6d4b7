"""Rules on section 47 enquiries, child protection plans and reviews, and CIN plans."""

from __future__ import annotations

import datetime as dt

import ibis

from csc_insight.rules.registry import (
    DateOrderRule,
    Rule,
    Severity,
    Source,
    Tables,
    register,
    same_child,
    same_referral,
)

ABUSE_CATEGORIES = ("NEG", "PHY", "SAB", "EMO", "MUL")


@register
class Rule8615(DateOrderRule):
    """CIN 8615: the initial conference cannot be before the strategy discussion (s47 start)."""

    code = "8615"
    source = Source.CIN
    message = (
        "Section 47 Enquiry Start Date must be present and cannot be later than the date of "
        "the initial Child Protection Conference"
    )
    severity = Severity.ERROR
    table = "section47"
    fields = ("strategy_date", "icpc_date")
    earlier = "strategy_date"
    later = "icpc_date"


@register
class Rule8740(Rule):
    """CIN 8740: an enquiry still awaiting its conference must have started in the census year."""

    code = "8740"
    source = Source.CIN
    message = (
        "For a Section 47 Enquiry that has not held the Initial Child Protection Conference by "
        "the end of the census year, the start date must fall within the census year"
    )
    severity = Severity.ERROR
    table = "section47"
    fields = ("strategy_date", "icpc_date", "icpc_not_required")

    def failing(self, t: Tables) -> ibis.Table:
        s = t.with_census_year("section47")
        awaiting = s.icpc_date.isnull() & (s.icpc_not_required == ibis.literal(False))
        outside = ~s.strategy_date.between(s._census_start, s._census_end)
        return s.filter(awaiting & s._census_end.notnull() & outside)


@register
class Rule8890(Rule):
    """CIN 8890 (best identification): an enquiry cannot start while another is under way.

    Under way: started earlier and its initial conference was held after this one started.
    Enquiries without a conference have no recorded end and are not compared.
    """

    code = "8890"
    source = Source.CIN
    message = (
        "A Section 47 enquiry is shown as starting when there is another Section 47 Enquiry ongoing"
    )
    severity = Severity.ERROR
    table = "section47"
    fields = ("strategy_date", "icpc_date")

    def failing(self, t: Tables) -> ibis.Table:
        s = t.section47
        o = s.view()
        return s.semi_join(
            o,
            [
                *same_child(s, o),
                s.s47_id != o.s47_id,
                o.strategy_date < s.strategy_date,
                o.icpc_date > s.strategy_date,
            ],
        )


@register
class Rule8720(Rule):
    """CIN 8720: a plan cannot start after the end of the census period."""

    code = "8720"
    source = Source.CIN
    message = "Child Protection Plan Start Date missing or out of data collection period"
    severity = Severity.ERROR
    table = "cp_plans"
    fields = ("start_date",)

    def failing(self, t: Tables) -> ibis.Table:
        p = t.with_census_year("cp_plans")
        return p.filter(p.start_date > t.latest_possible(p._census_end))


@register
class Rule8840(Rule):
    """CIN 8840: a child protection plan cannot start and end on the same day."""

    code = "8840"
    source = Source.CIN
    message = "Child Protection Plan cannot start and end on the same day"
    severity = Severity.ERROR
    table = "cp_plans"
    fields = ("start_date", "end_date")

    def failing(self, t: Tables) -> ibis.Table:
        p = t.cp_plans
        return p.filter(p.start_date == p.end_date)


@register
class PlanEndsBeforeStart(DateOrderRule):
    """csc-insight LOC10: a child protection plan cannot end before it started.

    DfE's CIN rules reject this too (alongside 8840); the number of that rule was not
    confirmed, so it carries csc-insight's own code.
    """

    code = "LOC10"
    source = Source.LOCAL
    message = "The child protection plan ends before it started."
    severity = Severity.ERROR
    table = "cp_plans"
    fields = ("start_date", "end_date")
    earlier = "start_date"
    later = "end_date"


@register
class PlansOverlap(Rule):
    """csc-insight LOC11: a child cannot be on two child protection plans at once.

    A plan overlaps when it starts on or after another plan of the same child started and
    before that plan ended (or while it is still open). One plan may end the day the next
    starts. DfE's CIN rules check this too; that rule's number was not confirmed.
    """

    code = "LOC11"
    source = Source.LOCAL
    message = "The dates on the child protection plans for this child overlap."
    severity = Severity.ERROR
    table = "cp_plans"
    fields = ("start_date", "end_date")

    def failing(self, t: Tables) -> ibis.Table:
        p = t.cp_plans
        o = p.view()
        return p.semi_join(
            o,
            [
                *same_child(p, o),
                p.plan_id != o.plan_id,
                o.start_date <= p.start_date,
                # One comparison, not an OR, so the engine can join on the child.
                o.end_date.fill_null(ibis.literal(dt.date.max)) > p.start_date,
            ],
        )


@register
class AbuseCategories(Rule):
    """csc-insight LOC12: initial and latest categories of abuse are NEG, PHY, SAB, EMO, MUL.

    The CIN census schema enforces this code list; no separately numbered rule was identified.
    """

    code = "LOC12"
    source = Source.LOCAL
    message = "Category of abuse is not valid (see Category of Abuse table in CIN census code set)."
    severity = Severity.ERROR
    table = "cp_plans"
    fields = ("initial_category", "latest_category")

    def failing(self, t: Tables) -> ibis.Table:
        p = t.cp_plans
        bad_initial = p.initial_category.notnull() & ~p.initial_category.isin(ABUSE_CATEGORIES)
        bad_latest = p.latest_category.notnull() & ~p.latest_category.isin(ABUSE_CATEGORIES)
        return p.filter(bad_initial | bad_latest)


@register
class Rule8832(Rule):
    """CIN 8832: a referral marked NFA cannot have a child protection plan."""

    code = "8832"
    source = Source.CIN
    message = "Child Protection details provided for a referral with no further action."
    severity = Severity.ERROR
    table = "cp_plans"
    fields = ("referral_id",)

    def failing(self, t: Tables) -> ibis.Table:
        p, r = t.cp_plans, t.referrals
        nfa = r.filter(r.referral_nfa == ibis.literal(True))
        return p.semi_join(nfa, same_referral(p, nfa))


@register
class Rule8841(Rule):
    """CIN 8841: a review must be after the start of the plan it reviews."""

    code = "8841"
    source = Source.CIN
    message = (
        "The review date cannot be on the same day or before the Child protection Plan start date."
    )
    severity = Severity.ERROR
    table = "cp_reviews"
    fields = ("review_date",)

    def failing(self, t: Tables) -> ibis.Table:
        v, p = t.cp_reviews, t.cp_plans
        return v.semi_join(
            p,
            [*same_child(v, p), v.plan_id == p.plan_id, v.review_date <= p.start_date],
        )


@register
class CinPlanEndsBeforeStart(DateOrderRule):
    """csc-insight LOC13: a CIN plan cannot end before it started.

    DfE's CIN rules reject this too; that rule's number was not confirmed.
    """

    code = "LOC13"
    source = Source.LOCAL
    message = "The CIN plan ends before it started."
    severity = Severity.ERROR
    table = "cin_plans"
    fields = ("start_date", "end_date")
    earlier = "start_date"
    later = "end_date"
