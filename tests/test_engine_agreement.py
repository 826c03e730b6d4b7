"""Every registered indicator gives the same figures on DuckDB, PostgreSQL and PySpark.

One hand-built authority (every table an indicator reads, with edge cases: leap days, bank
holidays, open records, short breaks, unborn children, blank codes) is loaded once per engine;
every indicator is computed on it, whole and broken down, and compared with DuckDB's figures
(values rounded to 9 significant digits). What an engine cannot do yet is marked
``known_gap`` with the engine and the reason, so it shows as an expected failure, not a skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from csc_insight.indicators import REGISTRY, compute
from csc_insight.indicators.escalation import candidates
from csc_insight.indicators.registry import IndicatorResult, Tables
from csc_insight.warehouse.store import Warehouse
from engines import ENGINES, Rows, load_rows, open_engine

FY = "2024-25"
# Breakdowns compared besides the whole figure: child dimensions, and record dimensions.
# (A rate by disability, team or service has counts but no rate: no population is kept so.)
BREAKDOWNS: tuple[tuple[str, ...], ...] = (
    (),
    ("sex", "age_band", "ethnic_group", "locality", "disability"),
    ("team",),
    ("service",),
    ("leaver_age",),
)
FIGURES = sorted(i.id for i in REGISTRY.values() if not i.child_level)
# (indicator id, engine) -> why that engine gives a different figure. Empty: none known.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def d(text: str) -> date:
    return date.fromisoformat(text)


def _children() -> list[dict[str, Any]]:
    rows = [
        ("a", "1", "WBRI", "2012-05-10", None, False, "North"),
        ("b", "2", "MWBC", "2020-01-15", None, True, "North"),
        ("c", "1", "AIND", "2009-03-31", None, None, "South"),
        ("d", "2", "REFU", "2024-06-01", None, False, None),
        ("e", "1", "BAFR", None, "2025-05-01", None, "South"),  # unborn at 31 March
        ("f", "9", "CHNE", "2006-09-01", None, False, "North"),
        ("g", "2", "WIRI", "2004-02-29", None, True, "South"),  # born on a leap day
        ("h", "1", "OOTH", "2016-11-30", None, False, "North"),
        ("i", "0", None, "2008-04-01", None, None, None),
    ]
    return [
        {
            "child_id": c,
            "sex": sex,
            "ethnicity": eth,
            "date_of_birth": d(dob) if dob else None,
            "expected_date_of_birth": d(edob) if edob else None,
            "disability": dis,
            "locality": loc,
        }
        for c, sex, eth, dob, edob, dis, loc in rows
    ]


def _population() -> list[dict[str, Any]]:
    def pop(year: int, band: str, n: float, **dims: str) -> dict[str, Any]:
        return {"year": year, "age_band": band, "population": n, "source": "test"} | dims

    rows = [pop(2023, "0-17", 29000.0), pop(2024, "0-17", 30000.0)]
    rows += [pop(2024, "0-17", 15400.0, sex="Male"), pop(2024, "0-17", 14600.0, sex="Female")]
    bands = {"Under 1": 1500.0, "1 to 4": 6500.0, "5 to 9": 8200.0, "10 to 15": 9800.0}
    rows += [pop(2024, band, n) for band, n in bands.items()] + [pop(2024, "16 to 17", 4000.0)]
    rows += [
        pop(2024, "0-17", 9000.0, locality="North"),
        pop(2024, "0-17", 21000.0, locality="South"),
    ]
    rows += [pop(2024, "0-17", 24000.0, ethnic_group="White")]
    return rows


def _referrals() -> list[dict[str, Any]]:
    rows = [
        ("a", "r1", "2024-03-31", "2024-04-30", "1A", False, "Team 1"),
        ("a", "r2", "2024-04-01", "2024-06-01", "3A", True, "Team 1"),
        ("a", "r3", "2024-09-30", None, "3A", False, "Team 2"),
        ("b", "r4", "2023-04-01", "2023-05-01", "5B", False, None),
        ("b", "r5", "2024-04-01", None, "5B", False, "Team 2"),  # exactly 12 months later
        ("c", "r6", "2023-03-31", "2023-05-01", "1A", False, "Team 1"),
        ("c", "r7", "2024-04-02", "2025-03-31", "2A", False, "Team 1"),
        ("d", "r8", "2025-03-31", None, None, None, None),  # last day, open
        ("d", "r9", "2025-04-01", None, "1A", False, "Team 1"),  # after the year
        ("e", "r10", "2024-12-24", None, "9", True, "Team 2"),  # unborn child
        ("h", "r11", "2024-02-29", None, "1A", False, "Team 2"),  # leap day, still open
    ]
    return [
        {
            "child_id": c,
            "referral_id": rid,
            "referral_date": d(day),
            "closure_date": d(closed) if closed else None,
            "referral_source": source,
            "referral_nfa": nfa,
            "team": team,
        }
        for c, rid, day, closed, source, nfa, team in rows
    ]


def _assessments() -> list[dict[str, Any]]:
    rows = [
        ("a", "r2", "x1", "2024-04-29", "2024-07-03", "Team 1"),  # 45 working days
        ("a", "r3", "x2", "2024-10-01", "2024-12-31", "Team 2"),  # over Christmas
        ("b", "r5", "x3", "2024-04-29", "2024-07-04", None),  # 46 working days
        ("c", "r7", "x4", "2025-03-31", "2025-03-31", "Team 1"),  # same day: 0
        ("d", "r8", "x5", "2024-01-01", None, "Team 1"),  # in progress
        ("e", "r10", "x6", "2024-12-27", "2025-01-10", "Team 2"),
    ]
    return [
        {
            "child_id": c,
            "referral_id": rid,
            "assessment_id": aid,
            "start_date": d(start),
            "authorised_date": d(end) if end else None,
            "team": team,
        }
        for c, rid, aid, start, end, team in rows
    ]


def _section47() -> list[dict[str, Any]]:
    rows = [
        ("a", "r2", "s1", "2024-04-15", "2024-05-03", None),  # bank holiday 6 May after
        ("b", "r5", "s2", "2024-05-01", "2024-05-23", None),  # over the bank holiday
        ("c", "r7", "s3", "2024-11-01", None, True),
        ("e", "r10", "s4", "2025-03-10", "2025-04-02", None),  # conference after the year
    ]
    return [
        {
            "child_id": c,
            "referral_id": rid,
            "s47_id": sid,
            "strategy_date": d(start),
            "icpc_date": d(icpc) if icpc else None,
            "icpc_not_required": not_required,
        }
        for c, rid, sid, start, icpc, not_required in rows
    ]


def _cp_plans() -> list[dict[str, Any]]:
    rows = [
        ("a", "p1", "2022-01-10", "2024-06-30", 0),  # ended after more than two years
        ("a", "p2", "2024-09-01", None, 0),  # repeat within two years
        ("b", "p3", "2024-05-01", "2025-03-31", 2),  # previous plans elsewhere
        ("c", "p4", "2024-01-01", None, None),
        ("e", "p5", "2025-04-01", None, 0),  # after the year
        ("h", "p6", "2020-02-29", "2022-02-28", 0),
        ("h", "p7", "2024-12-01", None, 0),  # repeat, but not within two years
    ]
    return [
        {
            "child_id": c,
            "referral_id": c,
            "plan_id": pid,
            "start_date": d(start),
            "end_date": d(end) if end else None,
            "initial_category": "NEG",
            "previous_plans": previous,
        }
        for c, pid, start, end, previous in rows
    ]


def _cla_episodes() -> list[dict[str, Any]]:
    rows = [
        # a: in care since 2021, same placement since 2022, a legal status change in the year
        ("a", "2021-06-01", "S", "C2", "U1", "2022-03-01", "X1", 5.5),
        ("a", "2022-03-01", "P", "C2", "U4", "2024-10-01", "X1", 25.0),
        ("a", "2024-10-01", "L", "C1", "U4", None, None, 25.0),
        # b: placement order, placed for adoption, adopted in the year
        ("b", "2022-02-01", "S", "C2", "U1", "2023-01-10", "X1", None),
        ("b", "2023-01-10", "L", "E1", "U1", "2023-06-01", "X1", None),
        ("b", "2023-06-01", "P", "E1", "A5", "2024-11-15", "E11", 40.0),
        # c: three placements in the year, goes missing
        ("c", "2024-04-20", "S", "C2", "U3", "2024-07-01", "X1", 3.0),
        ("c", "2024-07-01", "P", "C2", "R1", "2024-12-01", "X1", 20.0),
        ("c", "2024-12-01", "P", "C2", "U5", None, None, 20.5),
        # d: started on the last day
        ("d", "2025-03-31", "S", "V2", "U1", None, None, None),
        # h: short breaks only (excluded)
        ("h", "2024-05-01", "S", "V3", "U1", None, None, None),
        # i: left care on 31 March (returned home)
        ("i", "2023-09-01", "S", "J2", "K2", "2025-03-31", "E13", 1.0),
    ]
    return [
        {
            "child_id": c,
            "decom": d(decom),
            "rne": rne,
            "ls": ls,
            "place": place,
            "dec": d(dec) if dec else None,
            "rec": rec,
            "placement_distance_miles": miles,
        }
        for c, decom, rne, ls, place, dec, rec, miles in rows
    ]


def _rows() -> Rows:
    services = [
        ("a", "v1", "Family Support", "Team 1", "2024-04-01", "2024-04-11", "2024-08-01"),
        ("a", "v2", "Family Support", "Team 1", "2024-09-01", "2024-09-21", None),
        ("a", "v3", "Youth Work", "Team 2", "2024-10-01", "2024-10-31", "2025-01-31"),
        ("b", "v4", "Family Support", None, "2024-06-01", "2024-07-01", None),
        ("c", "v5", "Youth Work", "Team 2", "2023-01-01", "2023-02-01", "2024-03-31"),
        ("d", "v6", "Family Support", "Team 1", "2025-03-01", None, None),
        ("e", "v7", "School Attendance", "Team 3", "2024-02-29", "2024-04-01", None),
    ]
    return {
        "children": _children(),
        "population": _population(),
        "referrals": _referrals(),
        "assessments": _assessments(),
        "section47": _section47(),
        "cp_plans": _cp_plans(),
        "cp_visits": [  # a and c on a plan at 31 March: a seen in time, c not
            {"child_id": "a", "visit_date": d("2025-03-24")},
            {"child_id": "c", "visit_date": d("2025-02-03")},
            {"child_id": "h", "visit_date": d("2025-03-28")},
        ],
        "cla_episodes": _cla_episodes(),
        "missing": [
            {"child_id": "c", "missing_type": "M", "start_date": d("2024-08-02")},
            {"child_id": "a", "missing_type": "A", "start_date": d("2024-08-02")},
            {"child_id": "i", "missing_type": "m", "start_date": d("2025-01-05")},
        ],
        "oc2": [
            {"child_id": "a", "collection_year": 2025, "sdq_score": 18, "teeth_check": False},
            {"child_id": "a", "collection_year": 2024, "sdq_score": 30, "teeth_check": True},
            {
                "child_id": "c",
                "collection_year": 2025,
                "sdq_score": 10,
                "health_assessment": True,
                "teeth_check": True,
            },
            {"child_id": "i", "collection_year": 2025, "sdq_score": 41, "health_assessment": False},
            {"child_id": "b", "collection_year": 2025, "sdq_score": None},
        ],
        "adoptions": [
            {"child_id": "b", "date_match": d("2023-05-02"), "foster_care": False},
        ],
        "care_leavers": [
            {"child_id": "f", "collection_year": 2025, "in_touch": "YES", "activity": "F1"}
            | {"accommodation": "B1"},
            {"child_id": "g", "collection_year": 2025, "in_touch": "no", "activity": "G4"}
            | {"accommodation": "B2"},
            {"child_id": "i", "collection_year": 2025, "in_touch": "YES", "activity": "P2"}
            | {"accommodation": "0"},
            {"child_id": "g", "collection_year": 2024, "in_touch": "YES", "activity": "F1"},
        ],
        "service_involvements": [
            {
                "child_id": c,
                "involvement_id": vid,
                "service": service,
                "team": team,
                "date_requested": d(req),
                "date_started": d(start) if start else None,
                "date_ended": d(end) if end else None,
            }
            for c, vid, service, team, req, start, end in services
        ],
    }


def rounded(value: float | None) -> str | None:
    """A figure to 9 significant digits: what 'the same on every engine' means."""
    return None if value is None else f"{value:.9g}"


def figures(results: list[IndicatorResult]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            tuple(sorted((r.breakdown or {}).items())),
            rounded(r.value),
            rounded(r.numerator),
            rounded(r.denominator),
        )
        for r in results
    )


@dataclass
class Outcome:
    """An engine's figures for one indicator per breakdown (or the error a breakdown raised)."""

    by_breakdown: dict[tuple[str, ...], list[tuple[Any, ...]] | str]

    def errors(self) -> dict[tuple[str, ...], str]:
        return {b: f for b, f in self.by_breakdown.items() if isinstance(f, str)}


def compute_everything(w: Warehouse) -> tuple[dict[str, Outcome], list[dict[str, Any]]]:
    outcomes: dict[str, Outcome] = {}
    for indicator_id in FIGURES:
        outcome = Outcome({})
        for breakdown in BREAKDOWNS:
            try:
                results = compute(w, FY, ids=[indicator_id], breakdown=list(breakdown))
                outcome.by_breakdown[breakdown] = figures(results)
            except Exception as exc:
                outcome.by_breakdown[breakdown] = f"{type(exc).__name__}: {exc}"
        outcomes[indicator_id] = outcome
    escalation = candidates(Tables(w), date(2025, 3, 31))
    return outcomes, escalation


@pytest.fixture(scope="module")
def computed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], tuple[dict[str, Outcome], list[dict[str, Any]]]]]:
    """Each engine's figures, computed once per engine on the same hand-built data."""
    cache: dict[str, tuple[dict[str, Outcome], list[dict[str, Any]]]] = {}
    with ExitStack() as stack:

        def get(engine_name: str) -> tuple[dict[str, Outcome], list[dict[str, Any]]]:
            if engine_name not in cache:
                folder: Path = tmp_path_factory.mktemp(engine_name)
                w = stack.enter_context(open_engine(engine_name, request, folder))
                load_rows(w, _rows())
                cache[engine_name] = compute_everything(w)
            return cache[engine_name]

        yield get


def test_the_data_exercises_every_indicator(
    computed: Callable[[str], tuple[dict[str, Outcome], list[dict[str, Any]]]],
) -> None:
    outcomes, escalation = computed("duckdb")
    assert not {i: o.errors()[()] for i, o in outcomes.items() if () in o.errors()}
    # every figure is non-trivial on the reference engine, so agreement means something
    whole = {i: o.by_breakdown[()] for i, o in outcomes.items()}
    empty = [i for i, f in whole.items() if all(row[1] in (None, "0") for row in f)]
    assert not empty, f"the hand-built data gives these indicators nothing to count: {empty}"
    assert escalation, "the hand-built data should flag a child for escalation"


def _gap(indicator_id: str) -> Any:
    marks = [
        pytest.mark.known_gap(engine, reason=reason)
        for (gap_id, engine), reason in KNOWN_GAPS.items()
        if gap_id == indicator_id
    ]
    return pytest.param(indicator_id, marks=marks, id=indicator_id)


@pytest.mark.parametrize("engine_name", [e for e in ENGINES if e != "duckdb"])
@pytest.mark.parametrize("indicator_id", [_gap(i) for i in FIGURES])
def test_indicator_is_the_same_on_every_engine(
    indicator_id: str,
    engine_name: str,
    computed: Callable[[str], tuple[dict[str, Outcome], list[dict[str, Any]]]],
) -> None:
    reference = computed("duckdb")[0][indicator_id].by_breakdown
    got = computed(engine_name)[0][indicator_id].by_breakdown
    for breakdown, figures_there in reference.items():
        if isinstance(figures_there, str):  # fails on DuckDB too: must fail alike here
            error_type = figures_there.split(":", 1)[0]
            assert str(got[breakdown]).split(":", 1)[0] == error_type, (breakdown, got[breakdown])
        else:
            assert got[breakdown] == figures_there, breakdown


@pytest.mark.parametrize("engine_name", [e for e in ENGINES if e != "duckdb"])
def test_escalation_list_is_the_same_on_every_engine(
    engine_name: str,
    computed: Callable[[str], tuple[dict[str, Outcome], list[dict[str, Any]]]],
) -> None:
    assert computed(engine_name)[1] == computed("duckdb")[1]
