"""Rules on CIN episodes (CIN census CINdetails; Annex A referrals)."""

from __future__ import annotations

import datetime as dt

import ibis

from csc_insight.rules.registry import (
    CodeListRule,
    DateOrderRule,
    Rule,
    Severity,
    Source,
    Tables,
    age_reached,
    register,
    same_child,
    same_referral,
)

FOR_EVER = ibis.literal(dt.date.max)
CLOSURE_REASONS = frozenset({f"RC{i}" for i in range(1, 10)})
PRIMARY_NEEDS = frozenset({f"N{i}" for i in range(10)})
REFERRAL_SOURCES = frozenset(
    {
        "1A",
        "1B",
        "1C",
        "1D",
        "2A",
        "2B",
        "3A",
        "3B",
        "3C",
        "3D",
        "3E",
        "3F",
        "4",
        "5A",
        "5B",
        "5C",
        "5D",
        "6",
        "7",
        "8",
        "9",
        "10",
    }
)


def closed(t: Tables) -> ibis.Table:
    """Referrals with a closure date."""
    r = t.referrals
    return r.filter(r.closure_date.notnull())


def activity_dates(t: Tables) -> ibis.Table:
    """Every dated piece of work recorded against a referral: la, child, referral, day."""
    a, s, p, c = t.assessments, t.section47, t.cp_plans, t.cin_plans
    keys = ("la_code", "child_id", "referral_id")
    parts = [
        a.select(*keys, day=a.start_date),
        a.select(*keys, day=a.authorised_date),
        s.select(*keys, day=s.strategy_date),
        s.select(*keys, day=s.icpc_date),
        p.select(*keys, day=p.end_date),
        c.select(*keys, day=c.start_date),
        c.select(*keys, day=c.end_date),
    ]
    union = ibis.union(*parts)
    return union.filter(union.day.notnull())


@register
class Rule8630(DateOrderRule):
    """CIN 8630: the closure date must not be before the referral date."""

    code = "8630"
    source = Source.CIN
    message = "CIN Closure Date is before CIN Referral Date for the same CIN episode"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_date", "closure_date")
    earlier = "referral_date"
    later = "closure_date"


@register
class Rule8640(CodeListRule):
    """CIN 8640: the reason for closure must be RC1 to RC9."""

    code = "8640"
    source = Source.CIN
    message = (
        "CIN Reason for closure code invalid (see Reason for Closure table in CIN Census code set)"
    )
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_reason",)
    column = "closure_reason"
    codes = CLOSURE_REASONS


@register
class Rule8650(CodeListRule):
    """CIN 8650: the primary need code must be N0 to N9."""

    code = "8650"
    source = Source.CIN
    message = "Primary Need Code invalid (see Primary Need table in CIN census code set)"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("primary_need",)
    column = "primary_need"
    codes = PRIMARY_NEEDS


@register
class Rule8610(Rule):
    """CIN 8610: a referral going on to further action needs a primary need code."""

    code = "8610"
    source = Source.CIN
    message = "Primary Need code is missing for a referral which led to further action."
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_nfa", "primary_need")

    def failing(self, t: Tables) -> ibis.Table:
        r = t.referrals
        return r.filter((r.referral_nfa == ibis.literal(False)) & r.primary_need.isnull())


@register
class Rule8568(Rule):
    """CIN 8568 (best identification): the referral NFA flag must be given."""

    code = "8568"
    source = Source.CIN
    message = "RNFA flag is missing or invalid"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_nfa",)

    def failing(self, t: Tables) -> ibis.Table:
        r = t.referrals
        return r.filter(r.referral_nfa.isnull())


@register
class Rule8805(Rule):
    """CIN 8805: a closure date needs a reason for closure."""

    code = "8805"
    source = Source.CIN
    message = "A CIN case cannot have a CIN closure date without a Reason for Closure"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_date", "closure_reason")

    def failing(self, t: Tables) -> ibis.Table:
        r = t.referrals
        return r.filter(r.closure_date.notnull() & r.closure_reason.isnull())


@register
class Rule8810(Rule):
    """CIN 8810: a reason for closure needs a closure date."""

    code = "8810"
    source = Source.CIN
    message = "A CIN case cannot have a Reason for Closure without a CIN Closure Date"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_reason", "closure_date")

    def failing(self, t: Tables) -> ibis.Table:
        r = t.referrals
        return r.filter(r.closure_reason.notnull() & r.closure_date.isnull())


@register
class Rule8620(Rule):
    """CIN 8620: a closure date must fall within the census year of the return.

    Checked only for rows whose collection year is known (from the file or the run).
    """

    code = "8620"
    source = Source.CIN
    message = "CIN Closure Date present and does not fall within the Census year"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r = t.with_census_year("referrals")
        outside = ~r.closure_date.between(r._census_start, r._census_end)
        return r.filter(r.closure_date.notnull() & r._census_end.notnull() & outside)


@register
class Rule8606(Rule):
    """CIN 8606: a referral cannot be more than 280 days before the (expected) birth."""

    code = "8606"
    source = Source.CIN
    message = "Child referral date is more than 40 weeks before DOB or expected DOB"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r, c = t.referrals, t.children
        birth = c.date_of_birth.fill_null(c.expected_date_of_birth)
        births = c.select(_la=c.la_code, _child=c.child_id, _birth=birth)
        births = births.filter(births._birth.notnull())
        return r.semi_join(
            births,
            [
                r.la_code == births._la,
                r.child_id == births._child,
                r.referral_date < births._birth - ibis.interval(days=280),
            ],
        )


@register
class Rule8820(Rule):
    """CIN 8820: a child's CIN episodes must not overlap.

    A referral overlaps when it starts on or after another episode's referral date and before
    that episode closed (or while it is still open and was not NFA). One episode may close on
    the day the next starts.
    """

    code = "8820"
    source = Source.CIN
    message = "The dates on the CIN episodes for this child overlap"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_date", "closure_date")

    def failing(self, t: Tables) -> ibis.Table:
        r = t.referrals
        o = r.view()
        # An open episode (not NFA) runs on for ever; written as one comparison rather than
        # an OR so the engine can join on the child (an OR made it compare every pair).
        runs_to = o.closure_date.fill_null(
            ibis.ifelse(o.referral_nfa == ibis.literal(False), FOR_EVER, ibis.null("date"))
        )
        return r.semi_join(
            o,
            [
                *same_child(r, o),
                r.referral_id != o.referral_id,
                o.referral_date <= r.referral_date,
                runs_to > r.referral_date,
            ],
        )


@register
class Rule8831(Rule):
    """CIN 8831: a referral marked NFA cannot have assessments or section 47 enquiries."""

    code = "8831"
    source = Source.CIN
    message = "Activity is recorded against a case marked as a referral with no further action"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_nfa",)

    def failing(self, t: Tables) -> ibis.Table:
        r = t.referrals
        nfa = r.filter(r.referral_nfa == ibis.literal(True))
        a, s = t.assessments, t.section47
        keys = ("la_code", "child_id", "referral_id")
        work = ibis.union(a.select(*keys), s.select(*keys))
        return nfa.semi_join(work, same_referral(nfa, work))


@register
class Rule8565(Rule):
    """CIN 8565: nothing in an episode may be dated after the episode's closure date.

    Compared: assessment start and authorisation, section 47 strategy discussion and initial
    conference, child protection plan end, CIN plan start and end.
    """

    code = "8565"
    source = Source.CIN
    message = "Activity shown after a case has been closed"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r = closed(t)
        work = activity_dates(t)
        return r.semi_join(work, [*same_referral(r, work), work.day > r.closure_date])


@register
class Rule8867(Rule):
    """CIN 8867 (best identification): a closed episode's section 47s must be concluded.

    Concluded: an initial conference was held or recorded as not required.
    """

    code = "8867"
    source = Source.CIN
    message = (
        "CIN episode is shown as closed, however Section 47 enquiry is not shown as completed "
        "by ICPC date or ICPC not required flag"
    )
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r, s = closed(t), t.section47
        open_s47 = s.filter(
            s.icpc_date.isnull() & (s.icpc_not_required != ibis.literal(True)).fill_null(True)
        )
        return r.semi_join(open_s47, same_referral(r, open_s47))


@register
class Rule8868(Rule):
    """CIN 8868 (best identification): a closed episode's assessments must be authorised."""

    code = "8868"
    source = Source.CIN
    message = "CIN episode is shown as closed, however Assessment is not shown as completed"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r, a = closed(t), t.assessments
        open_a = a.filter(a.authorised_date.isnull())
        return r.semi_join(open_a, same_referral(r, open_a))


@register
class Rule8869(Rule):
    """CIN 8869 (best identification): a closed episode's CIN plans must have ended."""

    code = "8869"
    source = Source.CIN
    message = "CIN episode is shown as closed, however CIN Plan is shown as not ending"
    severity = Severity.ERROR
    table = "referrals"
    fields = ("closure_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r, p = closed(t), t.cin_plans
        open_p = p.filter(p.end_date.isnull())
        return r.semi_join(open_p, same_referral(r, open_p))


@register
class ReferralSource(CodeListRule):
    """csc-insight LOC07: the referral source must be one of the CIN census codes 1A-10.

    DfE's CIN census schema enforces this list; no separately numbered rule was identified.
    """

    code = "LOC07"
    source = Source.LOCAL
    message = (
        "Referral source code is not valid (see Referral Source table in CIN census code set)."
    )
    severity = Severity.ERROR
    table = "referrals"
    fields = ("referral_source",)
    column = "referral_source"
    codes = REFERRAL_SOURCES


@register
class ReferredAfter18(Rule):
    """csc-insight LOC15: a child referred to children's social care is under 18."""

    code = "LOC15"
    source = Source.LOCAL
    message = "The child was 18 or over on the referral date."
    severity = Severity.QUERY
    table = "referrals"
    fields = ("referral_date",)

    def failing(self, t: Tables) -> ibis.Table:
        r, c = t.referrals, t.children
        born = c.filter(c.date_of_birth.notnull())
        return r.semi_join(
            born, [*same_child(r, born), age_reached(born.date_of_birth, 18, r.referral_date)]
        )
