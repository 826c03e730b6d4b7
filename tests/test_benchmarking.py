"""Benchmarking against DfE's published tables, checked against the real published files.

The files live in ../shared/reference/dfe beside the clone (CI puts them there); the package
never bundles them. One synthetic authority (the default identity, Wakefield, so its
neighbours are real authorities) is generated, loaded and benchmarked once per module.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csc_insight.benchmarks import BENCHMARKS, BENCHMARKS_BY_ID, SYMBOLS, compare
from csc_insight.benchmarks.compare import (
    Comparison,
    authority_code,
    neighbours_of,
    rank_and_quartile,
)
from csc_insight.benchmarks.mapping import (
    mapping_markdown,
    published_series,
    resolution_problems,
)
from csc_insight.benchmarks.published import import_files, read_file
from csc_insight.benchmarks.view import chart_specs, comparison_table, summary_table
from csc_insight.cli import app
from csc_insight.datasets.la_codes import ons_code
from csc_insight.errors import ConfigError, InputError
from csc_insight.indicators import REGISTRY
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
from csc_insight.synth import generate
from csc_insight.warehouse.store import Warehouse

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dfe"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"DfE's published files are not at {SHARED}"
)
# Every file the benchmarks use (absence and Census ethnicity are importable, but not needed).
FILES = (
    "b1_children_in_need_2013_to_2025.csv",
    "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
    "d3_cpps_subsequent_plan_2013_to_2025.csv",
    "d5_cpps_at31march_by_duration_2013_to_2025.csv",
    "cla_number_and_rate_per_10k_children.csv",
    "la_cla_placement_stability.csv",
    "la_cla_during_year_new_placements.csv",
    "la_care_leavers_activity.csv",
    "la_care_leavers_accommodation_suitability.csv",
    "national_cla_adopted_average_time_between_adoption_process_stages.csv",
    "ons_mid-year_population_estimates_2012_to_2024.csv",
    "sn_model_2025_wide.csv",
    "New_Statistical_Neighbour_Groupings_April_2021.csv",
)
# Indicators the issue asks to be benchmarked.
REQUIRED = {
    "cin.referrals",
    "cin.referral_rate",
    "cin.rereferral_pct",
    "cin.nfa_pct",
    "cin.children_in_need_31mar",
    "cin.cin_rate_31mar",
    "cp.repeat_plan_pct",
    "cp.plans_31mar",
    "cla.children_31mar",
    "cla.rate_31mar",
    "cla.started",
    "cla.ceased",
    "cla.placements_3plus_pct",
    "cla.long_term_stability_pct",
    "leavers.eet_pct",
    "leavers.suitable_accom_pct",
    "adoption.a1_days",
    "adoption.a2_days",
}
WAKEFIELD, BARNET, ENGLAND = "E08000036", "E09000003", "E92000001"
runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the synthetic authority loaded and the published files imported."""
    root = tmp_path_factory.mktemp("benchmarking")
    files, home = root / "synthetic", root / "home"
    home.mkdir()
    generate(files, scale="small", seed=3, years=2)
    with Warehouse.connect(_url(home)) as warehouse:
        ingest([files], warehouse, Pseudonymiser(load_or_create_key(home)))
        report = import_files(warehouse, [SHARED / name for name in FILES])
    assert report.load_id is not None
    return home


def _url(home: Path) -> str:
    return f"duckdb://{(home / 'warehouse.duckdb').resolve()}"


@pytest.fixture
def warehouse(home: Path) -> Iterator[Warehouse]:
    with Warehouse.connect(_url(home)) as w:
        yield w


@pytest.fixture(scope="module")
def comparisons(home: Path) -> list[Comparison]:
    with Warehouse.connect(_url(home)) as w:
        return compare(w, authority_code(w, home))


def _published(warehouse: Warehouse, **where: str) -> list[dict[str, object]]:
    t = warehouse.table("published_values")
    for column, value in where.items():
        t = t.filter(t[column] == value)
    rows: list[dict[str, object]] = t.to_pyarrow().to_pylist()
    return rows


def _csv(name: str) -> list[dict[str, str]]:
    with (SHARED / name).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# --- published figures ----------------------------------------------------------------------


def test_england_rereferral_percentage_in_2025_is_22_6(warehouse: Warehouse) -> None:
    rows = _published(
        warehouse, source="c1", time_period="2025", area_code=ENGLAND, measure="rereferral_percent"
    )
    assert [(r["value"], r["symbol"], r["geographic_level"]) for r in rows] == [
        (22.6, None, "National")
    ]
    series = published_series(warehouse, BENCHMARKS_BY_ID["cin.rereferral_pct"])
    assert series[(2025, ENGLAND)].value == 22.6
    assert series[(2025, WAKEFIELD)].value == 18.5
    assert series[(2024, BARNET)].value == 13.2


def test_barnets_ten_2025_neighbours_are_those_in_the_model_file(warehouse: Warehouse) -> None:
    barnet = next(r for r in _csv("sn_model_2025_wide.csv") if r["old_la_code"] == "302")
    expected = [ons_code(barnet[f"SN_{k}"]) for k in range(1, 11)]
    found = neighbours_of(warehouse, BARNET, "2025")
    assert [n["neighbour_code"] for n in found] == expected
    assert [n["rank"] for n in found] == list(range(1, 11))
    assert [n["closeness"] for n in found] == [barnet[f"SN_{k}P"].strip() for k in range(1, 11)]
    names = {r["old_la_code"]: r["la_name"] for r in _csv("sn_model_2025_wide.csv")}
    assert [n["neighbour_name"] for n in found] == [names[barnet[f"SN_{k}"]] for k in range(1, 11)]
    assert found[0]["la_name"] == "Barnet"


def test_the_2021_groupings_are_kept_beside_the_2025_model(warehouse: Warehouse) -> None:
    old = neighbours_of(warehouse, WAKEFIELD, "2021")
    new = neighbours_of(warehouse, WAKEFIELD, "2025")
    assert len(old) == len(new) == 10
    assert old[0]["neighbour_code"] == ons_code("359")  # Wigan, very close in 2021
    assert new[0]["neighbour_code"] == ons_code("332")  # Dudley, in the 2025 model
    with pytest.raises(ConfigError):
        neighbours_of(warehouse, WAKEFIELD, "2019")


def test_dfe_symbols_are_missing_values_with_their_meaning_kept(warehouse: Warehouse) -> None:
    city = _published(
        warehouse,
        source="c1",
        time_period="2025",
        old_la_code="201",
        measure="rereferral_child_percent",
    )
    assert [(r["value"], r["symbol"]) for r in city] == [(None, "c")]
    assert "suppressed" in SYMBOLS["c"]
    low = _published(
        warehouse,
        source="c1",
        time_period="2024",
        area_code=BARNET,
        measure="no_further_action_percent",
    )
    assert [(r["value"], r["symbol"]) for r in low] == [(None, "u")]
    # A suppressed authority is missing from the ranking, not counted as a zero.
    series = published_series(warehouse, BENCHMARKS_BY_ID["cin.nfa_pct"])
    assert series[(2024, BARNET)].value is None
    assert series[(2024, BARNET)].symbol == "u"


def test_a_handful_of_figures_match_the_published_files(warehouse: Warehouse) -> None:
    def value(indicator: str, year: int, code: str) -> float | None:
        return published_series(warehouse, BENCHMARKS_BY_ID[indicator])[(year, code)].value

    assert value("cla.rate_31mar", 2025, ENGLAND) == 67
    assert value("cla.children_31mar", 2025, ENGLAND) == 81770
    assert value("cin.referrals", 2025, WAKEFIELD) == 4992
    assert value("cp.repeat_plan_pct", 2025, ENGLAND) == 24.5
    assert value("cp.plans_31mar", 2025, ENGLAND) == 49420
    assert value("leavers.eet_pct", 2025, ENGLAND) == 54
    assert value("leavers.suitable_accom_pct", 2025, ENGLAND) == 89
    assert value("cla.long_term_stability_pct", 2025, ENGLAND) == 69
    # Rates per 10,000 use the ONS estimate of the mid-year before (mid-2024 for 2024-25).
    rate = value("cin.referral_rate", 2025, ENGLAND)
    assert rate == pytest.approx(632830 / 12183016 * 10_000)
    # 1 year 7 months from entering care to an adoptive placement, in days.
    assert value("adoption.a1_days", 2025, ENGLAND) == pytest.approx(19 * 365.25 / 12)
    # Placed more than 20 miles away: worked out from the published counts.
    rows = [
        r
        for r in _csv("la_cla_during_year_new_placements.csv")
        if r["time_period"] == "2025" and r["geographic_level"] == "National"
    ]
    count = {r["breakdown"]: float(r["children_count"]) for r in rows}
    far = sum(n for b, n in count.items() if "more than 20 miles" in b)
    known = sum(n for b, n in count.items() if "20 miles" in b)
    assert value("cla.placed_20_miles_pct", 2025, ENGLAND) == pytest.approx(far / known * 100)


# --- the mapping ----------------------------------------------------------------------------


def test_the_mapping_covers_the_indicators_asked_for() -> None:
    assert set(BENCHMARKS_BY_ID) >= REQUIRED
    assert all(b.indicator in REGISTRY for b in BENCHMARKS)
    assert all(b.published for b in BENCHMARKS)


def test_every_mapping_resolves_to_rows_in_the_shared_files(warehouse: Warehouse) -> None:
    problems = {b.indicator: resolution_problems(warehouse, b) for b in BENCHMARKS}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_docs_carry_the_mapping_table() -> None:
    page = (ROOT / "docs" / "benchmarking.md").read_text(encoding="utf-8")
    assert mapping_markdown() in page, (
        "docs/benchmarking.md is out of date: paste mapping.mapping_markdown() into it"
    )


# --- comparisons on the synthetic authority -------------------------------------------------


def test_the_synthetic_authority_is_wakefield(home: Path, warehouse: Warehouse) -> None:
    assert authority_code(warehouse, home) == WAKEFIELD
    assert authority_code(warehouse, home, "302") == BARNET
    (home / "authority.toml").write_text('[authority]\nla_code = "384"\n', encoding="utf-8")
    try:
        assert authority_code(warehouse, home) == WAKEFIELD
        with pytest.raises(ConfigError, match="not an English authority"):
            authority_code(warehouse, home, "X99")
    finally:
        (home / "authority.toml").unlink()


def test_every_benchmarked_indicator_shows_its_comparators(
    comparisons: list[Comparison],
) -> None:
    assert [c.id for c in comparisons] == [b.indicator for b in BENCHMARKS]
    for c in comparisons:
        b = BENCHMARKS_BY_ID[c.id]
        assert c.la_code == WAKEFIELD and c.la_name == "Wakefield"
        assert c.period == "2024-25" and c.published_year == 2025 and not c.local_newer
        assert c.england is not None, c.id
        if b.national_only:
            assert c.region is None and c.sn_mean is None and c.rank is None
            continue
        assert c.region is not None and c.region_name == "Yorkshire and The Humber", c.id
        assert c.sn_mean is not None and c.sn_median is not None and c.sn_count >= 4, c.id
        assert c.rank is not None and c.of is not None and 1 <= c.rank <= c.of, c.id
        assert c.of > 90 and c.quartile in ("A", "B", "C", "D"), c.id
        assert len(c.neighbours) == 10
        years = [t["year"] for t in c.trend]
        assert years == sorted(years) and len(years) >= 5
    by_id = {c.id: c for c in comparisons}
    for indicator in ("cin.referrals", "cin.rereferral_pct", "cla.children_31mar"):
        c = by_id[indicator]
        assert c.local is not None and c.rank_basis == "local"
        assert c.differences["england"] == pytest.approx(c.local - (c.england or 0))


def test_the_json_has_what_the_dashboard_needs(comparisons: list[Comparison]) -> None:
    for c in comparisons:
        d = json.loads(json.dumps(c.to_dict()))
        assert set(d) >= {
            "id",
            "local",
            "england",
            "region",
            "sn_mean",
            "sn_median",
            "rank",
            "of",
            "quartile",
            "published_year",
            "local_newer",
            "trend",
            "neighbours",
            "differences",
        }
    eet = next(c for c in comparisons if c.id == "leavers.eet_pct")
    assert eet.local_breakdown == {"leaver_age": "19 to 21"}
    assert any("19 to 21" in n for n in eet.notes)


def test_a_local_year_newer_than_the_published_one_says_so(
    home: Path, warehouse: Warehouse
) -> None:
    [c] = compare(warehouse, WAKEFIELD, "2025-26", ["cla.rate_31mar"])
    assert c.local_newer and c.published_year == 2025 and c.period == "2025-26"
    assert any("latest published year is 2024-25" in n for n in c.notes)


def test_a_london_borough_is_compared_with_london(warehouse: Warehouse) -> None:
    [c] = compare(warehouse, "302", ids=["cin.rereferral_pct"])
    assert c.region_code == "E12000007" and c.region_name == "London"
    assert c.la_published == 14.8 and c.local is None and c.rank_basis == "published"
    assert any("not E09000003" in n for n in c.notes)  # the loaded data is Wakefield's
    [old] = compare(warehouse, "302", ids=["cin.rereferral_pct"], neighbours="2021")
    assert old.sn_model == "2021" and old.neighbours[0].code == ons_code("315")


def test_rank_and_quartile_follow_the_polarity() -> None:
    others = [float(v) for v in range(1, 100)]  # 99 others: 100 ranked
    assert rank_and_quartile(100.0, others, "higher_is_better") == (1, 100, "A")
    assert rank_and_quartile(100.0, others, "lower_is_better") == (1, 100, "D")
    assert rank_and_quartile(0.0, others, "lower_is_better") == (100, 100, "A")
    assert rank_and_quartile(50.5, others, "neither") == (50, 100, "B")
    assert rank_and_quartile(None, others, "neither") == (None, 99, None)


def test_tables_and_chart_specs_are_plain_data(comparisons: list[Comparison]) -> None:
    summary = summary_table(comparisons)
    assert list(summary["id"]) == [c.id for c in comparisons]
    tidy = comparison_table(comparisons)
    assert set(tidy["comparator"]) == {
        "local",
        "la_published",
        "england",
        "region",
        "sn_mean",
        "sn_median",
    }
    c = next(c for c in comparisons if c.id == "cin.rereferral_pct")
    specs = chart_specs(c)
    assert set(specs) == {"trend", "neighbours"}
    text = json.dumps(specs)
    assert "vega-lite" in specs["trend"]["$schema"]
    assert "This authority" in text and "Dudley" in text
    assert not any(isinstance(v, float) and math.isnan(v) for v in _leaves(specs))


def _leaves(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


# --- import and the command line ------------------------------------------------------------


def test_an_unknown_file_is_named_with_the_columns_expected(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("time_period,geographic_level,widgets\n2025,National,3\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_file(odd)
    message = str(caught.value)
    assert "odd.csv" in message and "widgets" in message
    assert "rereferral_percent" in message and "SN_1" in message


def test_a_reimport_replaces_rather_than_duplicates(tmp_path: Path) -> None:
    d3 = SHARED / "d3_cpps_subsequent_plan_2013_to_2025.csv"
    with Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}") as w:
        first = import_files(w, [d3])
        count = w.count("published_values")
        import_files(w, [d3])
        assert w.count("published_values") == count == first.files[0].values
        assert w.count("loads") == 2


def test_cli_import_and_show(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "benchmarks",
            "import",
            str(SHARED / "LTLA-UTLA_Apr23_Lookup_England-Wales.csv"),
            "--home",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["load_id"] is None and "lookup" in report["files"][0]["notes"][0]

    result = runner.invoke(
        app,
        [
            "benchmarks",
            "show",
            "--home",
            str(home),
            "--indicator",
            "cin.rereferral_pct,adoption.a1_days",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["cin.rereferral_pct", "adoption.a1_days"]
    assert rows[0]["england"] == 22.6 and rows[0]["published_year"] == 2025
    for key in ("local", "region", "sn_mean", "sn_median", "rank", "of", "quartile"):
        assert rows[0][key] is not None, key

    result = runner.invoke(
        app, ["benchmarks", "show", "--home", str(home), "--indicator", "cla.rate_31mar"]
    )
    assert result.exit_code == 0, result.output
    assert "Wakefield: 2024-25" in result.stdout and "67.0" in result.stdout

    result = runner.invoke(
        app, ["benchmarks", "show", "--home", str(home), "--indicator", "cin.s47_enquiries"]
    )
    assert isinstance(result.exception, ConfigError)
    assert "no published counterpart" in str(result.exception)
