"""Rules on looked-after episodes (SSDA903 episodes table)."""

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
)

RNE_CODES = frozenset({"S", "P", "L", "T", "U", "B"})
LS_CODES = frozenset({"C1", "C2", "D1", "E1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3"})
CIN_CODES = frozenset({f"N{i}" for i in range(1, 9)})
PLACE_CODES = frozenset(
    {
        *(f"U{i}" for i in range(1, 7)),
        "R1",
        "R2",
        "R3",
        "R5",
        "K1",
        "K2",
        "H5",
        "P1",
        "P2",
        "P3",
        "S1",
        *(f"T{i}" for i in range(5)),
        "Z1",
        *(f"A{i}" for i in range(3, 7)),
    }
)
# Temporary placements and "other" have no placement provider.
NO_PROVIDER_PLACES = ("T0", "T1", "T2", "T3", "T4", "Z1")
PLACE_PROVIDER_CODES = frozenset({f"PR{i}" for i in range(6)})
REC_CODES = frozenset(
    {
        "E11",
        "E12",
        "E2",
        "E3",
        "E4A",
        "E4B",
        "E13",
        "E41",
        "E43",
        "E44",
        "E45",
        "E46",
        "E47",
        "E48",
        "E5",
        "E6",
        "E7",
        "E8",
        "E9",
        "E14",
        "E15",
        "E16",
        "E17",
        "X1",
    }
)
REASON_PLACE_CHANGE_CODES = frozenset(
    {
        "CARPL",
        "CLOSE",
        "ALLEG",
        "STAND",
        "APPRR",
        "CREQB",
        "CREQO",
        "CHILD",
        "LAREQ",
        "PLACE",
        "CUSTOD",
        "OTHER",
    }
)
SHORT_BREAKS = ("V3", "V4")
# The Adoption and Children Act 2002 replaced freeing orders (D1) with placement orders (E1).
ACT_2002_IN_FORCE = dt.date(2005, 12, 30)


def with_neighbours(t: Tables) -> ibis.Table:
    """Episodes with the previous episode's DEC and the next episode's DECOM, per child."""
    e = t.cla_episodes
    w = ibis.window(group_by=[e.la_code, e.child_id], order_by=[e.decom])
    return e.mutate(
        _prev_dec=e.dec.lag().over(w),
        _prev_decom=e.decom.lag().over(w),
        _next_decom=e.decom.lead().over(w),
    )


def with_birth(t: Tables) -> ibis.Table:
    """Episodes with the child's date of birth (from the children table of the same LA)."""
    e, c = t.cla_episodes, t.children
    births = c.select(
        _la=c.la_code, _child=c.child_id, _dob=c.date_of_birth
    )  # renamed so the join keeps the episode's own columns intact
    joined = e.left_join(births, [e.la_code == births._la, e.child_id == births._child])
    return joined.drop("_la", "_child")


@register
class Rule143(CodeListRule):
    """SSDA903 143: RNE must be one of S, P, L, T, U, B."""

    code = "143"
    source = Source.SSDA903
    message = "The reason for new episode code is not a valid code."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rne",)
    column = "rne"
    codes = RNE_CODES


@register
class Rule144(CodeListRule):
    """SSDA903 144: LS must be one of DfE's legal status codes."""

    code = "144"
    source = Source.SSDA903
    message = "The legal status code is not a valid code."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("ls",)
    column = "ls"
    codes = LS_CODES


@register
class Rule145(CodeListRule):
    """SSDA903 145: CIN (category of need) must be N1 to N8."""

    code = "145"
    source = Source.SSDA903
    message = "Category of need code is not a valid code."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("cin",)
    column = "cin"
    codes = CIN_CODES


@register
class Rule146(CodeListRule):
    """SSDA903 146: PLACE must be one of DfE's placement type codes."""

    code = "146"
    source = Source.SSDA903
    message = "Placement type code is not a valid code."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("place",)
    column = "place"
    codes = PLACE_CODES


@register
class Rule178(Rule):
    """SSDA903 178: PLACE_PROVIDER is PR0-PR5, and blank for T0-T4 and Z1 placements."""

    code = "178"
    source = Source.SSDA903
    message = "Placement provider code is not a valid code."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("place_provider", "place")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.cla_episodes
        given = e.place_provider.notnull()
        invalid = ~e.place_provider.isin(sorted(PLACE_PROVIDER_CODES))
        not_needed = e.place.isin(NO_PROVIDER_PLACES)
        return e.filter(given & (invalid | not_needed.fill_null(False)))


@register
class Rule149(CodeListRule):
    """SSDA903 149: REC must be one of DfE's reason-episode-ceased codes."""

    code = "149"
    source = Source.SSDA903
    message = "Reason episode ceased code is not valid."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rec",)
    column = "rec"
    codes = REC_CODES


@register
class Rule1009(CodeListRule):
    """SSDA903 1009: REASON_PLACE_CHANGE must be one of DfE's codes."""

    code = "1009"
    source = Source.SSDA903
    message = "Reason for placement change is not a valid code."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("reason_place_change",)
    column = "reason_place_change"
    codes = REASON_PLACE_CHANGE_CODES


@register
class Rule356(DateOrderRule):
    """SSDA903 356: DEC must not be before DECOM."""

    code = "356"
    source = Source.SSDA903
    message = "The date the episode ceased is before the date the same episode started."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("decom", "dec")
    earlier = "decom"
    later = "dec"


@register
class Rule142(Rule):
    """SSDA903 142: every episode but a child's latest must have a DEC and a REC."""

    code = "142"
    source = Source.SSDA903
    message = "A new episode has started, but the previous episode has not ended."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("dec", "rec")

    def failing(self, t: Tables) -> ibis.Table:
        e = with_neighbours(t)
        return e.filter(e._next_decom.notnull() & (e.dec.isnull() | e.rec.isnull()))


@register
class Rule148(Rule):
    """SSDA903 148: DEC and REC are both given or both blank."""

    code = "148"
    source = Source.SSDA903
    message = (
        "Date episode ceased and reason episode ceased must both be coded, or both left blank."
    )
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("dec", "rec")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.cla_episodes
        return e.filter(e.dec.isnull() != e.rec.isnull())


@register
class Rule357(Rule):
    """SSDA903 357: a child's first episode (starting within its collection year) has RNE S.

    Only first episodes that start on or after 1 April of the collection year of the file they
    came from are checked: an earlier first episode may follow one outside the data.
    """

    code = "357"
    source = Source.SSDA903
    message = (
        "If this is the first episode ever for this child, reason for new episode must be S. "
        "Check whether there is an episode immediately preceding this one, which has been "
        "left out. If not the reason for new episode code must be amended to S."
    )
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rne",)

    def failing(self, t: Tables) -> ibis.Table:
        e = t.with_census_year("cla_episodes")
        w = ibis.window(group_by=[e.la_code, e.child_id], order_by=[e.decom])
        e = e.mutate(_n=ibis.row_number().over(w))
        first = (e._n == 0) & (e.decom >= e._census_start)
        return e.filter(first & (e.rne.isnull() | (e.rne != "S")))


@register
class Rule388(Rule):
    """SSDA903 388: REC X1 exactly when the next episode starts the day this one ends."""

    code = "388"
    source = Source.SSDA903
    message = (
        "Reason episode ceased is coded new episode begins, but there is no continuation episode."
    )
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rec", "dec")

    def failing(self, t: Tables) -> ibis.Table:
        e = with_neighbours(t)
        has_next = e._next_decom.notnull()
        x1 = e.rec == "X1"
        ended = e.dec.notnull()
        gap = has_next & ended & x1 & (e.dec != e._next_decom)
        not_x1 = has_next & ended & e.rec.notnull() & (e.rec != "X1") & (e.dec == e._next_decom)
        last_x1 = ~has_next & ended & x1
        return e.filter(gap | not_x1 | last_x1)


@register
class Rule437(Rule):
    """SSDA903 437: after REC E2 (died) or E15 (aged 18+), no later episode may follow."""

    code = "437"
    source = Source.SSDA903
    message = (
        "Reason episode ceased is child has died or is aged 18 or over "
        "but there are further episodes."
    )
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rec",)

    def failing(self, t: Tables) -> ibis.Table:
        e = with_neighbours(t)
        return e.filter(e.rec.isin(["E2", "E15"]) & e._next_decom.notnull())


@register
class Rule501(Rule):
    """SSDA903 501: an episode must not start before the previous episode ended."""

    code = "501"
    source = Source.SSDA903
    message = "A new episode has started before the end date of the previous episode."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("decom", "dec")

    def failing(self, t: Tables) -> ibis.Table:
        e = with_neighbours(t)
        return e.filter(e.decom < e._prev_dec)


@register
class Rule445(Rule):
    """SSDA903 445: LS D1 (freeing order) cannot start after December 2005."""

    code = "445"
    source = Source.SSDA903
    message = "D1 is not a valid code for episodes starting after December 2005."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("ls", "decom")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.cla_episodes
        return e.filter((e.ls == "D1") & (e.decom > dt.date(2005, 12, 31)))


@register
class Rule446(Rule):
    """SSDA903 446: LS E1 (placement order) cannot start before 30 December 2005."""

    code = "446"
    source = Source.SSDA903
    message = "E1 is not a valid code for episodes starting before December 2005."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("ls", "decom")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.cla_episodes
        return e.filter((e.ls == "E1") & (e.decom < ACT_2002_IN_FORCE))


@register
class Rule386(Rule):
    """SSDA903 386: a child adopted (REC E11/E12) must be under 18 on the day care ceased."""

    code = "386"
    source = Source.SSDA903
    message = "Reason episode ceased is adopted but child has reached age 18."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rec", "dec")

    def failing(self, t: Tables) -> ibis.Table:
        e = with_birth(t)
        adopted = e.rec.isin(["E11", "E12"])
        return e.filter(adopted & age_reached(e._dob, 18, e.dec))


@register
class Rule389(Rule):
    """SSDA903 389: transfer to adult social care (REC E7) needs the child to be 16 or over."""

    code = "389"
    source = Source.SSDA903
    message = (
        "Reason episode ceased is that child transferred to care of adult social care "
        "services, but child is aged under 16."
    )
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rec", "dec")

    def failing(self, t: Tables) -> ibis.Table:
        e = with_birth(t)
        return e.filter((e.rec == "E7") & e._dob.notnull() & ~age_reached(e._dob, 16, e.dec))


@register
class EpisodeBeforeBirth(Rule):
    """csc-insight LOC02: an episode cannot start before the child was born.

    DfE's portal rejects such dates through its date-of-birth checks; no separately numbered
    903 rule was identified for episodes, so it carries csc-insight's own code.
    """

    code = "LOC02"
    source = Source.LOCAL
    message = "The episode started before the child's date of birth."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("decom",)

    def failing(self, t: Tables) -> ibis.Table:
        e = with_birth(t)
        return e.filter(e.decom < e._dob)


@register
class EpisodeInFuture(Rule):
    """csc-insight LOC03: DECOM and DEC cannot be after the end of the collection year.

    The collection year is that of the file the row came from; when it is unknown, today.
    """

    code = "LOC03"
    source = Source.LOCAL
    message = "The episode starts or ends after the end of the collection year."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("decom", "dec")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.with_census_year("cla_episodes")
        latest = t.latest_possible(e._census_end)
        return e.filter((e.decom > latest) | (e.dec > latest).fill_null(False))


@register
class PlaceChangeReasonRequired(Rule):
    """csc-insight LOC04: REASON_PLACE_CHANGE is required when RNE is P, B or T.

    DfE's 903 specification requires the reason whenever a placement changes; csc-insight
    checks it under its own code as the DfE rule number was not confirmed.
    """

    code = "LOC04"
    source = Source.LOCAL
    message = "A placement changed (RNE P, B or T) but the reason for the change is blank."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("rne", "reason_place_change")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.cla_episodes
        return e.filter(e.rne.isin(["P", "B", "T"]) & e.reason_place_change.isnull())


@register
class PlacementPostcodeRequired(Rule):
    """csc-insight LOC05: PL_POST should be given unless the child is on short breaks.

    Temporary placements (T0-T4) and "other" placements (Z1) have no placement postcode.
    """

    code = "LOC05"
    source = Source.LOCAL
    message = "The placement postcode is blank for a placement that should have one."
    severity = Severity.WARNING
    table = "cla_episodes"
    fields = ("placement_postcode_district", "place", "ls")

    def failing(self, t: Tables) -> ibis.Table:
        e = t.cla_episodes
        exempt = e.ls.isin(SHORT_BREAKS).fill_null(False) | e.place.isin(
            NO_PROVIDER_PLACES
        ).fill_null(False)
        return e.filter(e.placement_postcode_district.isnull() & ~exempt)


@register
class StartsAfter18(Rule):
    """csc-insight LOC06: a child cannot start to be looked after on or after turning 18."""

    code = "LOC06"
    source = Source.LOCAL
    message = "The episode started on or after the child's 18th birthday."
    severity = Severity.ERROR
    table = "cla_episodes"
    fields = ("decom",)

    def failing(self, t: Tables) -> ibis.Table:
        e = with_birth(t)
        return e.filter(age_reached(e._dob, 18, e.decom))
