"""Golden fixtures for every indicator in the catalogue, on every engine.

One hand-built warehouse per engine (DuckDB, PostgreSQL, PySpark), loaded once for the whole
module: each family owns its tables (referrals, assessments, section47, cp_plans,
cla_episodes/missing/adoptions, oc2, care_leavers, service_involvements) and shares the
children and population tables, with child ids prefixed by family so nothing leaks between
them. Every row says why it is in or out; every test writes out the expected numerator,
denominator and value. The edge cases of the issue are all here: episodes spanning 31 March,
same-day start and end, open plans, several referrals on one day, unborn children, leap years
(29 February 2024 inside 12-month and 2-year windows), bank holidays inside the 45- and
15-working-day windows, missing dates, quarters, months and rolling 12 months.

Periods: FY is 1 April 2024 to 31 March 2025 unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from csc_insight.indicators import REGISTRY, compute_indicator
from csc_insight.indicators.escalation import EscalationThresholds, candidates
from csc_insight.indicators.export import as_rows
from csc_insight.indicators.periods import parse
from csc_insight.indicators.registry import IndicatorResult, Tables
from csc_insight.privacy.disclosure import suppress
from csc_insight.warehouse.engines import spark_backend
from csc_insight.warehouse.store import Warehouse
from engines import ENGINES, PostgresServer, Rows, load_rows, spark_database

FY = "2024-25"

# Every registered id a golden test below checks (filled in by @covers; see the last test).
COVERED: set[str] = set()


def covers(*ids: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Record which indicator ids a test pins down."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        COVERED.update(ids)
        return test

    return mark


# --- row builders ---------------------------------------------------------------------------


def kid(
    child: str,
    sex: str | None = None,
    dob: date | None = None,
    ethnicity: str | None = None,
    disabled: bool | None = None,
    locality: str | None = None,
    expected: date | None = None,
) -> dict[str, Any]:
    return {
        "child_id": child,
        "sex": sex,
        "date_of_birth": dob,
        "expected_date_of_birth": expected,
        "ethnicity": ethnicity,
        "disability": disabled,
        "locality": locality,
    }


def pop(
    number: float,
    year: int = 2024,
    age_band: str = "0-17",
    sex: str | None = None,
    ethnic_group: str | None = None,
    ethnicity: str | None = None,
    locality: str | None = None,
) -> dict[str, Any]:
    return {
        "year": year,
        "age_band": age_band,
        "sex": sex,
        "ethnic_group": ethnic_group,
        "ethnicity": ethnicity,
        "locality": locality,
        "population": number,
    }


def ref(
    rid: str,
    child: str,
    day: date,
    closed: date | None = None,
    nfa: bool | None = False,
    source: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    return {
        "child_id": child,
        "referral_id": rid,
        "referral_date": day,
        "closure_date": closed,
        "referral_nfa": nfa,
        "referral_source": source,
        "team": team,
    }


def assessment(aid: str, start: date, end: date | None, team: str | None = None) -> dict[str, Any]:
    return {
        "child_id": aid,
        "referral_id": aid,
        "assessment_id": aid,
        "start_date": start,
        "authorised_date": end,
        "team": team,
    }


def enquiry(
    sid: str, strategy: date, icpc: date | None, not_required: bool | None = None
) -> dict[str, Any]:
    return {
        "child_id": sid,
        "referral_id": sid,
        "s47_id": sid,
        "strategy_date": strategy,
        "icpc_date": icpc,
        "icpc_not_required": not_required,
    }


def plan(
    pid: str, child: str, start: date, end: date | None, previous: int | None = None
) -> dict[str, Any]:
    return {
        "child_id": child,
        "referral_id": f"ref-{pid}",
        "plan_id": pid,
        "start_date": start,
        "end_date": end,
        "previous_plans": previous,
    }


def ep(
    child: str,
    decom: date,
    dec: date | None,
    rne: str = "S",
    rec: str | None = None,
    ls: str = "C2",
    place: str = "U3",
    miles: float | None = None,
) -> dict[str, Any]:
    return {
        "child_id": child,
        "decom": decom,
        "dec": dec,
        "rne": rne,
        "rec": rec if rec is not None or dec is None else "X1",
        "ls": ls,
        "place": place,
        "placement_distance_miles": miles,
    }


def went_missing(child: str, start: date, end: date | None, kind: str | None) -> dict[str, Any]:
    return {"child_id": child, "start_date": start, "end_date": end, "missing_type": kind}


def outcomes(
    child: str,
    year: int,
    sdq: int | None,
    assessed: bool | None,
    teeth: bool | None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "child_id": child,
        "collection_year": year,
        "sdq_score": sdq,
        "health_assessment": assessed,
        "teeth_check": teeth,
    } | more


def leaver(
    child: str, year: int, in_touch: str | None, activity: str | None, accom: str | None
) -> dict[str, Any]:
    return {
        "child_id": child,
        "collection_year": year,
        "in_touch": in_touch,
        "activity": activity,
        "accommodation": accom,
    }


def service(
    iid: str,
    child: str,
    name: str,
    requested: date,
    started: date | None,
    ended: date | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    return {
        "child_id": child,
        "involvement_id": iid,
        "service": name,
        "team": team,
        "date_requested": requested,
        "date_started": started,
        "date_ended": ended,
    }


# --- the population: denominators of every rate ------------------------------------------

WHITE = "White"
ASIAN = "Asian or Asian British"
BLACK = "Black, African, Caribbean or Black British"
MIXED = "Mixed or multiple ethnic groups"
OTHER = "Other ethnic group"
REFUSED = "Refused or not obtained"

POPULATION = [
    pop(19_000, year=2023),  # mid-2023: periods starting in 2023 (rolling 12m to 2024-06)
    pop(20_000),  # mid-2024: the financial year 2024-25 starts in 2024
    pop(25_000, year=2025),  # mid-2025: only for periods starting in 2025 (2024-25 Q4)
    pop(10_400, sex="Male"),
    pop(9_600, sex="Female"),
    pop(1_000, age_band="Under 1"),
    pop(4_000, age_band="1 to 4"),
    pop(5_000, age_band="5 to 9"),
    pop(6_000, age_band="10 to 15"),
    pop(4_000, age_band="16 to 17"),
    pop(15_000, ethnic_group=WHITE),
    pop(2_000, ethnic_group=ASIAN),
    pop(1_000, ethnic_group=BLACK),
    pop(1_500, ethnic_group=MIXED),
    pop(500, ethnic_group=OTHER),
    pop(14_000, ethnicity="WBRI"),
    pop(400, ethnicity="BCRB"),
    pop(12_000, locality="North"),
    pop(8_000, locality="South"),
]

# --- children in need: referrals ------------------------------------------------------------
# For FY 2024-25: 13 referrals (rows marked IN), 5 re-referrals, 3 NFA, 9 children in need
# at 31 March 2025.

REFERRAL_CHILDREN = [
    kid("ref-span", "1", date(2010, 6, 1), "WBRI", False, "North"),
    kid("ref-leap-in", "2", date(2012, 1, 15), "BCRB", True, "North"),
    kid("ref-leap-out", "1", date(2015, 3, 3), "CHNE", False, "South"),
    kid("ref-sameday", "2", date(2018, 7, 7), "REFU", None, "South"),
    kid("ref-gap", "1", date(2008, 9, 9), "WBRI", False, "North"),
    # unborn: no date of birth, an expected one; sex 0 (not known)
    kid("ref-unborn", "0", None, None, None, "South", expected=date(2025, 6, 1)),
    # referred before birth (born 1 August 2024, referred 1 June 2024)
    kid("ref-prebirth", "2", date(2024, 8, 1), "MWBC", False, "North"),
    # (ref-nochild has no children row at all)
    kid("ref-bday", "1", date(2014, 5, 1), "WBRI", False, None),
    kid("ref-leapling", "2", date(2020, 2, 29), "APKN", False, "North"),
    kid("ref-late", "1", date(2007, 4, 1), "WBRI", True, "South"),
    kid("ref-older", "2", date(2006, 12, 1), "OOTH", False, "North"),
]

REFERRALS = [
    # r01 OUT (31 March 2024, the year before); the previous referral of r02
    ref("r01", "ref-span", date(2024, 3, 31), closed=date(2024, 4, 30), source="2A"),
    # r02 IN: re-referral (1 day after r01); NFA; same-day start and end: not open at 31 March
    ref("r02", "ref-span", date(2024, 4, 1), date(2024, 4, 1), True, "2A", "Team A"),
    # r03 OUT (29 Feb 2024): the previous referral of r04
    ref("r03", "ref-leap-in", date(2024, 2, 29), closed=date(2024, 3, 15)),
    # r04 IN: 29 Feb 2024 + 12 months = 28 Feb 2025: a re-referral; NFA missing (null) is
    # not NFA; still open at 31 March
    ref("r04", "ref-leap-in", date(2025, 2, 28), nfa=None, source="6", team="Team A"),
    # r05 OUT: the previous referral of r06
    ref("r05", "ref-leap-out", date(2024, 2, 29), closed=date(2024, 3, 10)),
    # r06 IN: 1 March 2025 is more than 12 months after 29 Feb 2024: not a re-referral;
    # closed on 31 March itself, so not in need at 31 March
    ref("r06", "ref-leap-out", date(2025, 3, 1), date(2025, 3, 31), False, "2A", "Team A"),
    # r07, r08 IN: two referrals on the same day; ties are broken by referral id, so r08
    # (police, Team B) is the re-referral and r07 (health, Team A) is not
    ref("r07", "ref-sameday", date(2024, 6, 10), date(2024, 6, 10), True, "3A", "Team A"),
    ref("r08", "ref-sameday", date(2024, 6, 10), None, False, "6", "Team B"),
    # r09 OUT (2023); r10 IN exactly 12 months later: a re-referral; closes after 31 March
    ref("r09", "ref-gap", date(2023, 4, 1), closed=date(2023, 4, 20)),
    ref("r10", "ref-gap", date(2024, 4, 1), date(2025, 4, 15), False, "6", "Team B"),
    # r11 IN: an unborn child (age band Unborn); open
    ref("r11", "ref-unborn", date(2025, 1, 10), None, False, "3A", "Team B"),
    # r12 IN: referred before birth (Unborn at the referral date); NFA
    ref("r12", "ref-prebirth", date(2024, 6, 1), date(2024, 10, 1), True, "3A", "Team B"),
    # r13 IN: a child with no children row; source and team missing; open
    ref("r13", "ref-nochild", date(2024, 11, 5)),
    # r14, r15 IN: the day before and on the 10th birthday (5 to 9, then 10 to 15); r15 is a
    # re-referral; both left open (two open episodes, one child in need)
    ref("r14", "ref-bday", date(2024, 4, 30), None, False, "2A", "Team B"),
    ref("r15", "ref-bday", date(2024, 5, 1), None, False, "2A", "Team B"),
    # r16 IN: born 29 Feb 2020, aged 4 on 28 Feb 2025 (1 to 4), 5 by 31 March (5 to 9)
    ref("r16", "ref-leapling", date(2025, 2, 28), None, False, "3A"),
    # r17 IN on the last day of the year; r18 OUT on the first day of the next
    ref("r17", "ref-late", date(2025, 3, 31), None, False, "6"),
    ref("r18", "ref-late", date(2025, 4, 1), None, False, "6"),
    # r19 OUT (started in 2023-24) but spans 31 March and is still open: in need at 31 March
    ref("r19", "ref-older", date(2023, 10, 1)),
]

# --- assessments: 45 working days, start day 0 ----------------------------------------------
# Bank holidays inside the windows: Good Friday 29 Mar and Easter Monday 1 Apr 2024, early May
# 6 May 2024; Christmas 25 and 26 Dec 2024 and New Year 1 Jan 2025.

ASSESSMENTS = [
    # IN, 45 working days exactly (3 bank holidays inside; without them it would be 6 May)
    assessment("as-easter-45", date(2024, 3, 4), date(2024, 5, 9), "Team A"),
    # IN the year, 46 working days: late
    assessment("as-easter-46", date(2024, 3, 4), date(2024, 5, 10), "Team A"),
    # IN, 45 working days across Christmas and New Year
    assessment("as-xmas-45", date(2024, 11, 25), date(2025, 1, 30), "Team A"),
    # IN, 46 working days: late
    assessment("as-xmas-46", date(2024, 11, 25), date(2025, 1, 31), "Team B"),
    # IN, same-day start and authorisation: 0 working days
    assessment("as-same", date(2025, 3, 31), date(2025, 3, 31), "Team B"),
    # IN, started on a Saturday, authorised the Monday: 1 working day; team missing
    assessment("as-weekend", date(2024, 6, 1), date(2024, 6, 3)),
    # OUT: still in progress (authorisation date missing)
    assessment("as-open", date(2024, 1, 10), None, "Team A"),
    # OUT: authorised after the year / before the year
    assessment("as-next", date(2025, 3, 1), date(2025, 4, 10), "Team A"),
    assessment("as-prev", date(2024, 1, 10), date(2024, 3, 28), "Team A"),
]

# --- section 47 enquiries and initial conferences: 15 working days ----------------------------

SECTION47 = [
    # both enquiries IN; conferences across Christmas: 15 working days (in time), 16 (late)
    enquiry("s47-xmas-15", date(2024, 12, 16), date(2025, 1, 9)),
    enquiry("s47-xmas-16", date(2024, 12, 16), date(2025, 1, 10)),
    # enquiry OUT (2023-24); conference IN, 15 working days across Easter 2024
    enquiry("s47-easter", date(2024, 3, 25), date(2024, 4, 17)),
    # IN; 16 working days across the late May bank holiday: late
    enquiry("s47-may", date(2024, 5, 20), date(2024, 6, 12)),
    # enquiry IN; no conference needed (date missing): not in the conference measure
    enquiry("s47-none", date(2024, 10, 1), None, not_required=True),
    # IN; same-day strategy discussion and conference: 0 working days
    enquiry("s47-same", date(2025, 3, 31), date(2025, 3, 31)),
    # enquiry IN; conference OUT (2025-26)
    enquiry("s47-next", date(2025, 3, 20), date(2025, 4, 3)),
]

# --- child protection plans --------------------------------------------------------------

CP_PLANS = [
    # open since 2023: on a plan at 31 March, not started in the year
    plan("p01", "cp-open", date(2023, 6, 1), None),
    # spans 31 March 2024: ended in the year (after a month), not started in it
    plan("p02", "cp-span", date(2024, 3, 15), date(2024, 4, 15)),
    # same-day start and end: started and ended in the year; a first plan
    plan("p03", "cp-sameday", date(2024, 7, 1), date(2024, 7, 1)),
    # p05 starts exactly 2 years after p04 ended; 29 Feb 2024 lies between, so it is 731
    # days: within two years. Still open at 31 March.
    plan("p04", "cp-2y-in", date(2020, 8, 1), date(2022, 6, 15)),
    plan("p05", "cp-2y-in", date(2024, 6, 15), None),
    # p07 starts 2 years and a day after p06 ended: a repeat, not within two years; it ends
    # on 31 March 2025, so it is not open at 31 March
    plan("p06", "cp-2y-out", date(2021, 1, 1), date(2022, 6, 15)),
    plan("p07", "cp-2y-out", date(2024, 6, 16), date(2025, 3, 31)),
    # no earlier plan here, but the CIN census says 2 before: a repeat, not within two years
    plan("p08", "cp-ncpp", date(2024, 9, 1), None, previous=2),
    # ended after exactly 2 years (731 days, 29 Feb 2024 inside): lasted two years
    plan("p09", "cp-2y-long", date(2022, 5, 10), date(2024, 5, 10)),
    # ended a day short of 2 years (730 days): not two years in a leap window
    plan("p10", "cp-2y-short", date(2022, 6, 1), date(2024, 5, 31)),
    # two plans on the same day for one child: both start, the later id is a repeat (of a
    # plan still open, so not "within two years of its end"); one child on a plan
    plan("p11", "cp-dup", date(2024, 10, 1), None),
    plan("p12", "cp-dup", date(2024, 10, 1), None),
    # OUT: starts the day after the year
    plan("p13", "cp-next", date(2025, 4, 1), None),
    # back to back: p15 starts the day p14 ends (within two years); p14 ended in the year
    plan("p14", "cp-back", date(2023, 1, 1), date(2024, 8, 1)),
    plan("p15", "cp-back", date(2024, 8, 1), None),
]

# Visits to children on a plan (latest on or before 31 March 2025 counts)
CP_VISITS = [
    # 10 working days before 31 March 2025 (Monday 17 March): timely
    {"child_id": "cp-open", "visit_date": date(2025, 3, 17)},
    # 11 working days before (Friday 14 March): not timely
    {"child_id": "cp-2y-in", "visit_date": date(2025, 3, 14)},
    # only seen after the period: no visit recorded by 31 March, so not in the denominator
    {"child_id": "cp-ncpp", "visit_date": date(2025, 4, 2)},
    # an old visit and one on the day itself: the latest (0 working days) counts, timely
    {"child_id": "cp-dup", "visit_date": date(2025, 1, 1)},
    {"child_id": "cp-dup", "visit_date": date(2025, 3, 31)},
    # not on a plan on 31 March: left out whatever its visits
    {"child_id": "cp-next", "visit_date": date(2025, 3, 30)},
    # cp-back is on a plan but has no visit recorded: not in the denominator
]

# --- children looked after, missing, adoption -----------------------------------------------

CLA_CHILDREN = [
    kid("cla-move", "1", date(2015, 1, 1)),
    kid("cla-3moves", "2", date(2024, 4, 10)),  # born the day care started: Under 1
    kid("cla-2moves-L", "1", date(2016, 1, 1)),
    kid("cla-Lstart", "2", date(2008, 2, 2)),
    kid("cla-ceased-31mar", "1", date(2010, 10, 10)),
    kid("cla-started-31mar", "2", date(2009, 3, 31)),
    kid("cla-sameday", "1", date(2019, 8, 10)),  # 5th birthday the day in care
    kid("cla-twice", "2", date(2019, 6, 1)),  # 4 at the first start, 5 at the second
    kid("cla-long-in", "1", date(2012, 1, 1)),
    kid("cla-long-short", "2", date(2012, 1, 1)),
    kid("cla-long-moved", "1", date(2011, 6, 1)),
    kid("cla-long-2y", "2", date(2011, 6, 1)),
    kid("cla-long-16", "1", date(2009, 3, 31)),  # 16 on 31 March 2025
    kid("cla-long-15", "2", date(2009, 4, 1)),  # 15 on 31 March 2025 (16 the next day)
    # (cla-long-nodob has no children row: age unknown)
    kid("cla-long-return", "1", date(2012, 5, 5)),
]

CLA_EPISODES = [
    # at 31 March; placements in the year: S (open on 1 April), P = 2 (the L episode of
    # November is a change of legal status only, not a move); 25 miles from home
    ep("cla-move", date(2023, 5, 1), date(2024, 6, 1)),
    ep("cla-move", date(2024, 6, 1), date(2024, 11, 1), rne="P"),
    ep("cla-move", date(2024, 11, 1), None, rne="L", ls="C1", miles=25.0),
    # started in the year; 3 placements (S, P, P); exactly 20 miles is not over 20
    ep("cla-3moves", date(2024, 4, 10), date(2024, 7, 1)),
    ep("cla-3moves", date(2024, 7, 1), date(2025, 1, 15), rne="P"),
    ep("cla-3moves", date(2025, 1, 15), None, rne="P", miles=20.0),
    # S (open on 1 April), L in May (not a placement), P in Sept = 2; distance unknown
    ep("cla-2moves-L", date(2023, 1, 1), date(2024, 5, 1)),
    ep("cla-2moves-L", date(2024, 5, 1), date(2024, 9, 1), rne="L", ls="C1"),
    ep("cla-2moves-L", date(2024, 9, 1), None, rne="P", ls="C1"),
    # an L episode open on 1 April is the placement held then (1), then P, P = 3
    ep("cla-Lstart", date(2020, 1, 1), date(2023, 6, 1)),
    ep("cla-Lstart", date(2023, 6, 1), date(2024, 8, 1), rne="L", ls="C1"),
    ep("cla-Lstart", date(2024, 8, 1), date(2024, 12, 1), rne="P", ls="C1"),
    ep("cla-Lstart", date(2024, 12, 1), None, rne="P", ls="C1", miles=5.5),
    # started in the year, ceased (returned home) on 31 March itself: not looked after then
    ep("cla-ceased-31mar", date(2024, 9, 1), date(2025, 3, 31), rec="E13"),
    # started on 31 March: looked after at 31 March
    ep("cla-started-31mar", date(2025, 3, 31), None),
    # short breaks only (V3): out of every measure
    ep("cla-shortbreak", date(2024, 10, 1), None, ls="V3"),
    # same-day start and end
    ep("cla-sameday", date(2024, 8, 10), date(2024, 8, 10), rec="E13"),
    # two periods of care in the year: counted once as starting, once as ceasing
    ep("cla-twice", date(2024, 4, 5), date(2024, 5, 5), rec="E13"),
    ep("cla-twice", date(2024, 10, 1), date(2025, 1, 10), rec="E13"),
    # long-term stability (under 16, in care 2.5 years, same placement 2 years), at 31 March
    # 2025: in care since 30 Sept 2022 (30 months later is 30 March 2025: long enough);
    # the L episode of Jan 2024 does not break the placement: stable; 20.1 miles is over 20
    ep("cla-long-in", date(2022, 9, 30), date(2024, 1, 10)),
    ep("cla-long-in", date(2024, 1, 10), None, rne="L", ls="C1", miles=20.1),
    # in care since 1 Oct 2022: 30 months reached only on 1 April 2025: not long-term
    ep("cla-long-short", date(2022, 10, 1), None),
    # long-term, moved on 1 April 2023: 2 years only on 1 April 2025: not stable
    ep("cla-long-moved", date(2021, 1, 1), date(2023, 4, 1)),
    ep("cla-long-moved", date(2023, 4, 1), None, rne="P"),
    # long-term, moved on 31 March 2023: 2 years on 31 March 2025 (29 Feb 2024 inside): stable
    ep("cla-long-2y", date(2020, 5, 1), date(2023, 3, 31)),
    ep("cla-long-2y", date(2023, 3, 31), None, rne="P", miles=3.0),
    # aged 16 at 31 March: not in the stability measure
    ep("cla-long-16", date(2020, 1, 1), None),
    # aged 15 at 31 March: in the measure, stable
    ep("cla-long-15", date(2020, 1, 1), None),
    # no date of birth: age unknown, not in the stability measure
    ep("cla-long-nodob", date(2020, 1, 1), None),
    # returned to care in Jan 2023: the current period of care is under 2.5 years
    ep("cla-long-return", date(2019, 1, 1), date(2022, 12, 1), rec="E13"),
    ep("cla-long-return", date(2023, 1, 1), None),
    # --- adoptions (A1: entering care to adoptive placement; A2: placement order to match)
    # adopted 31 March 2022 (2021-22): outside 2024-25's three years, inside 2023-24's.
    # A1 2020-01-01 -> 2020-10-01 = 274 days; A2 2020-05-01 -> match 2020-08-01 = 92 days.
    ep("ad-old", date(2020, 1, 1), date(2020, 5, 1)),
    ep("ad-old", date(2020, 5, 1), date(2020, 10, 1), rne="L", ls="E1"),
    ep("ad-old", date(2020, 10, 1), date(2022, 3, 31), "P", "E11", "E1", "A6"),
    # adopted 1 Sept 2022 (2022-23). A1 2021-01-10 -> 2022-03-01 = 415; A2 92 (match 2022-02-01)
    ep("ad-2022", date(2021, 1, 10), date(2021, 11, 1)),
    ep("ad-2022", date(2021, 11, 1), date(2022, 3, 1), rne="L", ls="E1"),
    ep("ad-2022", date(2022, 3, 1), date(2022, 9, 1), "P", "E11", "E1", "A6"),
    # adopted 15 Dec 2023 (2023-24), E12. A1 2022-01-01 -> 2023-02-01 = 396; A2 -> 2023-01-10 =
    # 162
    ep("ad-2023", date(2022, 1, 1), date(2022, 8, 1), place="U4"),
    ep("ad-2023", date(2022, 8, 1), date(2023, 2, 1), rne="L", ls="E1", place="U4"),
    ep("ad-2023", date(2023, 2, 1), date(2023, 12, 15), "P", "E12", "E1", "A6"),
    # adopted 1 June 2023: never seen entering care (no S episode): not in A1; no match date:
    # not in A2
    ep("ad-nostart", date(2022, 6, 1), date(2023, 6, 1), "P", "E11", "E1", "A6"),
    # adopted 20 Nov 2024 (IN 2024-25: ceased, looked after during the year).
    # A1 2023-03-01 -> 2024-03-01 = 366 (leap); A2 2023-09-01 -> 2024-02-01 = 153
    ep("ad-2024", date(2023, 3, 1), date(2023, 9, 1)),
    ep("ad-2024", date(2023, 9, 1), date(2024, 3, 1), rne="L", ls="E1"),
    ep("ad-2024", date(2024, 3, 1), date(2024, 11, 20), "P", "E11", "E1", "A5"),
    # adopted on 31 March 2025 (IN): A1 2023-06-01 -> 2024-08-01 = 427; A2 2024-01-05 ->
    # 2024-07-01 = 178
    ep("ad-e12", date(2023, 6, 1), date(2024, 1, 5)),
    ep("ad-e12", date(2024, 1, 5), date(2024, 8, 1), rne="L", ls="E1"),
    ep("ad-e12", date(2024, 8, 1), date(2025, 3, 31), "P", "E12", "E1", "A6"),
    # adopted 10 April 2025 (after the year): still looked after at 31 March 2025; two
    # placements in the year (S open on 1 April, P in May)
    ep("ad-after", date(2023, 2, 1), date(2024, 5, 1)),
    ep("ad-after", date(2024, 5, 1), date(2025, 4, 10), "P", "E11", "E1", "A6"),
    # 2019-20 only (the foster carer adoption, see the xfail test): A1 of ad-2019 is
    # 2017-09-01 -> 2018-09-01 = 365; ad-foster moved in with its adopters (its foster
    # carers) on entering care, 2017-05-01: 0 days
    ep("ad-2019", date(2017, 9, 1), date(2018, 9, 1), place="U4"),
    ep("ad-2019", date(2018, 9, 1), date(2019, 10, 1), "P", "E11", "E1", "A6"),
    ep("ad-foster", date(2017, 5, 1), date(2018, 6, 1)),
    ep("ad-foster", date(2018, 6, 1), date(2019, 6, 30), "B", "E11", "E1", "A4"),
]

MISSING = [
    went_missing("cla-move", date(2024, 6, 20), date(2024, 6, 21), "M"),  # IN
    went_missing("cla-3moves", date(2024, 8, 1), date(2024, 8, 2), "A"),  # away, not missing
    went_missing("cla-2moves-L", date(2025, 3, 31), None, "m"),  # IN: not returned; lower case
    went_missing("cla-Lstart", date(2024, 3, 30), date(2024, 4, 2), "M"),  # began before
    went_missing("cla-sameday", date(2024, 8, 10), date(2024, 8, 10), "M"),  # IN
    went_missing("cla-shortbreak", date(2024, 11, 1), date(2024, 11, 2), "M"),  # short breaks
    went_missing("cla-ceased-31mar", date(2025, 4, 5), None, "M"),  # after the year
    went_missing("cla-long-in", date(2024, 9, 9), date(2024, 9, 10), None),  # type missing
    went_missing("nla-missing", date(2024, 7, 1), date(2024, 7, 2), "M"),  # never looked after
]

ADOPTIONS: list[dict[str, Any]] = [
    {"child_id": "ad-old", "date_match": date(2020, 8, 1)},
    {"child_id": "ad-2022", "date_match": date(2022, 2, 1)},
    {"child_id": "ad-2023", "date_match": date(2023, 1, 10)},
    {"child_id": "ad-nostart", "date_match": None},
    {"child_id": "ad-2024", "date_match": date(2024, 2, 1)},
    {"child_id": "ad-e12", "date_match": date(2024, 7, 1)},
    {"child_id": "ad-after", "date_match": date(2024, 4, 1)},
    {"child_id": "ad-foster", "date_match": date(2018, 7, 1), "foster_care": True},
]

# --- OC2 outcomes (collection_year = year ending 31 March) -----------------------------------

OC2 = [
    # 2025 return (2024-25): 6 children
    outcomes("oc-a", 2025, 17, True, True),  # SDQ 17: a cause for concern (17 or more)
    outcomes("oc-b", 2025, 16, False, True, health_check=True),  # 16: not; HEALTH_CHECK only
    outcomes("oc-c", 2025, None, None, None, sdq_reason="SDQ1"),  # no score; unknowns not hits
    outcomes("oc-d", 2025, 41, True, False),  # 41 is not a valid score: not scored
    outcomes("oc-e", 2025, 0, True, True),  # 0 is a valid score
    outcomes("oc-f", 2025, 40, True, False),  # 40: concern
    # 2024 return (2023-24)
    outcomes("oc-a", 2024, 20, False, True),
    outcomes("oc-g", 2024, 10, True, True),
]

# --- care leavers (OC3): age on 31 March is the age reached at the birthday in the year -------

LEAVER_CHILDREN = [
    kid("cl-17", "1", date(2007, 6, 1)),  # 17 -> 17 to 18
    kid("cl-19-on-31mar", "2", date(2006, 3, 31)),  # 19th birthday on 31 March -> 19 to 21
    kid("cl-18", "1", date(2006, 4, 1)),  # 18th birthday on 1 April 2024 -> 17 to 18
    kid("cl-21", "2", date(2003, 12, 25)),  # 21 -> 19 to 21
    kid("cl-19", "1", date(2005, 11, 11)),  # 19 -> 19 to 21
    kid("cl-leap", "2", date(2004, 2, 29)),  # 21 (born 29 Feb) -> 19 to 21
]

CARE_LEAVERS = [
    leaver("cl-17", 2025, "YES", "F1", "B1"),  # in touch, EET, suitable
    leaver("cl-19-on-31mar", 2025, "yes", "G4", "B2"),  # in touch (any case); NEET; unsuitable
    leaver("cl-18", 2025, "NO", "0", "0"),  # not in touch; not known; not known
    leaver("cl-21", 2025, "REFU", "P2", "C1 "),  # refused contact; EET; suitable (spaces)
    leaver("cl-19", 2025, "YES", None, None),  # in touch; activity and accommodation missing
    leaver("cl-leap", 2025, "YES", "F5", "B1"),  # in touch, EET, suitable
    leaver("cl-17", 2024, "NO", "G6", "B2"),  # the 2024 return: not in 2024-25
]

# --- local services --------------------------------------------------------------------------

FS, PARENTING = "Family Support", "Parenting"

SERVICES = [
    # requested IN; waited 10 days; ended in Sept
    service("i01", "sv-a", FS, date(2024, 4, 1), date(2024, 4, 11), date(2024, 9, 30), "East"),
    # requested IN; waited 20 days; still open at 31 March
    service("i02", "sv-b", FS, date(2024, 5, 1), date(2024, 5, 21), None, "East"),
    # requested in 2023-24, started IN the year after 60 days (29 Feb 2024 inside);
    # ended on 31 March 2025: not open at 31 March
    service("i03", "sv-c", FS, date(2024, 2, 20), date(2024, 4, 20), date(2025, 3, 31), "West"),
    # same-day request, start and end: waited 0 days
    service("i04", "sv-d", PARENTING, date(2024, 6, 1), date(2024, 6, 1), date(2024, 6, 1), "West"),
    # requested IN, never started: no wait, not helped, not open; team missing
    service("i05", "sv-e", PARENTING, date(2025, 3, 1), None),
    # ended the day before the year: not helped in it
    service("i06", "sv-f", FS, date(2023, 1, 1), date(2023, 2, 1), date(2024, 3, 31), "East"),
    # ended on 1 April 2024: helped in the year
    service("i07", "sv-f", FS, date(2024, 1, 5), date(2024, 1, 20), date(2024, 4, 1), "East"),
    # i09 is requested 28 Feb 2025, 12 months after i08 (29 Feb 2024): a repeat; waited 14
    # days; open. i10 follows i09 a month later: a repeat; never started.
    service("i08", "sv-rep", PARENTING, date(2024, 2, 29), date(2024, 3, 5), date(2024, 3, 20)),
    service("i09", "sv-rep", PARENTING, date(2025, 2, 28), date(2025, 3, 14)),
    service("i10", "sv-rep", PARENTING, date(2025, 3, 20), None),
    # i12 is requested 1 March 2025: more than 12 months after i11 (29 Feb 2024): not a repeat
    service("i11", "sv-leapout", FS, date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 2)),
    service("i12", "sv-leapout", FS, date(2025, 3, 1), None),
    # two requests on the same day (tie broken by id: i14 is the repeat); i13 waited 7 days
    # and is open; i14 never started; i16 a third request in Dec (a repeat), waited 5 days
    service("i13", "sv-sameday", FS, date(2024, 7, 1), date(2024, 7, 8), None, "East"),
    service("i14", "sv-sameday", FS, date(2024, 7, 1), None, None, "East"),
    service(
        "i16", "sv-sameday", FS, date(2024, 12, 1), date(2024, 12, 6), date(2025, 1, 6), "East"
    ),
    # sv-a's first Parenting request: not a repeat (its earlier request was Family Support);
    # waited 21 days; open
    service("i15", "sv-a", PARENTING, date(2024, 10, 1), date(2024, 10, 22), None, "West"),
]

# --- escalation (referrals and requests in 2026-27, far from the years above) -----------------

ESCALATION_REFERRALS = [
    # 3 referrals in the 12 months to 31 Dec 2027, two on the same day
    ref("e01", "esc-ref3", date(2027, 1, 15), date(2027, 1, 15)),
    ref("e02", "esc-ref3", date(2027, 6, 1), date(2027, 6, 1)),
    ref("e03", "esc-ref3", date(2027, 6, 1), date(2027, 6, 1)),
    # the first on 31 Dec 2026, exactly 12 months before: counted
    ref("e04", "esc-edge", date(2026, 12, 31), date(2026, 12, 31)),
    ref("e05", "esc-edge", date(2027, 3, 1), date(2027, 3, 1)),
    ref("e06", "esc-edge", date(2027, 11, 30), date(2027, 11, 30)),
    # the first a day too early: only 2 counted
    ref("e07", "esc-out", date(2026, 12, 30), date(2026, 12, 30)),
    ref("e08", "esc-out", date(2027, 5, 5), date(2027, 5, 5)),
    ref("e09", "esc-out", date(2027, 8, 8), date(2027, 8, 8)),
    # 3 referrals and 2 service requests: both reasons
    ref("e10", "esc-both", date(2027, 2, 2), date(2027, 2, 2)),
    ref("e11", "esc-both", date(2027, 4, 4), date(2027, 4, 4)),
    ref("e12", "esc-both", date(2027, 10, 10), date(2027, 10, 10)),
    # the last after the day the list is drawn: only 2 counted
    ref("e13", "esc-after", date(2027, 2, 2), date(2027, 2, 2)),
    ref("e14", "esc-after", date(2027, 3, 3), date(2027, 3, 3)),
    ref("e15", "esc-after", date(2028, 1, 1), date(2028, 1, 1)),
    # leap-year window (see the xfail test): 1 March 2031 is exactly 12 months before
    # 1 March 2032
    ref("e16", "esc-leap", date(2031, 3, 1), date(2031, 3, 1)),
    ref("e17", "esc-leap", date(2031, 9, 1), date(2031, 9, 1)),
    ref("e18", "esc-leap", date(2032, 2, 1), date(2032, 2, 1)),
]

ESCALATION_SERVICES = [
    service("e-i1", "esc-svc", FS, date(2027, 2, 1), None),
    service("e-i2", "esc-svc", FS, date(2027, 9, 1), None),
    service("e-i3", "esc-both", PARENTING, date(2027, 3, 1), None),
    service("e-i4", "esc-both", PARENTING, date(2027, 9, 1), None),
    service("e-i5", "esc-one", FS, date(2027, 9, 1), None),  # one request: not flagged
]

# --- disclosure control: referrals in 2028-29 by sex: 7 male, 3 female, 6 not known ----------

DISCLOSURE_CHILDREN = [kid(f"dc-m{i}", "1") for i in range(7)] + [
    kid(f"dc-f{i}", "2") for i in range(3)
]
DISCLOSURE_REFERRALS = [
    ref(f"dc-{who}", who, date(2028, 5, 1), date(2028, 5, 1))
    for who in [f"dc-m{i}" for i in range(7)]
    + [f"dc-f{i}" for i in range(3)]
    + [f"dc-n{i}" for i in range(6)]  # no children row: sex not known
]

ROWS: Rows = {
    "children": REFERRAL_CHILDREN + CLA_CHILDREN + LEAVER_CHILDREN + DISCLOSURE_CHILDREN,
    "population": POPULATION,
    "referrals": REFERRALS + ESCALATION_REFERRALS + DISCLOSURE_REFERRALS,
    "assessments": ASSESSMENTS,
    "section47": SECTION47,
    "cp_plans": CP_PLANS,
    "cp_visits": CP_VISITS,
    "cla_episodes": CLA_EPISODES,
    "missing": MISSING,
    "adoptions": ADOPTIONS,
    "oc2": OC2,
    "care_leavers": CARE_LEAVERS,
    "service_involvements": SERVICES + ESCALATION_SERVICES,
}


# --- one warehouse per engine, loaded once --------------------------------------------------


class Golden:
    """The golden warehouse on one engine, with each figure computed at most once."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.tables = Tables(warehouse)
        self._cache: dict[tuple[str, str, tuple[str, ...]], list[IndicatorResult]] = {}

    def results(self, iid: str, period: str, *breakdown: str) -> list[IndicatorResult]:
        key = (iid, period, breakdown)
        if key not in self._cache:
            self._cache[key] = compute_indicator(
                REGISTRY[iid], self.tables, parse(period), list(breakdown)
            )
        return self._cache[key]

    def one(self, iid: str, period: str = FY) -> IndicatorResult:
        (result,) = self.results(iid, period)
        return result

    def groups(self, iid: str, period: str, dimension: str) -> dict[str, IndicatorResult]:
        return {(r.breakdown or {})[dimension]: r for r in self.results(iid, period, dimension)}


# Spark takes about two minutes to load the rows and a second or so per figure.
GOLDEN_ENGINES = [pytest.param(e, marks=pytest.mark.slow) if e == "pyspark" else e for e in ENGINES]


@pytest.fixture(scope="module", params=GOLDEN_ENGINES)
def golden(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Golden]:
    """The golden rows on each engine in turn (loaded once per engine for the module)."""
    name: str = request.param
    if name == "duckdb":
        path = tmp_path_factory.mktemp("golden") / "warehouse.duckdb"
        with Warehouse.connect(f"duckdb://{path}") as w:
            load_rows(w, ROWS)
            yield Golden(w)
    elif name == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        with server.database() as url, Warehouse.connect(url) as w:
            load_rows(w, ROWS)
            yield Golden(w)
    else:
        session = request.getfixturevalue("spark_session")
        with spark_database(session):
            w = Warehouse(spark_backend(session), "pyspark://local[2]")
            load_rows(w, ROWS)
            yield Golden(w)


Figure = tuple[float | None, float | None, float | None]  # value, numerator, denominator


def check(
    result: IndicatorResult, value: float | None, num: float | None, den: float | None
) -> None:
    """The figure, its numerator and its denominator, exactly (floats to 1e-9)."""
    got = (result.value, result.numerator, result.denominator)
    assert got == pytest.approx((value, num, den), abs=1e-9), f"{result.id} {result.breakdown}"


def check_groups(groups: dict[str, IndicatorResult], expected: dict[str, Figure]) -> None:
    """Every group of a breakdown, and no other."""
    assert set(groups) == set(expected)
    for name, (value, num, den) in expected.items():
        check(groups[name], value, num, den)


# --- children in need -------------------------------------------------------------------------


@covers("cin.referrals", "cin.rereferral_pct", "cin.nfa_pct", "cin.children_in_need_31mar")
def test_referrals_for_the_year(golden: Golden) -> None:
    # IN: r02 r04 r06 r07 r08 r10 r11 r12 r13 r14 r15 r16 r17 (13); OUT: r01 r03 r05 r09
    # r19 (earlier), r18 (1 April 2025), the escalation and disclosure rows (2026 on)
    check(golden.one("cin.referrals"), 13, 13, None)
    # re-referrals: r02 (a day after r01), r04 (29 Feb + 12 months = 28 Feb), r08 (same day as
    # r07, later id), r10 (exactly 12 months), r15 (a day after r14) = 5 of 13. Not r06 (1 March
    # 2025 is over 12 months after 29 Feb 2024) nor r07 (the first of the same-day pair).
    check(golden.one("cin.rereferral_pct"), 5 / 13 * 100, 5, 13)
    # NFA: r02, r07, r12 (r04's missing NFA flag is not NFA)
    check(golden.one("cin.nfa_pct"), 3 / 13 * 100, 3, 13)
    # open on 31 March 2025: ref-leap-in (r04), ref-sameday (r08), ref-gap (r10 closes
    # 15 April), ref-unborn, ref-nochild, ref-bday (two open referrals, one child),
    # ref-leapling, ref-late (r17, referred that day), ref-older (r19, open since 2023) = 9.
    # Not: r06 (closed on 31 March), r02/r07 (closed the day they opened), r12 (closed Oct).
    check(golden.one("cin.children_in_need_31mar"), 9, 9, None)


@covers("cin.referral_rate", "cin.cin_rate_31mar")
def test_referral_and_children_in_need_rates(golden: Golden) -> None:
    # mid-2024 estimate for 2024-25 (not mid-2023, not mid-2025): 20,000 children
    check(golden.one("cin.referral_rate"), 13 / 20_000 * 10_000, 13, 20_000)
    check(golden.one("cin.cin_rate_31mar"), 9 / 20_000 * 10_000, 9, 20_000)


def test_referral_breakdown_by_age_band(golden: Golden) -> None:
    # age at the referral date. 10 to 15: r02 (13), r04 (13), r10 (15), r15 (10th birthday);
    # 5 to 9: r06 (9, birthday 3 March), r07 and r08 (5), r14 (the day before turning 10);
    # 1 to 4: r16 (born 29 Feb 2020, still 4 on 28 Feb 2025); 16 to 17: r17 (17 on 31 March);
    # Unborn: r11 (expected date of birth only), r12 (referred before birth); Not known: r13
    groups = golden.groups("cin.referrals", FY, "age_band")
    check_groups(
        groups,
        {
            "1 to 4": (1, 1, None),
            "5 to 9": (4, 4, None),
            "10 to 15": (4, 4, None),
            "16 to 17": (1, 1, None),
            "Unborn": (2, 2, None),
            "Not known": (1, 1, None),
        },
    )
    # rates per 10,000 children of the same age band; no population for Unborn or Not known
    check_groups(
        golden.groups("cin.referral_rate", FY, "age_band"),
        {
            "1 to 4": (1 / 4_000 * 10_000, 1, 4_000),
            "5 to 9": (4 / 5_000 * 10_000, 4, 5_000),
            "10 to 15": (4 / 6_000 * 10_000, 4, 6_000),
            "16 to 17": (1 / 4_000 * 10_000, 1, 4_000),
            "Unborn": (None, 2, None),
            "Not known": (None, 1, None),
        },
    )


def test_children_in_need_at_31_march_by_age_band_and_sex(golden: Golden) -> None:
    # ages on 31 March 2025: ref-leap-in 13, ref-bday 10 (10 to 15); ref-gap 16, ref-late 17
    # (16 to 17); ref-older 18; ref-sameday 6 and ref-leapling 5 (born 29 Feb 2020: 5 on
    # 1 March 2025); ref-unborn Unborn; ref-nochild Not known
    check_groups(
        golden.groups("cin.children_in_need_31mar", FY, "age_band"),
        {
            "5 to 9": (2, 2, None),
            "10 to 15": (2, 2, None),
            "16 to 17": (2, 2, None),
            "18 and over": (1, 1, None),
            "Unborn": (1, 1, None),
            "Not known": (1, 1, None),
        },
    )
    # Female: leap-in, sameday, leapling, older; Male: gap, bday, late; sex 0 (ref-unborn) and
    # no children row (ref-nochild): Not known, with no population to divide by
    check_groups(
        golden.groups("cin.cin_rate_31mar", FY, "sex"),
        {
            "Female": (4 / 9_600 * 10_000, 4, 9_600),
            "Male": (3 / 10_400 * 10_000, 3, 10_400),
            "Not known": (None, 2, None),
        },
    )


def test_referral_breakdown_by_ethnicity(golden: Golden) -> None:
    # WBRI: r02 r10 r14 r15 r17; BCRB r04; CHNE r06 (Chinese is grouped with Asian); REFU r07
    # r08; MWBC r12; APKN r16; unknown: r11 (no code), r13 (no children row)
    check_groups(
        golden.groups("cin.referral_rate", FY, "ethnic_group"),
        {
            WHITE: (5 / 15_000 * 10_000, 5, 15_000),
            BLACK: (1 / 1_000 * 10_000, 1, 1_000),
            ASIAN: (2 / 2_000 * 10_000, 2, 2_000),
            MIXED: (1 / 1_500 * 10_000, 1, 1_500),
            REFUSED: (None, 2, None),
            "Not known": (None, 2, None),
        },
    )
    check_groups(
        golden.groups("cin.referral_rate", FY, "ethnicity"),
        {
            "WBRI": (5 / 14_000 * 10_000, 5, 14_000),
            "BCRB": (1 / 400 * 10_000, 1, 400),
            "CHNE": (None, 1, None),
            "REFU": (None, 2, None),
            "MWBC": (None, 1, None),
            "APKN": (None, 1, None),
            "Not known": (None, 2, None),
        },
    )


def test_referral_breakdown_by_disability_locality_source_and_team(golden: Golden) -> None:
    # disabled: ref-leap-in (r04), ref-late (r17); disability missing: ref-sameday (r07, r08),
    # ref-unborn (r11), ref-nochild (r13)
    check_groups(
        golden.groups("cin.referrals", FY, "disability"),
        {"Disabled": (2, 2, None), "Not disabled": (7, 7, None), "Not known": (4, 4, None)},
    )
    # North: r02 r04 r10 r12 r16; South: r06 r07 r08 r11 r17; none: r13 r14 r15
    check_groups(
        golden.groups("cin.referral_rate", FY, "locality"),
        {
            "North": (5 / 12_000 * 10_000, 5, 12_000),
            "South": (5 / 8_000 * 10_000, 5, 8_000),
            "Not known": (None, 3, None),
        },
    )
    # re-referrals by source: the same-day tie puts r08's re-referral under police (6), r07
    # under health (3A) as a first referral
    check_groups(
        golden.groups("cin.rereferral_pct", FY, "referral_source"),
        {
            "2A": (50.0, 2, 4),  # r02 (re), r06, r14, r15 (re)
            "3A": (0.0, 0, 4),  # r07, r11, r12, r16
            "6": (75.0, 3, 4),  # r04 (re), r08 (re), r10 (re), r17
            "Not known": (0.0, 0, 1),  # r13
        },
    )
    check_groups(
        golden.groups("cin.referrals", FY, "team"),
        {
            "Team A": (4, 4, None),  # r02 r04 r06 r07
            "Team B": (6, 6, None),  # r08 r10 r11 r12 r14 r15
            "Not known": (3, 3, None),  # r13 r16 r17
        },
    )


def test_breakdowns_that_do_not_apply_give_nothing(golden: Golden) -> None:
    assert golden.results("cin.referrals", FY, "service") == []
    assert golden.results("cin.s47_enquiries", FY, "team") == []
    assert golden.results("cin.assessments_completed", FY, "leaver_age") == []


def test_rates_by_a_dimension_without_a_population(golden: Golden) -> None:
    check_groups(
        golden.groups("cin.referral_rate", FY, "disability"),
        {
            "Disabled": (None, 2, None),
            "Not disabled": (None, 7, None),
            "Not known": (None, 4, None),
        },
    )
    check_groups(
        golden.groups("cin.referral_rate", FY, "team"),
        {"Team A": (None, 4, None), "Team B": (None, 6, None), "Not known": (None, 3, None)},
    )


def test_referral_periods_quarter_month_and_rolling(golden: Golden) -> None:
    q1 = "2024-25 Q1"  # April to June 2024
    # r02 r07 r08 r10 r12 r14 r15; re-referrals r02 r08 r10 r15
    check(golden.one("cin.referrals", q1), 7, 7, None)
    check(golden.one("cin.rereferral_pct", q1), 4 / 7 * 100, 4, 7)
    # open on 30 June 2024: ref-sameday (r08), ref-gap (r10), ref-prebirth (r12, closed in
    # Oct), ref-bday (r14, r15), ref-older (r19); r07 closed the day it opened
    check(golden.one("cin.children_in_need_31mar", q1), 5, 5, None)
    # February 2025 (28 days): r04 (a re-referral) and r16
    check(golden.one("cin.referrals", "2025-02"), 2, 2, None)
    check(golden.one("cin.rereferral_pct", "2025-02"), 50.0, 1, 2)
    # open on 28 Feb 2025: r04 and r16 (referred that day), r08, r10, r11, r13, r14/r15, r19;
    # not r06 (1 March) nor r17
    check(golden.one("cin.children_in_need_31mar", "2025-02"), 8, 8, None)
    # 12 months to June 2024 (1 July 2023 to 30 June 2024): r19, r03, r05 (29 Feb), r01
    # (31 March) and the 7 of Q1 = 11; re-referrals still the 4 of Q1. The rate uses mid-2023
    # (the period starts in 2023): 19,000.
    rolling = "12m to 2024-06"
    check(golden.one("cin.referrals", rolling), 11, 11, None)
    check(golden.one("cin.rereferral_pct", rolling), 4 / 11 * 100, 4, 11)
    check(golden.one("cin.referral_rate", rolling), 11 / 19_000 * 10_000, 11, 19_000)
    check(golden.one("cin.children_in_need_31mar", rolling), 5, 5, None)
    # Q4 starts in January 2025: the rate uses the mid-2025 estimate (25,000)
    check(golden.one("cin.cin_rate_31mar", "2024-25 Q4"), 9 / 25_000 * 10_000, 9, 25_000)


@covers("cin.assessments_completed", "cin.assessment_45wd_pct", "cin.assessment_median_wd")
def test_assessments_within_45_working_days(golden: Golden) -> None:
    # authorised in the year: as-easter-45, as-easter-46, as-xmas-45, as-xmas-46, as-same,
    # as-weekend = 6 (not as-open: no authorisation; not as-next / as-prev)
    check(golden.one("cin.assessments_completed"), 6, 6, None)
    # within 45: easter-45 (45), xmas-45 (45), same (0), weekend (1) = 4 of 6
    check(golden.one("cin.assessment_45wd_pct"), 4 / 6 * 100, 4, 6)
    # working days 0, 1, 45, 45, 46, 46: median 45
    check(golden.one("cin.assessment_median_wd"), 45.0, None, 6)
    # by team: A = easter-45, easter-46, xmas-45; B = xmas-46, same; none = weekend
    check_groups(
        golden.groups("cin.assessment_45wd_pct", FY, "team"),
        {
            "Team A": (2 / 3 * 100, 2, 3),
            "Team B": (50.0, 1, 2),
            "Not known": (100.0, 1, 1),
        },
    )
    # Q4 (Jan to March 2025): xmas-45, xmas-46, same
    check(golden.one("cin.assessments_completed", "2024-25 Q4"), 3, 3, None)
    check(golden.one("cin.assessment_45wd_pct", "2024-25 Q4"), 2 / 3 * 100, 2, 3)
    check(golden.one("cin.assessment_median_wd", "2024-25 Q4"), 45.0, None, 3)
    # January 2025: 45 and 46 working days: the median interpolates to 45.5
    check(golden.one("cin.assessment_median_wd", "2025-01"), 45.5, None, 2)
    check(golden.one("cin.assessment_45wd_pct", "2025-01"), 50.0, 1, 2)


@covers("cin.s47_enquiries", "cin.icpc_15wd_pct")
def test_section_47_and_initial_conferences_within_15_working_days(golden: Golden) -> None:
    # strategy discussions in the year: xmas-15, xmas-16, may, none, same, next = 6 (easter
    # was in March 2024)
    check(golden.one("cin.s47_enquiries"), 6, 6, None)
    # conferences in the year: xmas-15 (15), easter (15, enquiry the year before), same (0)
    # in time; xmas-16 (16), may (16) late; none (no conference) and next (April 2025) out
    check(golden.one("cin.icpc_15wd_pct"), 60.0, 3, 5)
    # Q4: conferences xmas-15, xmas-16, same; enquiries same, next
    check(golden.one("cin.icpc_15wd_pct", "2024-25 Q4"), 2 / 3 * 100, 2, 3)
    check(golden.one("cin.s47_enquiries", "2024-25 Q4"), 2, 2, None)


# --- child protection -------------------------------------------------------------------------


@covers(
    "cp.plans_31mar",
    "cp.plan_rate_31mar",
    "cp.plans_started",
    "cp.repeat_plan_pct",
    "cp.repeat_plan_2y_pct",
    "cp.plans_ended",
    "cp.ended_2y_plus_pct",
    "cp.visits_timely_pct",
)
def test_child_protection_plans(golden: Golden) -> None:
    # visits: cp-open (10 working days) and cp-dup (0) timely, cp-2y-in (11) not; cp-ncpp
    # and cp-back have no visit by 31 March; cp-next is not on a plan
    check(golden.one("cp.visits_timely_pct"), 2 / 3 * 100, 2, 3)
    # open on 31 March 2025: cp-open, cp-2y-in (p05), cp-ncpp, cp-dup (two plans, one
    # child), cp-back (p15) = 5. Not p07 (ended 31 March), p13 (starts 1 April).
    check(golden.one("cp.plans_31mar"), 5, 5, None)
    check(golden.one("cp.plan_rate_31mar"), 5 / 20_000 * 10_000, 5, 20_000)
    # started: p03 p05 p07 p08 p11 p12 p15 = 7
    check(golden.one("cp.plans_started"), 7, 7, None)
    # second or subsequent: p05, p07 (earlier plans here), p08 (census count), p12 (same-day
    # tie), p15 = 5; not p03, p11 (first plans)
    check(golden.one("cp.repeat_plan_pct"), 5 / 7 * 100, 5, 7)
    # within two years of the previous plan's end: p05 (exactly 2 years, 731 days across
    # 29 Feb 2024), p15 (back to back) = 2; p07 (2 years and a day), p08 (end unknown), p12
    # (previous plan still open) are not
    check(golden.one("cp.repeat_plan_2y_pct"), 2 / 7 * 100, 2, 7)
    # ended: p02 p03 p07 p09 p10 p14 = 6; two years or more: p09 only (exactly 2 years); p10
    # lasted 730 days, a day short of 2 years because 29 Feb 2024 is inside
    check(golden.one("cp.plans_ended"), 6, 6, None)
    check(golden.one("cp.ended_2y_plus_pct"), 1 / 6 * 100, 1, 6)


def test_child_protection_periods(golden: Golden) -> None:
    q2 = "2024-25 Q2"  # July to September 2024
    # open on 30 Sept 2024: cp-open, cp-2y-in, cp-2y-out (p07), cp-ncpp, cp-back (p15) = 5
    check(golden.one("cp.plans_31mar", q2), 5, 5, None)
    # started in Q2: p03 (1 July), p15 (1 Aug), p08 (1 Sept)
    check(golden.one("cp.plans_started", q2), 3, 3, None)
    # June 2024: p05 (within two years) and p07 (a day over)
    check(golden.one("cp.repeat_plan_2y_pct", "2024-06"), 50.0, 1, 2)
    # 12 months to June 2024: started p02, p05, p07 (p05 within two years); ended p02, p09
    # (two years), p10
    rolling = "12m to 2024-06"
    check(golden.one("cp.repeat_plan_2y_pct", rolling), 1 / 3 * 100, 1, 3)
    check(golden.one("cp.ended_2y_plus_pct", rolling), 1 / 3 * 100, 1, 3)


# --- children looked after ------------------------------------------------------------------


@covers("cla.children_31mar", "cla.rate_31mar", "cla.started", "cla.ceased")
def test_looked_after_counts(golden: Golden) -> None:
    # at 31 March 2025: cla-move, cla-3moves, cla-2moves-L, cla-Lstart, cla-started-31mar and
    # the nine cla-long-* children with an open episode (in, short, moved, 2y, 16, 15, nodob,
    # return) and ad-after (adopted in April) = 14. Not: cla-ceased-31mar and ad-e12 (left on
    # 31 March), cla-shortbreak (V3), cla-sameday, cla-twice, ad-2024 (left earlier).
    check(golden.one("cla.children_31mar"), 14, 14, None)
    check(golden.one("cla.rate_31mar"), 14 / 20_000 * 10_000, 14, 20_000)
    # started: cla-3moves, cla-ceased-31mar, cla-started-31mar, cla-sameday, cla-twice (twice,
    # counted once) = 5; not cla-shortbreak
    check(golden.one("cla.started"), 5, 5, None)
    # ceased: cla-ceased-31mar, cla-sameday, cla-twice (once), ad-2024 (E11), ad-e12 (E12) = 5;
    # the X1 ends (changes within care) are not leaving care
    check(golden.one("cla.ceased"), 5, 5, None)


def test_looked_after_started_and_ceased_by_age_band(golden: Golden) -> None:
    # DfE counts only the first occasion a child started, and the last occasion a child
    # ceased, in the year: cla-twice started at 4 (April) and again at 5 (October), so it is
    # in 1 to 4 only; it ceased at 4 (May) and at 5 (January), so it is in 5 to 9 only.
    check_groups(
        golden.groups("cla.started", FY, "age_band"),
        {
            "Under 1": (1, 1, None),  # cla-3moves, born the day care started
            "1 to 4": (1, 1, None),  # cla-twice (first start)
            "5 to 9": (1, 1, None),  # cla-sameday (5th birthday)
            "10 to 15": (1, 1, None),  # cla-ceased-31mar (13)
            "16 to 17": (1, 1, None),  # cla-started-31mar (16 on 31 March)
        },
    )
    check_groups(
        golden.groups("cla.ceased", FY, "age_band"),
        {
            "5 to 9": (2, 2, None),  # cla-sameday, cla-twice (last end)
            "10 to 15": (1, 1, None),  # cla-ceased-31mar (14)
            "Not known": (2, 2, None),  # ad-2024, ad-e12: no children row
        },
    )


def test_looked_after_periods(golden: Golden) -> None:
    q3 = "2024-25 Q3"  # October to December 2024
    # on 31 Dec 2024: the 14 of 31 March, less cla-started-31mar, plus cla-ceased-31mar,
    # cla-twice (second spell) and ad-e12 = 16
    check(golden.one("cla.children_31mar", q3), 16, 16, None)
    check(golden.one("cla.started", q3), 1, 1, None)  # cla-twice's second start
    check(golden.one("cla.ceased", q3), 1, 1, None)  # ad-2024 (20 Nov)
    # March 2025: started cla-started-31mar; ceased cla-ceased-31mar and ad-e12 (31 March)
    check(golden.one("cla.started", "2025-03"), 1, 1, None)
    check(golden.one("cla.ceased", "2025-03"), 2, 2, None)
    check(golden.one("cla.children_31mar", "2025-03"), 14, 14, None)
    # 12 months to June 2024: started cla-twice (5 April 2024), cla-3moves (10 April 2024)
    check(golden.one("cla.started", "12m to 2024-06"), 2, 2, None)


@covers("cla.placements_3plus_pct")
def test_three_or_more_placements(golden: Golden) -> None:
    # of the 14 at 31 March: cla-3moves (S, P, P) and cla-Lstart (the L episode open on
    # 1 April, P, P) had 3 placements; cla-move and cla-2moves-L had 2 because their L
    # episodes in the year are not moves; ad-after 2; the rest 1
    check(golden.one("cla.placements_3plus_pct"), 2 / 14 * 100, 2, 14)


@covers("cla.long_term_stability_pct")
def test_long_term_placement_stability(golden: Golden) -> None:
    # under 16 and looked after 2.5 years at 31 March 2025: cla-long-in (since 30 Sept
    # 2022), cla-long-moved, cla-long-2y, cla-long-15 = 4. Out: cla-long-short (1 Oct 2022),
    # cla-long-16 (16), cla-long-nodob (age unknown), cla-long-return (back in care in 2023),
    # cla-Lstart (17), the rest (in care for less).
    # Same placement 2 years: cla-long-in (the L episode does not break it), cla-long-2y
    # (moved 31 March 2023), cla-long-15; not cla-long-moved (moved 1 April 2023).
    check(golden.one("cla.long_term_stability_pct"), 75.0, 3, 4)


@covers("cla.placed_20_miles_pct")
def test_placed_more_than_20_miles(golden: Golden) -> None:
    # distance known at 31 March: cla-move 25, cla-3moves 20.0 (not over), cla-Lstart 5.5,
    # cla-long-in 20.1, cla-long-2y 3.0 = 5; over 20: cla-move, cla-long-in
    check(golden.one("cla.placed_20_miles_pct"), 40.0, 2, 5)


@covers("cla.missing_pct")
def test_went_missing(golden: Golden) -> None:
    # looked after at some point in the year: the 14 at 31 March + cla-ceased-31mar,
    # cla-sameday, cla-twice, ad-2024, ad-e12 = 19 (not cla-shortbreak, not nla-missing)
    # went missing (type M, starting in the year): cla-move, cla-2moves-L (not returned, "m"),
    # cla-sameday (same day) = 3. Not: cla-3moves (away, A), cla-Lstart (began 30 March
    # 2024), cla-ceased-31mar (after the year), cla-long-in (type missing).
    check(golden.one("cla.missing_pct"), 3 / 19 * 100, 3, 19)


@covers("cla.health_check_pct", "cla.dental_check_pct", "cla.sdq_mean", "cla.sdq_concern_pct")
def test_oc2_outcomes_by_collection_year(golden: Golden) -> None:
    # the 2025 return: oc-a .. oc-f (6). Annual health assessment: a, d, e, f (b had only the
    # HEALTH_CHECK flag; c's is missing) = 4. Dental: a, b, e = 3.
    check(golden.one("cla.health_check_pct"), 4 / 6 * 100, 4, 6)
    check(golden.one("cla.dental_check_pct"), 50.0, 3, 6)
    # scored 0 to 40: a 17, b 16, e 0, f 40 (not c: no score, not d: 41) -> mean 73 / 4
    check(golden.one("cla.sdq_mean"), 18.25, None, 4)
    # 17 or more: a (17 exactly), f = 2 of 4
    check(golden.one("cla.sdq_concern_pct"), 50.0, 2, 4)
    # Q1 2024-25 ends 30 June 2024: the latest return then is 2024 (oc-a 20, oc-g 10)
    check(golden.one("cla.sdq_mean", "2024-25 Q1"), 15.0, None, 2)
    check(golden.one("cla.health_check_pct", "2024-25 Q1"), 50.0, 1, 2)
    check(golden.one("cla.sdq_concern_pct", "12m to 2024-06"), 50.0, 1, 2)


# --- care leavers -------------------------------------------------------------------------


@covers("leavers.in_touch_pct", "leavers.eet_pct", "leavers.suitable_accom_pct")
def test_care_leavers_by_age_group(golden: Golden) -> None:
    # the 2025 return: 6 leavers (cl-17's 2024 row is another year)
    # in touch: cl-17, cl-19-on-31mar ("yes"), cl-19, cl-leap = 4
    check(golden.one("leavers.in_touch_pct"), 4 / 6 * 100, 4, 6)
    # EET: cl-17 F1, cl-21 P2, cl-leap F5 = 3 (G4 NEET, 0 and missing not)
    check(golden.one("leavers.eet_pct"), 50.0, 3, 6)
    # suitable: cl-17 B1, cl-21 "C1 ", cl-leap B1 = 3 (B2 unsuitable, 0 and missing not)
    check(golden.one("leavers.suitable_accom_pct"), 50.0, 3, 6)
    # age on 31 March 2025: 17 to 18 = cl-17, cl-18 (18 on 1 April 2024); 19 to 21 =
    # cl-19-on-31mar (19 that day), cl-21, cl-19, cl-leap (21, born 29 Feb 2004)
    check_groups(
        golden.groups("leavers.in_touch_pct", FY, "leaver_age"),
        {"17 to 18": (50.0, 1, 2), "19 to 21": (75.0, 3, 4)},
    )
    check_groups(
        golden.groups("leavers.eet_pct", FY, "leaver_age"),
        {"17 to 18": (50.0, 1, 2), "19 to 21": (50.0, 2, 4)},
    )
    check_groups(
        golden.groups("leavers.suitable_accom_pct", FY, "leaver_age"),
        {"17 to 18": (50.0, 1, 2), "19 to 21": (50.0, 2, 4)},
    )


# --- adoption ---------------------------------------------------------------------------------


@covers("adoption.adopted", "adoption.a1_days", "adoption.a2_days")
def test_adoption_counts_and_three_year_averages(golden: Golden) -> None:
    # adopted in 2024-25: ad-2024 (E11, 20 Nov) and ad-e12 (E12, 31 March); not ad-after
    check(golden.one("adoption.adopted"), 2, 2, None)
    # three years 1 April 2022 - 31 March 2025: ad-2022 415, ad-2023 396, ad-2024 366 (a leap
    # year), ad-e12 427 days; ad-nostart has no entry to care; ad-old is before the window.
    # One average over all the children (not an average of yearly averages).
    check(golden.one("adoption.a1_days"), (415 + 396 + 366 + 427) / 4, None, 4)
    # placement order (first E1 episode) to match: 92, 162, 153, 178 (ad-nostart: no match)
    check(golden.one("adoption.a2_days"), (92 + 162 + 153 + 178) / 4, None, 4)
    # 2023-24 (1 April 2021 - 31 March 2024): ad-old 274, ad-2022 415, ad-2023 396;
    # adopted in the year: ad-nostart (June 2023), ad-2023
    check(golden.one("adoption.adopted", "2023-24"), 2, 2, None)
    check(golden.one("adoption.a1_days", "2023-24"), (274 + 415 + 396) / 3, None, 3)
    check(golden.one("adoption.a2_days", "2023-24"), (92 + 92 + 162) / 3, None, 3)


def test_adoption_periods_use_three_years_ending_with_the_period(golden: Golden) -> None:
    # Q4 2024-25: the three years ending 31 March 2025 are those of the financial year
    check(golden.one("adoption.adopted", "2024-25 Q4"), 1, 1, None)  # ad-e12
    check(golden.one("adoption.a1_days", "2024-25 Q4"), (415 + 396 + 366 + 427) / 4, None, 4)
    # November 2024: 1 Dec 2021 - 30 Nov 2024: ad-old (31 March 2022) 274, ad-2022 415,
    # ad-2023 396, ad-2024 366 (20 Nov 2024)
    check(golden.one("adoption.a1_days", "2024-11"), (274 + 415 + 396 + 366) / 4, None, 4)
    # 12 months to June 2024: 1 July 2021 - 30 June 2024: as 2023-24
    check(golden.one("adoption.a1_days", "12m to 2024-06"), (274 + 415 + 396) / 3, None, 3)


def test_a1_counts_foster_carer_adoptions_from_the_foster_placement(golden: Golden) -> None:
    # 2019-20 (1 April 2017 - 31 March 2020): ad-2019 365 days; ad-foster lived with the
    # carers who adopted it from the day it entered care (then placed A4 with them): 0 days
    check(golden.one("adoption.a1_days", "2019-20"), (365 + 0) / 2, None, 2)


# --- local services ---------------------------------------------------------------------------


@covers(
    "svc.children_helped",
    "svc.wait_median_days",
    "svc.wait_p90_days",
    "svc.contacts_per_child",
    "svc.repeat_use_pct",
    "svc.open_caseload",
)
def test_local_services(golden: Golden) -> None:
    # helped (started, and open at some point of the year): sv-a (i01, i15), sv-b, sv-c
    # (started 20 April), sv-d (same day), sv-f (i07 ended 1 April), sv-rep (i09),
    # sv-sameday = 7 children. Not: sv-e (never started), sv-leapout (i11 ended March 2024,
    # i12 never started).
    check(golden.one("svc.children_helped"), 7, 7, None)
    # started in the year, days waited: i01 10, i02 20, i03 60 (29 Feb inside), i04 0,
    # i09 14, i13 7, i15 21, i16 5 -> sorted 0 5 7 10 14 20 21 60
    # median (10 + 14) / 2 = 12; 90th percentile at rank 0.9 * 7 = 6.3: 21 + 0.3 * 39 = 32.7
    check(golden.one("svc.wait_median_days"), 12.0, None, 8)
    check(golden.one("svc.wait_p90_days"), 32.7, None, 8)
    # requests in the year per child and service: sv-a FS 1, sv-b FS 1, sv-leapout FS 1,
    # sv-sameday FS 3, sv-a Parenting 1, sv-d 1, sv-e 1, sv-rep 2 = 11 requests, 8 pairs
    check(golden.one("svc.contacts_per_child"), 11 / 8, None, 8)
    # repeats within 12 months of the same child's previous request to the same service:
    # i09 (28 Feb 2025 after 29 Feb 2024), i10, i14 (same-day tie), i16 = 4 of 11. Not i12
    # (1 March 2025 after 29 Feb 2024) nor i15 (sv-a's earlier request was another service).
    check(golden.one("svc.repeat_use_pct"), 4 / 11 * 100, 4, 11)
    # open at 31 March 2025: i02, i09, i13, i15; not i03 (ended that day), i05/i10/i12/i14
    # (never started)
    check(golden.one("svc.open_caseload"), 4, 4, None)


def test_local_service_breakdowns(golden: Golden) -> None:
    check_groups(
        golden.groups("svc.contacts_per_child", FY, "service"),
        {FS: (6 / 4, None, 4), PARENTING: (5 / 4, None, 4)},
    )
    # waits: Family Support 5 7 10 20 60 -> 10; Parenting 0 14 21 -> 14
    check_groups(
        golden.groups("svc.wait_median_days", FY, "service"),
        {FS: (10.0, None, 5), PARENTING: (14.0, None, 3)},
    )
    check_groups(
        golden.groups("svc.open_caseload", FY, "team"),
        {"East": (2, 2, None), "West": (1, 1, None), "Not known": (1, 1, None)},
    )
    check_groups(
        golden.groups("svc.open_caseload", FY, "service"),
        {FS: (2, 2, None), PARENTING: (2, 2, None)},
    )
    # a child using two services is helped by each
    check_groups(
        golden.groups("svc.children_helped", FY, "service"),
        {
            FS: (5, 5, None),  # sv-a, sv-b, sv-c, sv-f, sv-sameday
            PARENTING: (3, 3, None),  # sv-a, sv-d, sv-rep
        },
    )


def test_local_service_periods(golden: Golden) -> None:
    q1 = "2024-25 Q1"
    # open on 30 June 2024: i01, i02, i03 (i04 ended 1 June)
    check(golden.one("svc.open_caseload", q1), 3, 3, None)
    # started in Q1: i01 10, i02 20, i03 60, i04 0 -> median 15
    check(golden.one("svc.wait_median_days", q1), 15.0, None, 4)
    # July 2024: the same-day pair i13 and i14 (one a repeat); one child, two requests;
    # helped in July: sv-a, sv-b, sv-c, sv-sameday
    check(golden.one("svc.repeat_use_pct", "2024-07"), 50.0, 1, 2)
    check(golden.one("svc.contacts_per_child", "2024-07"), 2.0, None, 1)
    check(golden.one("svc.children_helped", "2024-07"), 4, 4, None)
    # 12 months to June 2024: i01 i02 i03 i04 i06 (ended 31 March 2024) i07 i08 i11 ->
    # sv-a, sv-b, sv-c, sv-d, sv-f, sv-rep, sv-leapout
    check(golden.one("svc.children_helped", "12m to 2024-06"), 7, 7, None)


# --- escalation (child-level list) ------------------------------------------------------------


@covers("escalation.candidates")
def test_escalation_candidates(golden: Golden) -> None:
    rows = candidates(golden.tables, date(2027, 12, 31))
    got = [(r["child_id"], r["referrals"], r["service_requests"]) for r in rows]
    # esc-both (3 referrals, 2 requests), esc-edge (3, the first exactly 12 months before),
    # esc-ref3 (3, two on one day), esc-svc (2 requests); not esc-out, esc-after (2 referrals
    # in the window), esc-one (1 request)
    assert got == [("esc-both", 3, 2), ("esc-edge", 3, 0), ("esc-ref3", 3, 0), ("esc-svc", 0, 2)]
    reasons = {r["child_id"]: r["reason"] for r in rows}
    assert reasons["esc-ref3"] == "3 referrals in 12 months"
    assert reasons["esc-svc"] == (
        "2 requests for local services in 12 months (Family Support, Family Support)"
    )
    assert reasons["esc-both"] == (
        "3 referrals in 12 months; 2 requests for local services in 12 months "
        "(Parenting, Parenting)"
    )
    # thresholds are per authority
    strict = candidates(golden.tables, date(2027, 12, 31), EscalationThresholds(referrals=4))
    assert [r["child_id"] for r in strict] == ["esc-both", "esc-svc"]


def test_escalation_window_is_12_calendar_months_in_a_leap_year(golden: Golden) -> None:
    # 1 March 2031, 1 Sept 2031, 1 Feb 2032: three referrals in the 12 months to 1 March 2032
    rows = candidates(golden.tables, date(2032, 3, 1))
    assert [(r["child_id"], r["referrals"]) for r in rows] == [("esc-leap", 3)]


# --- disclosure control on computed results ---------------------------------------------------


def test_disclosure_control_on_a_computed_breakdown(golden: Golden) -> None:
    period = "2028-29"
    total = golden.one("cin.referrals", period)
    check(total, 16, 16, None)
    groups = golden.results("cin.referrals", period, "sex")
    assert [(r.breakdown, r.value) for r in groups] == [
        ({"sex": "Female"}, 3),
        ({"sex": "Male"}, 7),
        ({"sex": "Not known"}, 6),
    ]
    shown = suppress([total, *groups], threshold=5)
    # Female (3) is a small number: "c"; Not known (6), the next smallest, is hidden too so
    # 16 - 7 cannot reveal it; Male and the total stay
    assert [r.suppressed for r in shown] == [False, True, False, True]
    assert [row["value"] for row in as_rows(shown)] == [16, "c", 7, "c"]
    assert [row["numerator"] for row in as_rows(shown)] == [16, "c", 7, "c"]


# --- every indicator has a golden test --------------------------------------------------------


def test_every_registered_indicator_has_a_golden_test() -> None:
    registered = set(REGISTRY)
    assert not COVERED - registered, f"unknown ids: {sorted(COVERED - registered)}"
    assert not registered - COVERED, f"no golden test for: {sorted(registered - COVERED)}"
