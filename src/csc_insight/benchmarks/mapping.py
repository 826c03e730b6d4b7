"""Which published figure each local indicator is compared with, and how the two differ.

One small declarative entry per indicator: the published table (``source`` in
published_values), its measure column and the filter values that pick the row. A few
published figures are derived from published rows, as DfE itself derives them:

* ``plus``: further filter sets whose values are added (e.g. placed more than 20 miles from
  home inside and outside the authority's boundary);
* ``out_of``: the figure is a percentage of the sum over these filter sets;
* ``per_10k_children``: the figure is divided by the ONS mid-year estimate of children aged
  0 to 17 for the year before (mid-2024 for the year to 31 March 2025), as DfE's rates are.

``local_breakdown`` compares one group of a local breakdown where DfE publishes only groups
(care leavers by age). ``difference`` says, in plain words, where the local definition and
the published one are not the same.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import pandas as pd

from csc_insight.benchmarks.published import (
    ENGLAND,
    LOCAL_AUTHORITY,
    PUBLISHED,
    REGIONAL,
)
from csc_insight.indicators.registry import REGISTRY
from csc_insight.warehouse.store import Warehouse

Filters = Mapping[str, str]
POPULATION_SOURCE = "ons_mid_year_population"
POPULATION_MEASURE = "population_estimate"
POPULATION_FILTERS: Filters = {"age_group": "Children aged 0 to 17 years"}

_C1 = {"category": "Referrals and Re-referrals"}
_B1 = {"category": "Children in Need"}
_D3 = {"category": "Child Protection Plans which are a second or subsequent plan"}
_D5 = {"category": "Child Protection Plans by length of time"}
_CLA_AT_31 = {"population_type": "Children looked after on 31 March each year"}
_LONG_TERM = (
    "Children looked after continuously for at least 2.5 years on 31 March aged under 16 years"
)
_LOCATION = "Location of new placements during the year"
_LEAVER_AGE = "19 to 21 years"
_ADOPTION = {"cla_group": "Age on starting final period of care", "age_start_poc": "Total"}


@dataclass(frozen=True)
class Benchmark:
    """How one local indicator meets its published counterpart."""

    indicator: str
    source: str
    column: str
    filters: Filters
    published: str
    difference: str = ""
    plus: tuple[Filters, ...] = ()
    out_of: tuple[Filters, ...] = ()
    per_10k_children: bool = False
    local_breakdown: Filters = field(default_factory=dict)
    national_only: bool = False

    @property
    def parts(self) -> tuple[Filters, ...]:
        return (self.filters, *self.plus)

    def describe(self) -> dict[str, Any]:
        """The entry as JSON: what it reads and how it differs."""
        return {
            "table": self.source,
            "column": self.column,
            "filters": [dict(f) for f in self.parts],
            "out_of": [dict(f) for f in self.out_of] or None,
            "per_10k_children": self.per_10k_children,
            "local_breakdown": dict(self.local_breakdown) or None,
            "national_only": self.national_only,
            "published": self.published,
            "difference": self.difference or None,
        }


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "cin.referrals",
        "c1",
        "referral_count",
        _C1,
        "C1: referrals received in the year to 31 March.",
    ),
    Benchmark(
        "cin.referral_rate",
        "c1",
        "referral_count",
        _C1,
        "C1 referrals per 10,000 children aged 0 to 17 (ONS mid-year estimate of the year "
        "before, as DfE's rates).",
        difference="DfE publishes this rate in its headline table; here it is worked out from "
        "C1 referrals and the ONS file, so it can differ from DfE's figure by rounding.",
        per_10k_children=True,
    ),
    Benchmark(
        "cin.rereferral_pct",
        "c1",
        "rereferral_percent",
        _C1,
        "C1: referrals within 12 months of a previous referral, as a percentage of referrals.",
    ),
    Benchmark(
        "cin.nfa_pct",
        "c1",
        "no_further_action_percent",
        _C1,
        "C1: referrals resulting in no further action (the CIN census's referral NFA flag), "
        "as a percentage of referrals.",
    ),
    Benchmark(
        "cin.children_in_need_31mar",
        "b1",
        "At31_episodes",
        _B1,
        "B1: episodes of need open at 31 March.",
        difference="DfE counts open episodes; locally distinct children with an open episode "
        "(a child has at most one open episode at a time, so the two agree when the data is "
        "clean).",
    ),
    Benchmark(
        "cin.cin_rate_31mar",
        "b1",
        "At31_episodes",
        _B1,
        "B1 episodes open at 31 March per 10,000 children aged 0 to 17 (ONS).",
        difference="Worked out from B1 and the ONS file (DfE's own rate table is not read).",
        per_10k_children=True,
    ),
    Benchmark(
        "cp.plans_31mar",
        "d5",
        "CPP_At31",
        _D5,
        "D5: children on a child protection plan at 31 March (all lengths of plan).",
    ),
    Benchmark(
        "cp.plan_rate_31mar",
        "d5",
        "CPP_At31",
        _D5,
        "D5 children on a plan at 31 March per 10,000 children aged 0 to 17 (ONS).",
        difference="Worked out from D5 and the ONS file (DfE's own rate table is not read).",
        per_10k_children=True,
    ),
    Benchmark(
        "cp.plans_started",
        "d3",
        "CPP_start",
        _D3,
        "D3: child protection plans starting in the year.",
    ),
    Benchmark(
        "cp.repeat_plan_pct",
        "d3",
        "CPP_subsequent_percent",
        _D3,
        "D3: plans starting that were a second or subsequent plan (ever), as a percentage.",
        difference="Locally an earlier plan must be in the loaded data or in the CIN census's "
        "count of previous plans; with few years loaded the local figure can be lower.",
    ),
    Benchmark(
        "cla.children_31mar",
        "cla_number_and_rate_per_10k_children",
        "children_count",
        _CLA_AT_31,
        "Children looked after at 31 March (excluding those looked after only under a series "
        "of short breaks).",
    ),
    Benchmark(
        "cla.rate_31mar",
        "cla_number_and_rate_per_10k_children",
        "rate_per_10000",
        _CLA_AT_31,
        "Children looked after at 31 March per 10,000 children aged 0 to 17 (DfE's rate, "
        "published as a whole number).",
    ),
    Benchmark(
        "cla.started",
        "cla_number_and_rate_per_10k_children",
        "children_count",
        {"population_type": "Children starting to be looked after each year"},
        "Children starting to be looked after during the year (each child counted once).",
    ),
    Benchmark(
        "cla.ceased",
        "cla_number_and_rate_per_10k_children",
        "children_count",
        {"population_type": "Children ceasing to be looked after each year"},
        "Children ceasing to be looked after during the year (each child counted once).",
    ),
    Benchmark(
        "cla.placements_3plus_pct",
        "la_cla_placement_stability",
        "children_percent",
        {
            "cla_group": "CLA on 31 March",
            "placement_stability": "With 3 or more placements during the year",
        },
        "Children looked after at 31 March with three or more placements during the year, as "
        "a percentage (published as a whole number).",
        difference="Locally a new episode that only changes legal status is not a new "
        "placement, as in DfE's count; any further exclusions DfE's methodology makes are not "
        "applied locally.",
    ),
    Benchmark(
        "cla.long_term_stability_pct",
        "la_cla_placement_stability",
        "children_percent",
        {
            "cla_group": _LONG_TERM,
            "placement_stability": "Living with the same carer for at least 2 years",
        },
        "Children under 16 looked after for 2.5 years or more, living with the same carer for "
        "at least 2 years (or placed for adoption), as a percentage (whole number).",
        difference="DfE asks for the same carer (a move with the same foster carer counts as "
        "stable); locally the same placement episode is asked for, so the local figure can be "
        "a little lower.",
    ),
    Benchmark(
        "cla.placed_20_miles_pct",
        "la_cla_during_year_new_placements",
        "children_count",
        {
            "characteristic": _LOCATION,
            "breakdown": "Placed inside LA boundary more than 20 miles from home",
        },
        "New placements in the year more than 20 miles from home (inside or outside the "
        "authority), as a percentage of new placements whose distance is known.",
        difference="DfE describes new placements made during the year; locally it is the "
        "placements of children looked after at 31 March. Worked out from the counts.",
        plus=(
            {
                "characteristic": _LOCATION,
                "breakdown": "Placed outside LA boundary more than 20 miles from home",
            },
        ),
        out_of=tuple(
            {
                "characteristic": _LOCATION,
                "breakdown": f"Placed {where} LA boundary {how} from home",
            }
            for where in ("inside", "outside")
            for how in ("less than 20 miles", "more than 20 miles")
        ),
    ),
    Benchmark(
        "leavers.eet_pct",
        "la_care_leavers_activity",
        "care_leaver_percent",
        {"care_leaver_age": _LEAVER_AGE, "breakdown": "Total in education, employment or training"},
        "Care leavers aged 19 to 21 in education, employment or training, as a percentage of "
        "care leavers aged 19 to 21 (whole number).",
        difference="DfE publishes ages 17 to 18 and 19 to 21 separately; the comparison uses "
        "the local figure for 19 to 21 (leaver_age breakdown), DfE's headline group, not the "
        "local 17 to 21 total.",
        local_breakdown={"leaver_age": "19 to 21"},
    ),
    Benchmark(
        "leavers.suitable_accom_pct",
        "la_care_leavers_accommodation_suitability",
        "care_leaver_percent",
        {"care_leaver_age": _LEAVER_AGE, "breakdown": "Accommodation considered suitable"},
        "Care leavers aged 19 to 21 in accommodation considered suitable, as a percentage of "
        "care leavers aged 19 to 21 (whole number).",
        difference="Compared for ages 19 to 21 (leaver_age breakdown), as for activity. DfE's "
        "denominator includes care leavers with no information; so does the local one.",
        local_breakdown={"leaver_age": "19 to 21"},
    ),
    Benchmark(
        "adoption.a1_days",
        "national_cla_adopted_average_time_between_adoption_process_stages",
        "average_days",
        _ADOPTION
        | {
            "stage_of_adoption_process": "4. Total average time between entry into care and "
            "date placed for adoption"
        },
        "England only: average time from entering care to being placed for adoption, for "
        "children adopted in the year (published in years and months; converted at 30.44 "
        "days a month).",
        difference="The adoption scorecard's A1 averages three years; DfE's table is one year "
        "and England only, published to the month, so the comparison is approximate and has "
        "no regional or neighbour figures.",
        national_only=True,
    ),
    Benchmark(
        "adoption.a2_days",
        "national_cla_adopted_average_time_between_adoption_process_stages",
        "average_days",
        _ADOPTION
        | {
            "stage_of_adoption_process": "2. Average time between decision that child should be "
            "placed for adoption and matching of child and adopters"
        },
        "England only: average time from the decision that a child should be placed for "
        "adoption to the match with adopters (years and months, converted to days).",
        difference="A2 starts at the placement order (court authority to place); DfE's stage "
        "starts at the agency decision, which comes earlier, so DfE's figure is longer by "
        "the court stage. One year, England only, published to the month.",
        national_only=True,
    ),
)
BENCHMARKS_BY_ID: dict[str, Benchmark] = {b.indicator: b for b in BENCHMARKS}


def _unknown_ids() -> list[str]:
    return [b.indicator for b in BENCHMARKS if b.indicator not in REGISTRY]


if _unknown_ids():  # pragma: no cover - a programming error caught on import
    raise RuntimeError(f"benchmarks map unknown indicators: {_unknown_ids()}")


# --- reading the published series ---------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One published figure of a series: an area in a year (value None where a symbol is)."""

    year: int
    area_code: str
    geographic_level: str
    area_name: str | None
    region_code: str | None
    value: float | None
    symbol: str | None


Series = dict[tuple[int, str], Point]
_Row = dict[str, Any]


def _matches(breakdown: dict[str, str], filters: Filters) -> bool:
    return all(breakdown.get(k) == v for k, v in filters.items())


def _rows(warehouse: Warehouse, source: str, measure: str) -> list[_Row]:
    t = warehouse.table(PUBLISHED)
    t = t.filter((t.source == source) & (t.measure == measure))
    columns = ["year", "geographic_level", "area_code", "area_name", "region_code"]
    rows: list[_Row] = t.select(*columns, "breakdown", "value", "symbol").to_pyarrow().to_pylist()
    return rows


def _pick(rows: list[_Row], filters: Filters) -> list[_Row]:
    parsed: dict[str, bool] = {}
    out = []
    for row in rows:
        key = row["breakdown"]
        if key not in parsed:
            parsed[key] = _matches(json.loads(key), filters)
        if parsed[key]:
            out.append(row)
    return out


def _point(row: _Row, value: float | None, symbol: str | None) -> Point:
    return Point(
        int(row["year"]),
        row["area_code"],
        row["geographic_level"],
        row["area_name"],
        row["region_code"],
        value,
        None if value is not None else symbol,
    )


def _summed(rows: list[_Row], parts: tuple[Filters, ...]) -> Series:
    """Per year and area: the sum of the parts, or the first part's symbol if one is missing."""
    picked = [{(int(r["year"]), r["area_code"]): r for r in _pick(rows, p)} for p in parts]
    out: Series = {}
    for key in sorted(set().union(*picked)):
        found = [p.get(key) for p in picked]
        first = next(r for r in found if r is not None)
        values = [r["value"] if r is not None else None for r in found]
        symbol = next((r["symbol"] for r in found if r is not None and r["symbol"]), None)
        total = None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]
        out[key] = _point(first, total, symbol)
    return out


def _per_10k(warehouse: Warehouse, series: Series) -> Series:
    population = {
        (int(r["year"]) + 1, r["area_code"]): r["value"]  # mid-2024 is 2024-25's denominator
        for r in _pick(_rows(warehouse, POPULATION_SOURCE, POPULATION_MEASURE), POPULATION_FILTERS)
    }
    out: Series = {}
    for key, p in series.items():
        children = population.get(key)
        value = p.value / children * 10_000 if p.value is not None and children else None
        out[key] = replace(p, value=value, symbol=p.symbol if value is None else None)
    return out


def published_series(
    warehouse: Warehouse, benchmark: Benchmark, rows: list[_Row] | None = None
) -> Series:
    """The published figure of every area and year, keyed by (year, area_code)."""
    if rows is None:
        rows = _rows(warehouse, benchmark.source, benchmark.column)
    series = _summed(rows, benchmark.parts)
    if benchmark.out_of:
        totals = _summed(rows, benchmark.out_of)
        for key, p in series.items():
            total = totals.get(key)
            value = None
            if p.value is not None and total is not None and total.value:
                value = p.value / total.value * 100
            symbol = p.symbol or (total.symbol if total else None)
            series[key] = replace(p, value=value, symbol=None if value is not None else symbol)
    if benchmark.per_10k_children:
        series = _per_10k(warehouse, series)
    return series


def series_frame(series: Series) -> pd.DataFrame:
    """A series as a tidy table: year, area_code, geographic_level, ..., value, symbol."""
    columns = [f.name for f in fields(Point)]
    return pd.DataFrame([asdict(p) for p in series.values()], columns=columns)


def resolution_problems(warehouse: Warehouse, benchmark: Benchmark) -> list[str]:
    """What is wrong with an entry against the loaded published rows (empty when it resolves).

    Each filter set must pick exactly one row per area and year, England must have a value
    in the latest year, and (unless national only) so must most authorities and regions.
    """
    problems = []
    rows = _rows(warehouse, benchmark.source, benchmark.column)
    if not rows:
        return [f"no rows of {benchmark.source}.{benchmark.column} are loaded"]
    for part in (*benchmark.parts, *benchmark.out_of):
        picked = _pick(rows, part)
        keys = [(r["year"], r["area_code"]) for r in picked]
        if not picked:
            problems.append(f"no row of {benchmark.source} has {dict(part)}")
        elif len(set(keys)) < len(keys):
            problems.append(f"{dict(part)} picks more than one row of {benchmark.source}")
    series = published_series(warehouse, benchmark, rows)
    latest = max(year for year, _ in series)
    points = [p for p in series.values() if p.year == latest and p.value is not None]
    if not any(p.area_code == ENGLAND for p in points):
        problems.append("England has no value in the latest year")
    if not benchmark.national_only:
        las = sum(1 for p in points if p.geographic_level == LOCAL_AUTHORITY)
        if las < 75:  # small counts are suppressed (c) in some tables
            problems.append(f"only {las} authorities have a value in the latest year")
        if sum(1 for p in points if p.geographic_level == REGIONAL) < 9:
            problems.append("fewer than nine regions have a value in the latest year")
    return problems


def median(values: list[float]) -> float | None:
    """The median of some values, None for none."""
    return statistics.median(values) if values else None


def mapping_markdown() -> str:
    """The mapping table for docs/benchmarking.md (regenerated; a test keeps them equal)."""
    lines = [
        "| indicator | published table | column | filters | how | differences |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for b in BENCHMARKS:
        how = []
        if b.plus:
            how.append(f"sum of {len(b.parts)} rows")
        if b.out_of:
            how.append(f"% of the sum of {len(b.out_of)} rows")
        if b.per_10k_children:
            how.append("per 10,000 children (ONS, year before)")
        if b.local_breakdown:
            how.append("local " + ", ".join(f"{k} = {v}" for k, v in b.local_breakdown.items()))
        if b.national_only:
            how.append("England only")
        filters = "; ".join(", ".join(f"{k} = {v}" for k, v in part.items()) for part in b.parts)
        lines.append(
            f"| `{b.indicator}` | {b.source} | {b.column} | {filters} | "
            f"{'; '.join(how) or 'as published'} | {b.difference or 'Same definition.'} |"
        )
    return "\n".join(lines) + "\n"


__all__ = [
    "BENCHMARKS",
    "BENCHMARKS_BY_ID",
    "Benchmark",
    "Point",
    "Series",
    "mapping_markdown",
    "published_series",
    "resolution_problems",
    "series_frame",
]
