"""Rules on the other SSDA903 tables: reviews, missing, OC2, OC3, adoption, permanence."""

from __future__ import annotations

import ibis

from csc_insight.rules.cla_episodes import SHORT_BREAKS
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
)

OC2_HEALTH = (
    "convicted",
    "health_check",
    "immunisations",
    "teeth_check",
    "health_assessment",
    "substance_misuse",
    "intervention_received",
    "intervention_offered",
)
OC2_REQUIRED = ("immunisations", "teeth_check", "health_assessment", "substance_misuse")
_FAR_FUTURE = ibis.date(9999, 12, 31)


def care_periods(t: Tables) -> ibis.Table:
    """Continuous periods of care per child: episodes joined end to start, short breaks out.

    Columns: la_code, child_id, period_start, period_end (null while still open).
    """
    e = t.cla_episodes
    e = e.filter(~e.ls.isin(SHORT_BREAKS).fill_null(False))
    w = ibis.window(group_by=[e.la_code, e.child_id], order_by=[e.decom])
    e = e.mutate(_prev_dec=e.dec.lag().over(w))
    # ifelse, not cast: PostgreSQL has no cast from boolean to bigint.
    new = ibis.ifelse(e._prev_dec.isnull() | (e._prev_dec != e.decom), 1, 0).cast("int64")
    e = e.mutate(_new=new)
    running = ibis.window(group_by=[e.la_code, e.child_id], order_by=[e.decom], rows=(None, 0))
    e = e.mutate(_period=e._new.sum().over(running))
    return e.group_by("la_code", "child_id", "_period").aggregate(
        period_start=e.decom.min(),
        _end=e.dec.fill_null(_FAR_FUTURE).max(),
    )


def oc2_with_cla12(t: Tables) -> ibis.Table:
    """OC2 rows with ``_cla12``: looked after continuously for 12 months at 31 March."""
    o = t.oc2
    p = care_periods(t)
    year = o.collection_year.cast("int32")
    o = o.mutate(_year_start=ibis.date(year - 1, 4, 1), _year_end=ibis.date(year, 3, 31))
    covering = p.select(_la=p.la_code, _child=p.child_id, _ps=p.period_start, _pe=p._end)
    joined = o.left_join(
        covering,
        [
            o.la_code == covering._la,
            o.child_id == covering._child,
            covering._ps <= o._year_start,
            covering._pe >= o._year_end,
        ],
    )
    flagged = joined.mutate(_cla12=joined._la.notnull()).drop("_la", "_child", "_ps", "_pe")
    return flagged.distinct()


def oc2_with_birth(t: Tables) -> ibis.Table:
    """OC2 rows with the child's date of birth and the collection year's bounds."""
    o, c = t.oc2, t.children
    births = c.select(_la=c.la_code, _child=c.child_id, _dob=c.date_of_birth)
    o = o.left_join(births, [o.la_code == births._la, o.child_id == births._child])
    year = o.collection_year.cast("int32")
    return o.drop("_la", "_child").mutate(
        _year_start=ibis.date(year - 1, 4, 1), _year_end=ibis.date(year, 3, 31)
    )


@register
class Rule167(CodeListRule):
    """SSDA903 167: each review has a participation code PN0-PN7."""

    code = "167"
    source = Source.SSDA903
    message = "Data entry for participation is invalid or blank."
    severity = Severity.ERROR
    table = "cla_reviews"
    fields = ("review_code",)
    column = "review_code"
    codes = frozenset({f"PN{i}" for i in range(8)})
    required = True


@register
class Rule1006(CodeListRule):
    """SSDA903 1006: MISSING must be M (missing) or A (away without authorisation)."""

    code = "1006"
    source = Source.SSDA903
    message = "Missing type invalid."
    severity = Severity.ERROR
    table = "missing"
    fields = ("missing_type",)
    column = "missing_type"
    codes = frozenset({"M", "A"})


@register
class Rule567(DateOrderRule):
    """SSDA903 567: MIS_END must not be before MIS_START."""

    code = "567"
    source = Source.SSDA903
    message = (
        "The date that the missing episode or episode that the child was away from placement "
        "without authorisation ended is before the date that it started."
    )
    severity = Severity.ERROR
    table = "missing"
    fields = ("start_date", "end_date")
    earlier = "start_date"
    later = "end_date"


@register
class Rule574(Rule):
    """SSDA903 574: a missing period cannot start while the child's previous one is open."""

    code = "574"
    source = Source.SSDA903
    message = (
        "A new missing/away from placement without authorisation period cannot start when the "
        "previous missing/away from placement without authorisation period is still open. "
        "Missing/away from placement without authorisation periods should also not overlap."
    )
    severity = Severity.ERROR
    table = "missing"
    fields = ("start_date", "end_date")

    def failing(self, t: Tables) -> ibis.Table:
        m = t.missing
        w = ibis.window(group_by=[m.la_code, m.child_id], order_by=[m.start_date])
        m = m.mutate(_prev_end=m.end_date.lag().over(w), _n=ibis.row_number().over(w))
        still_open = (m._n > 0) & m._prev_end.isnull()
        return m.filter(still_open | (m.start_date < m._prev_end))


@register
class Rule131(CodeListRule):
    """SSDA903 131: IN_TOUCH must be YES, NO, DIED, REFU, NREQ or RHOM."""

    code = "131"
    source = Source.SSDA903
    message = "Data entry for being in touch after leaving care is invalid."
    severity = Severity.ERROR
    table = "care_leavers"
    fields = ("in_touch",)
    column = "in_touch"
    codes = frozenset({"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"})
    required = True


@register
class Rule132(CodeListRule):
    """SSDA903 132: ACTIV must be one of DfE's activity codes (0 if not known)."""

    code = "132"
    source = Source.SSDA903
    message = "Data entry for activity after leaving care is invalid."
    severity = Severity.ERROR
    table = "care_leavers"
    fields = ("activity",)
    column = "activity"
    codes = frozenset({"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0"})
    required = True


@register
class Rule133(CodeListRule):
    """SSDA903 133: ACCOM must be one of DfE's accommodation codes (0 if not known)."""

    code = "133"
    source = Source.SSDA903
    message = (
        "Data entry for accommodation after leaving care is invalid. If reporting on a childs "
        "accommodation after leaving care the data entry must be valid"
    )
    severity = Severity.ERROR
    table = "care_leavers"
    fields = ("accommodation",)
    column = "accommodation"
    codes = frozenset(
        {
            *(f"{letter}{n}" for letter in "BCDEGHKRTUVWYZ" for n in (1, 2)),
            "S2",
            "X2",
            "0",
        }
    )
    required = True


@register
class Rule180(Rule):
    """SSDA903 180: an SDQ score is a whole number from 0 to 40."""

    code = "180"
    source = Source.SSDA903
    message = "Data entry for the strengths and difficulties questionnaire (SDQ) score is invalid."
    severity = Severity.ERROR
    table = "oc2"
    fields = ("sdq_score",)

    def failing(self, t: Tables) -> ibis.Table:
        o = t.oc2
        return o.filter(~o.sdq_score.between(0, 40))


@register
class Rule196(CodeListRule):
    """SSDA903 196: SDQ_REASON must be SDQ1 to SDQ5."""

    code = "196"
    source = Source.SSDA903
    message = "Strengths and Difficulties (SDQ) reason is not a valid code."
    severity = Severity.ERROR
    table = "oc2"
    fields = ("sdq_reason",)
    column = "sdq_reason"
    codes = frozenset({f"SDQ{i}" for i in range(1, 6)})


@register
class Rule188(Rule):
    """SSDA903 188: no SDQ score or reason for a child under 4 at the end of the year."""

    code = "188"
    source = Source.SSDA903
    message = (
        "Child is aged under 4 years at the end of the year, but a Strengths and Difficulties "
        "(SDQ) score or a reason for no SDQ score has been completed."
    )
    severity = Severity.ERROR
    table = "oc2"
    fields = ("sdq_score", "sdq_reason")

    def failing(self, t: Tables) -> ibis.Table:
        o = oc2_with_birth(t)
        completed = o.sdq_score.notnull() | o.sdq_reason.notnull()
        under4 = o._dob.notnull() & ~age_reached(o._dob, 4, o._year_end)
        return o.filter(completed & under4)


@register
class Rule189(Rule):
    """SSDA903 189: no SDQ score or reason for a child aged 17 or over at the year's start."""

    code = "189"
    source = Source.SSDA903
    message = (
        "Child is aged 17 years or over at the beginning of the year, but an Strengths and "
        "Difficulties (SDQ) score or a reason for no Strengths and Difficulties (SDQ) score "
        "has been completed."
    )
    severity = Severity.ERROR
    table = "oc2"
    fields = ("sdq_score", "sdq_reason")

    def failing(self, t: Tables) -> ibis.Table:
        o = oc2_with_birth(t)
        completed = o.sdq_score.notnull() | o.sdq_reason.notnull()
        return o.filter(completed & age_reached(o._dob, 17, o._year_start))


@register
class Rule190(Rule):
    """SSDA903 190: OC2 outcomes only for children looked after 12 months at 31 March.

    Looked after continuously for 12 months: one unbroken run of episodes (each starting the
    day the previous ended), not counting short breaks (V3/V4), from 1 April to 31 March.
    """

    code = "190"
    source = Source.SSDA903
    message = (
        "Child has not been looked after continuously for at least 12 months at 31 March but "
        "one or more data items relating to children looked after for 12 months have been "
        "completed."
    )
    severity = Severity.ERROR
    table = "oc2"
    fields = OC2_HEALTH

    def failing(self, t: Tables) -> ibis.Table:
        o = oc2_with_cla12(t)
        any_given = ibis.or_(*(o[c].notnull() for c in OC2_HEALTH))
        return o.filter(~o._cla12 & any_given)


@register
class Rule191(Rule):
    """SSDA903 191: children looked after 12 months at 31 March need their OC2 health items.

    DfE's rule also flags such children with no OC2 row at all; csc-insight reports only the
    OC2 rows with blanks (a child without a row has no file line to point to).
    """

    code = "191"
    source = Source.SSDA903
    message = (
        "Child has been looked after continuously for at least 12 months at 31 March but one "
        "or more data items relating to children looked after for 12 months have been left "
        "blank."
    )
    severity = Severity.ERROR
    table = "oc2"
    fields = OC2_REQUIRED

    def failing(self, t: Tables) -> ibis.Table:
        o = oc2_with_cla12(t)
        any_blank = ibis.or_(*(o[c].isnull() for c in OC2_REQUIRED))
        return o.filter(o._cla12 & any_blank)


@register
class Rule192(Rule):
    """SSDA903 192: a substance misuse problem needs INTERVENTION_RECEIVED completed."""

    code = "192"
    source = Source.SSDA903
    message = (
        "Child has been identified as having a substance misuse problem but the additional "
        "item on whether an intervention was received has been left blank."
    )
    severity = Severity.ERROR
    table = "oc2"
    fields = ("substance_misuse", "intervention_received")

    def failing(self, t: Tables) -> ibis.Table:
        o = t.oc2
        return o.filter(
            (o.substance_misuse == ibis.literal(True)) & o.intervention_received.isnull()
        )


@register
class Rule631(CodeListRule):
    """SSDA903 631: PREV_PERM must be P1, P2, P3, P4 or Z1."""

    code = "631"
    source = Source.SSDA903
    message = "Previous permanence option not a valid value."
    severity = Severity.ERROR
    table = "previous_permanence"
    fields = ("prev_perm",)
    column = "prev_perm"
    codes = frozenset({"P1", "P2", "P3", "P4", "Z1"})


@register
class Rule175(CodeListRule):
    """SSDA903 175 (best identification): NB_ADOPTR must be L (single) or M (couple)."""

    code = "175"
    source = Source.SSDA903
    message = "The number of adopter(s) code is not a valid code."
    severity = Severity.ERROR
    table = "adoptions"
    fields = ("number_of_adopters",)
    column = "number_of_adopters"
    codes = frozenset({"L", "M"})


@register
class Rule177(CodeListRule):
    """SSDA903 177 (best identification): LS_ADOPTR must be one of DfE's codes."""

    code = "177"
    source = Source.SSDA903
    message = "The legal status of adopter(s) code is not a valid code."
    severity = Severity.ERROR
    table = "adoptions"
    fields = ("legal_status_of_adopters",)
    column = "legal_status_of_adopters"
    codes = frozenset({"L0", "L11", "L12", "L2", "L3", "L4"})


@register
class Rule119(Rule):
    """SSDA903 119 (best identification): a reversed decision needs both its date and reason.

    DATE_PLACED_CEASED and REASON_PLACED_CEASED are both given or both blank.
    """

    code = "119"
    source = Source.SSDA903
    message = (
        "If the decision is made that a child should no longer be placed for adoption, then the "
        "date of this decision and the reason why this decision was made must be completed."
    )
    severity = Severity.ERROR
    table = "adoptions"
    fields = ("date_placed_ceased", "reason_placed_ceased")

    def failing(self, t: Tables) -> ibis.Table:
        a = t.adoptions
        return a.filter(a.date_placed_ceased.isnull() != a.reason_placed_ceased.isnull())


@register
class Rule184(Rule):
    """SSDA903 184 (best identification): the adoption decision cannot precede the birth."""

    code = "184"
    source = Source.SSDA903
    message = (
        "Date of decision that a child should be placed for adoption is before the child was born."
    )
    severity = Severity.ERROR
    table = "adoptions"
    fields = ("date_should_be_placed",)

    def failing(self, t: Tables) -> ibis.Table:
        a, c = t.adoptions, t.children
        earlier = c.filter(c.date_of_birth.notnull())
        return a.semi_join(
            earlier, [*same_child(a, earlier), a.date_should_be_placed < earlier.date_of_birth]
        )
