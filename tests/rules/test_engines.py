"""Every rule finds the same rows on DuckDB, PostgreSQL and Spark, and from cached SQL.

The hand-built rows of every rule family's test module are loaded side by side, each module
under its own authority code (rules never compare rows across authorities), and all rules run
at once. On DuckDB the rules run as SQL compiled rule by rule and cached on disk; on the other
engines as one Ibis expression: the findings must be the same.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from rulecheck import YEAR, load

from csc_insight.rules import REGISTRY, run
from csc_insight.rules import engine as rule_engine
from csc_insight.warehouse.store import Warehouse

FAMILY_MODULES = (
    "test_children",
    "test_cin_assessments",
    "test_cin_protection",
    "test_cin_referrals",
    "test_cla_episodes",
    "test_cla_other",
    "test_local",
)
Finding = tuple[str, str, str | None, str, int]


def _load_every_family(warehouse: Warehouse) -> None:
    for i, name in enumerate(FAMILY_MODULES):
        load(warehouse, importlib.import_module(name).ROWS, la_code=f"E0900{i:04d}")


def _findings(warehouse: Warehouse) -> list[Finding]:
    f = run(warehouse, collection_year=YEAR).findings
    columns = ("rule_code", "la_code", "child_id", "source_file", "source_row")
    return sorted(zip(*(f.column(c).to_pylist() for c in columns), strict=True))


@pytest.fixture(scope="module")
def duckdb_findings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch
) -> list[Finding]:
    folder = tmp_path_factory.mktemp("rules-duckdb")
    monkeypatch_module.setenv("CSC_INSIGHT_SQL_CACHE", str(folder / "sql"))
    with Warehouse.connect(f"duckdb://{folder / 'w.duckdb'}") as w:
        _load_every_family(w)
        return _findings(w)


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_every_family_has_findings(duckdb_findings: list[Finding]) -> None:
    found = {code for code, *_ in duckdb_findings}
    families = {REGISTRY[code].family for code in found}
    assert len(families) == len(FAMILY_MODULES)
    assert len(found) > 60  # most rules are exercised by the families' rows


@pytest.mark.parametrize("engine", ["postgres", "pyspark"], indirect=True)
def test_other_engines_find_the_same_rows(
    engine: Warehouse, duckdb_findings: list[Finding]
) -> None:
    _load_every_family(engine)
    assert _findings(engine) == duckdb_findings


def test_cached_sql_gives_the_same_findings_without_building_expressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, duckdb_findings: list[Finding]
) -> None:
    monkeypatch.setenv("CSC_INSIGHT_SQL_CACHE", str(tmp_path / "sql"))
    with Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}") as w:
        _load_every_family(w)
        assert _findings(w) == duckdb_findings  # compiled, then kept
        assert len(list((tmp_path / "sql").glob("validation-*.json"))) == 1

        def no_building(*_: object) -> None:
            raise AssertionError("a rule expression was built although its SQL was cached")

        monkeypatch.setattr(rule_engine, "findings_expr", no_building)
        assert _findings(w) == duckdb_findings


def test_an_unwritable_cache_folder_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, duckdb_findings: list[Finding]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("CSC_INSIGHT_SQL_CACHE", str(blocker / "sql"))
    with Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}") as w:
        _load_every_family(w)
        assert _findings(w) == duckdb_findings
