"""Computed on the synthetic authority, the figures sit where England's authorities publish.

Each range is the spread (5th to 95th percentile) of real local-authority values for 2024-25
in DfE's published tables in ../shared/reference/dfe/, read from there (never copied).
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from csc_insight.indicators import compute
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.synth import generate
from csc_insight.warehouse.store import Warehouse

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dfe"
YEAR = "2025"  # DfE's time_period for 2024-25


def la_rows(name: str, **match: str) -> Iterator[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if (
                row["time_period"] == YEAR
                and row["geographic_level"] == "Local authority"
                and all(row.get(k) == v for k, v in match.items())
            ):
                yield row


def number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:  # DfE's symbols: c suppressed, x not available, z not applicable
        return None


def spread(values: list[float | None]) -> tuple[float, float]:
    known = sorted(v for v in values if v is not None)
    cuts = statistics.quantiles(known, n=20)
    return cuts[0], cuts[-1]


def population() -> dict[str, float]:
    return {
        r["new_la_code"]: float(r["population_estimate"])
        for r in la_rows("ons_mid-year_population_estimates_2012_to_2024.csv")
        if number(r["population_estimate"]) and r["time_period"] == YEAR
    } or {
        r["new_la_code"]: float(r["population_estimate"])
        for r in _rows_for_year("ons_mid-year_population_estimates_2012_to_2024.csv", "2024")
        if number(r["population_estimate"])
    }


def _rows_for_year(name: str, year: str) -> Iterator[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["time_period"] == year and row["geographic_level"] == "Local authority":
                yield row


def per_10k(name: str, column: str, **match: str) -> list[float | None]:
    pop = population()
    out: list[float | None] = []
    for r in la_rows(name, **match):
        count = number(r[column])
        out.append(
            count / pop[r["new_la_code"]] * 10_000 if count and r["new_la_code"] in pop else None
        )
    return out


def share(name: str, part: dict[str, str], whole: dict[str, str], count: str) -> list[float | None]:
    totals = {r["new_la_code"]: number(r[count]) for r in la_rows(name, **whole)}
    out: list[float | None] = []
    for r in la_rows(name, **part):
        total = totals.get(r["new_la_code"])
        value = number(r[count])
        out.append(value / total * 100 if value is not None and total else None)
    return out


PUBLISHED: dict[str, Callable[[], list[float | None]]] = {
    "cin.referral_rate": lambda: per_10k(
        "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "referral_count"
    ),
    "cin.rereferral_pct": lambda: [
        number(r["rereferral_percent"])
        for r in la_rows("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")
    ],
    "cin.nfa_pct": lambda: [
        number(r["no_further_action_percent"])
        for r in la_rows("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")
    ],
    "cin.cin_rate_31mar": lambda: per_10k("b1_children_in_need_2013_to_2025.csv", "At31_episodes"),
    "cp.repeat_plan_pct": lambda: [
        number(r["CPP_subsequent_percent"])
        for r in la_rows("d3_cpps_subsequent_plan_2013_to_2025.csv")
    ],
    "cla.rate_31mar": lambda: [
        number(r["rate_per_10000"])
        for r in la_rows(
            "cla_number_and_rate_per_10k_children.csv",
            population_type="Children looked after on 31 March each year",
        )
    ],
    "cla.placements_3plus_pct": lambda: share(
        "la_cla_placement_stability.csv",
        {
            "cla_group": "CLA on 31 March",
            "placement_stability": "With 3 or more placements during the year",
        },
        {"cla_group": "CLA on 31 March", "placement_stability": "Total children"},
        "children_count",
    ),
    "leavers.suitable_accom_pct": lambda: [
        number(r["care_leaver_percent"])
        for r in la_rows(
            "la_care_leavers_accommodation_suitability.csv",
            breakdown="Accommodation considered suitable",
        )
    ],
}


@pytest.fixture(scope="module")
def synthetic_la(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float | None]:
    folder = tmp_path_factory.mktemp("realism")
    generate(folder / "files", scale="la", seed=1, years=3)
    warehouse = Warehouse.connect(f"duckdb://{folder / 'w.duckdb'}")
    ingest([folder / "files"], warehouse, Pseudonymiser(b"r" * 32))
    with warehouse:
        return {r.id: r.value for r in compute(warehouse, "2024-25")}


@pytest.mark.parametrize("indicator_id", sorted(PUBLISHED))
def test_synthetic_figures_sit_within_englands_published_spread(
    indicator_id: str, synthetic_la: dict[str, float | None]
) -> None:
    low, high = spread(PUBLISHED[indicator_id]())
    value = synthetic_la[indicator_id]
    assert value is not None, f"{indicator_id} was not computed"
    assert low <= value <= high, (
        f"{indicator_id} = {value:.1f}, outside England's local authorities' 5th-95th "
        f"percentile range {low:.1f} to {high:.1f} for 2024-25"
    )
