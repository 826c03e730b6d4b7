"""Rules on the person-level facts of a child (SSDA903 header, CIN census ChildIdentifiers)."""

from __future__ import annotations

import ibis

from csc_insight.rules.registry import (
    CodeListRule,
    Rule,
    Severity,
    Source,
    Tables,
    register,
    same_child,
)

ETHNICITY_CODES = frozenset(
    {
        "WBRI",
        "WIRI",
        "WOTH",
        "WIRT",
        "WROM",
        "MWBC",
        "MWBA",
        "MWAS",
        "MOTH",
        "AIND",
        "APKN",
        "ABAN",
        "AOTH",
        "BCRB",
        "BAFR",
        "BOTH",
        "CHNE",
        "OOTH",
        "REFU",
        "NOBT",
    }
)
DISABILITY_CODES = (
    "NONE",
    "MOB",
    "HAND",
    "PC",
    "INC",
    "COMM",
    "LD",
    "HEAR",
    "VIS",
    "BEH",
    "CON",
    "AUT",
    "DDA",
)
_ONE_DISABILITY = "(" + "|".join(DISABILITY_CODES) + ")"
DISABILITY_LIST = f"^{_ONE_DISABILITY}(,{_ONE_DISABILITY})*$"


def looked_after(t: Tables) -> ibis.Table:
    """Children with at least one SSDA903 episode (the 903 header rules apply to them)."""
    children, episodes = t.children, t.cla_episodes
    return children.semi_join(episodes, same_child(children, episodes))


def in_need(t: Tables) -> ibis.Table:
    """Children with at least one CIN episode (the CIN census rules apply to them)."""
    children, referrals = t.children, t.referrals
    return children.semi_join(referrals, same_child(children, referrals))


@register
class Rule101(Rule):
    """SSDA903 101: a looked-after child's sex must be 1 (male) or 2 (female)."""

    code = "101"
    source = Source.SSDA903
    message = "Gender code is not valid."
    severity = Severity.ERROR
    table = "children"
    fields = ("sex",)

    def failing(self, t: Tables) -> ibis.Table:
        c = looked_after(t)
        return c.filter(~c.sex.isin(["1", "2"]) | c.sex.isnull())


@register
class Rule103(Rule):
    """SSDA903 103: a looked-after child's ethnicity must be one of DfE's codes."""

    code = "103"
    source = Source.SSDA903
    message = "The ethnicity code is either not valid or has not been entered."
    severity = Severity.ERROR
    table = "children"
    fields = ("ethnicity",)

    def failing(self, t: Tables) -> ibis.Table:
        c = looked_after(t)
        return c.filter(c.ethnicity.isnull() | ~c.ethnicity.isin(sorted(ETHNICITY_CODES)))


@register
class SexCode(CodeListRule):
    """csc-insight LOC01: sex must be 0, 1, 2 or 9 (the CIN census GenderCurrent codes).

    DfE's CIN census schema enforces this code list; no separately numbered rule was
    identified, so it carries csc-insight's own code.
    """

    code = "LOC01"
    source = Source.LOCAL
    message = "Sex code is not valid (0 not known, 1 male, 2 female, 9 not stated)."
    severity = Severity.ERROR
    table = "children"
    fields = ("sex",)
    column = "sex"
    codes = frozenset({"0", "1", "2", "9"})


@register
class Rule8520(Rule):
    """CIN 8520: date of birth must be on or before the end of the census period."""

    code = "8520"
    source = Source.CIN
    message = (
        "Date of Birth is after data collection period "
        "(must be on or before the end of the census period)"
    )
    severity = Severity.ERROR
    table = "children"
    fields = ("date_of_birth",)

    def failing(self, t: Tables) -> ibis.Table:
        c = t.with_census_year("children")
        return c.filter(c.date_of_birth > t.latest_possible(c._census_end))


@register
class Rule8525(Rule):
    """CIN 8525: a child in need has a date of birth or an expected date of birth.

    DfE also rejects a return giving both; the warehouse keeps a child's expected date of
    birth from an earlier census once they are born, so only "neither" is checked.
    """

    code = "8525"
    source = Source.CIN
    message = "Either Date of Birth or Expected Date of Birth must be provided (but not both)"
    severity = Severity.ERROR
    table = "children"
    fields = ("date_of_birth", "expected_date_of_birth")

    def failing(self, t: Tables) -> ibis.Table:
        c = in_need(t)
        return c.filter(c.date_of_birth.isnull() & c.expected_date_of_birth.isnull())


@register
class Rule8535Q(Rule):
    """CIN 8535Q: a child's date of death should not be before their date of birth."""

    code = "8535Q"
    source = Source.CIN
    message = "Child’s date of death should not be prior to the date of birth"
    severity = Severity.QUERY
    table = "children"
    fields = ("date_of_birth", "date_of_death")

    def failing(self, t: Tables) -> ibis.Table:
        c = t.children
        return c.filter(c.date_of_death < c.date_of_birth)


@register
class Rule8540(Rule):
    """CIN 8540: a child referred for further action needs valid disability codes.

    Applies to children born by the census with a referral that was not NFA; rows that say
    nothing about disability at all (neither the codes nor the flag) count as missing.
    """

    code = "8540"
    source = Source.CIN
    message = "Child’s disability is missing or invalid (see Disability table)"
    severity = Severity.ERROR
    table = "children"
    fields = ("disabilities", "disability")

    def failing(self, t: Tables) -> ibis.Table:
        c, r = t.children, t.referrals
        further = r.filter(r.referral_nfa == ibis.literal(False))
        c = c.semi_join(further, same_child(c, further))
        invalid = c.disabilities.notnull() & ~c.disabilities.re_search(DISABILITY_LIST)
        missing = c.disabilities.isnull() & c.disability.isnull()
        return c.filter(c.date_of_birth.notnull() & (invalid | missing))


@register
class Rule8794(Rule):
    """CIN 8794: the same disability code must not be recorded twice for a child."""

    code = "8794"
    source = Source.CIN
    message = "Child has two or more disabilities with the same code"
    severity = Severity.ERROR
    table = "children"
    fields = ("disabilities",)

    def failing(self, t: Tables) -> ibis.Table:
        c = t.children
        codes = c.disabilities.split(",")
        return c.filter(c.disabilities.notnull() & (codes.length() != codes.unique().length()))


@register
class Rule8750(Rule):
    """CIN 8750: an unborn child (expected date of birth only) must have sex 0."""

    code = "8750"
    source = Source.CIN
    message = "Gender must equal 0 for an unborn child"
    severity = Severity.ERROR
    table = "children"
    fields = ("sex", "date_of_birth", "expected_date_of_birth")

    def failing(self, t: Tables) -> ibis.Table:
        c = t.children
        unborn = c.date_of_birth.isnull() & c.expected_date_of_birth.notnull()
        return c.filter(unborn & (c.sex != "0"))
