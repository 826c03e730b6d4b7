"""The warehouse store on every engine (DuckDB, PostgreSQL, PySpark): schema, upserts, loads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from csc_insight.errors import ConfigError
from csc_insight.warehouse import engines
from csc_insight.warehouse.model import TABLES, table
from csc_insight.warehouse.store import FileTableReport, LoadBatch, Warehouse

Rows = dict[str, list[dict[str, Any]]]


def test_every_canonical_table_is_created(engine: Warehouse) -> None:
    assert set(engine.con.list_tables()) >= {t.name for t in TABLES}
    assert engine.counts() == {t.name: 0 for t in TABLES}
    for t in TABLES:
        columns = engine.table(t.name).schema()
        assert columns.names == tuple(t.column_names)
        # Same types everywhere (PostgreSQL reports timestamp(6): same type, finer detail).
        assert {c: type(d) for c, d in columns.items()} == {
            c: type(d) for c, d in t.schema().items()
        }


def test_schema_is_created_once(engine: Warehouse) -> None:
    engine.ensure_schema()
    assert engine.counts() == {t.name: 0 for t in TABLES}


def test_same_key_is_superseded_not_doubled(engine_with: Callable[[Rows], Warehouse]) -> None:
    episode = {"child_id": "a", "decom": date(2024, 3, 1), "place": "U1"}
    w = engine_with({"cla_episodes": [episode]})
    w = engine_with({"cla_episodes": [episode | {"place": "K2", "dec": date(2024, 5, 1)}]})
    rows = w.table("cla_episodes").to_pyarrow().to_pylist()
    assert len(rows) == 1
    assert rows[0]["place"] == "K2"


def test_children_are_merged_column_by_column(engine_with: Callable[[Rows], Warehouse]) -> None:
    w = engine_with({"children": [{"child_id": "a", "sex": "1", "ethnicity": "WBRI"}]})
    w = engine_with({"children": [{"child_id": "a", "sex": "1", "locality": "North"}]})
    (row,) = w.table("children").to_pyarrow().to_pylist()
    assert (row["ethnicity"], row["locality"]) == ("WBRI", "North")


def test_a_failed_load_leaves_the_warehouse_as_it_was(
    engine_with: Callable[[Rows], Warehouse],
) -> None:
    w = engine_with(
        {"referrals": [{"child_id": "a", "referral_id": "r1", "referral_date": date(2024, 5, 1)}]}
    )
    before = w.counts()
    batch = LoadBatch(w.new_load_id(), datetime.now(UTC))
    schema = table("referrals").schema().to_pyarrow()
    good = {
        "la_code": "E06000001",
        "child_id": "b",
        "referral_id": "r2",
        "referral_date": date(2024, 6, 1),
        "load_id": batch.load_id,
        "source_file": "f",
        "source_row": 1,
    }
    batch.add("referrals", pa.Table.from_pylist([good], schema=schema))
    # A table that does not fit the model makes the commit fail after referrals were written.
    batch.add("children", pa.table({"nonsense": [1]}))
    batch.files.append(FileTableReport("f", "x" * 64, "test", "referrals", 2025, 1, 1, 0))
    with pytest.raises(Exception, match="children"):
        w.commit_load(batch)
    assert w.counts() == before


def test_a_load_failing_while_writing_leaves_the_warehouse_as_it_was(
    engine_with: Callable[[Rows], Warehouse],
) -> None:
    w = engine_with(
        {"referrals": [{"child_id": "a", "referral_id": "r1", "referral_date": date(2024, 5, 1)}]}
    )
    # The loads table is written last; without it the engine itself fails mid-load, after the
    # referrals were written (a real failure inside the engine, not a simulated one).
    w.con.drop_table("loads")
    with pytest.raises(Exception, match=r"(?i)loads"):
        w.commit_load(_referral_batch(w, "r2"))
    assert w.count("referrals") == 1


test_a_load_failing_while_writing_leaves_the_warehouse_as_it_was = pytest.mark.known_gap(
    "pyspark",
    reason="Spark has no transactions: tables already overwritten stay written",
    raises=AssertionError,
)(test_a_load_failing_while_writing_leaves_the_warehouse_as_it_was)


def _referral_batch(w: Warehouse, referral_id: str) -> LoadBatch:
    batch = LoadBatch(w.new_load_id(), datetime.now(UTC))
    row = {
        "la_code": "E06000001",
        "child_id": "b",
        "referral_id": referral_id,
        "referral_date": date(2024, 6, 1),
        "load_id": batch.load_id,
        "source_file": "f",
        "source_row": 1,
    }
    batch.add(
        "referrals", pa.Table.from_pylist([row], schema=table("referrals").schema().to_pyarrow())
    )
    return batch


def test_last_row_for_a_key_wins_within_a_load(engine_with: Callable[[Rows], Warehouse]) -> None:
    first = {"child_id": "a", "decom": date(2024, 3, 1), "place": "U1"}
    w = engine_with({"cla_episodes": [first, first | {"place": "U2"}, first | {"place": "U3"}]})
    assert [r["place"] for r in w.table("cla_episodes").to_pyarrow().to_pylist()] == ["U3"]


def test_adoptions_are_merged_and_keys_with_nulls_match(
    engine_with: Callable[[Rows], Warehouse],
) -> None:
    w = engine_with({"adoptions": [{"child_id": "a", "date_int": date(2024, 1, 2)}]})
    w = engine_with(
        {"adoptions": [{"child_id": "a", "date_match": date(2024, 6, 3), "foster_care": True}]}
    )
    # contacts' key includes contact_source, which may be blank: blanks match blanks
    contact = {"child_id": "c", "contact_date": date(2024, 4, 1), "contact_source": None}
    w = engine_with({"contacts": [contact | {"outcome": "NFA"}]})
    w = engine_with({"contacts": [contact | {"outcome": "referral"}]})
    (adoption,) = w.table("adoptions").to_pyarrow().to_pylist()
    assert (adoption["date_int"], adoption["date_match"], adoption["foster_care"]) == (
        date(2024, 1, 2),
        date(2024, 6, 3),
        True,
    )
    assert [r["outcome"] for r in w.table("contacts").to_pyarrow().to_pylist()] == ["referral"]


def test_every_type_round_trips(engine_with: Callable[[Rows], Warehouse]) -> None:
    episode = {
        "child_id": "a",
        "decom": date(2024, 2, 29),
        "placement_distance_miles": 12.25,
        "urn": "SC123456",
        "dec": None,
    }
    oc2 = {"child_id": "a", "collection_year": 2025, "sdq_score": 17, "convicted": False}
    w = engine_with({"cla_episodes": [episode], "oc2": [oc2]})
    (got,) = w.table("cla_episodes").to_pyarrow().to_pylist()
    assert {k: got[k] for k in episode} == episode
    assert got["source_row"] == 1
    (got_oc2,) = w.table("oc2").to_pyarrow().to_pylist()
    assert {k: got_oc2[k] for k in oc2} == oc2
    (load,) = w.table("loads").to_pyarrow().to_pylist()
    assert isinstance(load["started_at"], datetime)
    assert load["started_at"] <= load["finished_at"]
    assert (load["rows_read"], load["rows_loaded"]) == (0, 0)


def test_loads_are_logged(engine_with: Callable[[Rows], Warehouse]) -> None:
    w = engine_with({"children": [{"child_id": "a", "sex": "2"}]})
    (load,) = w.table("loads").to_pyarrow().to_pylist()
    assert load["csc_insight_version"]


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("duckdb:///tmp/x.duckdb", "duckdb"),
        ("postgres://u@localhost/db", "postgres"),
        ("postgresql://u@localhost/db", "postgres"),
        ("pyspark", "pyspark"),
        ("pyspark://local[2]", "pyspark"),
    ],
)
def test_engine_is_chosen_by_url(url: str, engine: str) -> None:
    assert engines.engine_for(url).name == engine


def test_unknown_engine_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="names no engine"):
        engines.engine_for("mysql://x")


def test_duckdb_paths(tmp_path: Path) -> None:
    assert engines.duckdb_path("duckdb://") is None
    assert engines.duckdb_path(f"duckdb://{tmp_path}/w.duckdb") == tmp_path / "w.duckdb"
    assert engines.duckdb_path("duckdb://relative/w.duckdb") == Path("relative/w.duckdb")


def test_spark_urls_name_the_master_and_settings() -> None:
    assert engines.spark_settings("pyspark")[0] == "local[*]"
    master, settings = engines.spark_settings(
        "pyspark://local[2]?spark.sql.catalogImplementation=hive&spark.driver.memory=2g"
    )
    assert master == "local[2]"
    assert settings["spark.sql.catalogImplementation"] == "hive"
    assert settings["spark.driver.memory"] == "2g"
    assert settings["spark.sql.session.timeZone"] == "UTC"


def test_arrow_schemas_are_the_ones_ibis_makes() -> None:
    """Readers build Arrow tables from the model without Ibis; the types must agree."""
    from csc_insight.warehouse.model import TABLES

    for t in TABLES:
        assert t.arrow_schema() == t.schema().to_pyarrow(), t.name
