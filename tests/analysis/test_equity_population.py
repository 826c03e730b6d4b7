"""Population baselines from the real ONS and Census 2021 files (shared copies, not bundled)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from csc_insight.analysis.equity_population import CENSUS_APPROXIMATION, baseline
from csc_insight.datasets import population
from csc_insight.datasets.detect import detect
from csc_insight.indicators.dimensions import ETHNIC_GROUPS
from csc_insight.indicators.registry import Tables
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.store import Warehouse

SHARED = Path("/work/shared/reference/dfe")
CENSUS_LA = SHARED / "ons-ethnic-population-la.csv"
CENSUS_NATION = SHARED / "ons-ethnic-population-nat.csv"
MID_YEAR = SHARED / "ons_mid-year_population_estimates_2012_to_2024.csv"
pytestmark = pytest.mark.skipif(
    not (CENSUS_LA.exists() and MID_YEAR.exists()), reason="shared reference data not present"
)
WAKEFIELD = "E08000036"


def _census(code: str) -> dict[str, int]:
    with CENSUS_LA.open(encoding="utf-8") as fh:
        return {
            r["Ethnic group (20 categories)"]: int(r["Observation"])
            for r in csv.DictReader(fh)
            if r["2023 Upper tier local authorities Code"] == code
        }


def test_every_census_category_maps_to_a_dfe_code() -> None:
    labels = [label for label in _census(WAKEFIELD) if label != "Does not apply"]
    assert len(labels) == 19
    for label in labels:
        code, group = population.census_ethnicity(label)
        assert code is not None, label
        assert group == ETHNIC_GROUPS["A" if code == "CHNE" else code[0]], label
    assert population.census_ethnicity("Does not apply") == (None, None)
    assert population.census_ethnicity("White") == (None, "White")


def test_census_files_are_recognised() -> None:
    assert detect(CENSUS_LA).dataset == "population.census_ethnicity"
    assert detect(CENSUS_NATION).dataset == "population.census_ethnicity"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path = tmp_path_factory.mktemp("pop") / "w.duckdb"
    w = Warehouse.connect(f"duckdb://{path}")
    ingest([CENSUS_LA, MID_YEAR], w, Pseudonymiser(b"k" * 32), la_code=WAKEFIELD)
    return w


def test_census_rows_are_kept_as_all_ages(loaded: Warehouse) -> None:
    pop = loaded.table("population")
    rows = pop.filter((pop.la_code == WAKEFIELD) & (pop.source == population.CENSUS_SOURCE))
    rows = rows.to_pyarrow().to_pylist()
    by_code = {r["ethnicity"]: r["population"] for r in rows if r["ethnicity"]}
    census = _census(WAKEFIELD)
    assert by_code["WBRI"] == census["White: English, Welsh, Scottish, Northern Irish or British"]
    # Arab and "any other" are both OOTH in DfE's codes.
    assert by_code["OOTH"] == (
        census["Other ethnic group: Arab"] + census["Other ethnic group: Any other ethnic group"]
    )
    assert {(r["age_band"], r["year"]) for r in rows} == {(population.ALL_AGES, 2021)}
    groups = {r["ethnic_group"]: r["population"] for r in rows if r["ethnic_group"]}
    assert sum(groups.values()) == sum(v for k, v in census.items() if k != "Does not apply")


def test_child_population_by_ethnicity_is_an_approximation(loaded: Warehouse) -> None:
    """Census shares of all ages applied to the ONS 0-17 estimate, labelled as such."""
    with MID_YEAR.open(encoding="utf-8") as fh:
        children = next(
            float(r["population_estimate"])
            for r in csv.DictReader(fh)
            if r["new_la_code"] == WAKEFIELD and r["time_period"] == "2024"
        )
    census = _census(WAKEFIELD)
    everyone = sum(census.values())
    share = census["Black, Black British, Black Welsh, Caribbean or African: Caribbean"] / everyone
    b = baseline(Tables(loaded), [WAKEFIELD], [2024], "ethnicity")
    assert b.approximate and b.source == CENSUS_APPROXIMATION
    assert b.total == children
    assert b.population("BCRB") == pytest.approx(children * share)
    assert sum(b.groups.values()) == pytest.approx(children)
    assert any("approximation" in note for note in b.notes)


def test_a_local_file_by_ethnicity_is_preferred(loaded: Warehouse, tmp_path: Path) -> None:
    local = tmp_path / "local_population.csv"
    local.write_text(
        "year,age_band,population,la_code,ethnicity\n"
        f"2024,0-17,60000,{WAKEFIELD},WBRI\n2024,0-17,2500,{WAKEFIELD},BCRB\n",
        encoding="utf-8",
    )
    ingest([local], loaded, Pseudonymiser(b"k" * 32), la_code=WAKEFIELD)
    b = baseline(Tables(loaded), [WAKEFIELD], [2024], "ethnicity")
    assert not b.approximate
    assert b.population("BCRB") == 2500
