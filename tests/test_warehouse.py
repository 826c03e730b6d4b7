"""The warehouse store on a real DuckDB file: schema, upserts, atomic loads, engines."""

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


def test_every_canonical_table_is_created(warehouse: Warehouse) -> None:
    assert set(warehouse.con.list_tables()) >= {t.name for t in TABLES}
    assert warehouse.counts() == {t.name: 0 for t in TABLES}
    for t in TABLES:
        assert warehouse.table(t.name).columns == tuple(t.column_names)


def test_same_key_is_superseded_not_doubled(warehouse_with: Callable[[Rows], Warehouse]) -> None:
    episode = {"child_id": "a", "decom": date(2024, 3, 1), "place": "U1"}
    w = warehouse_with({"cla_episodes": [episode]})
    w = warehouse_with({"cla_episodes": [episode | {"place": "K2", "dec": date(2024, 5, 1)}]})
    rows = w.table("cla_episodes").to_pyarrow().to_pylist()
    assert len(rows) == 1
    assert rows[0]["place"] == "K2"


def test_children_are_merged_column_by_column(warehouse_with: Callable[[Rows], Warehouse]) -> None:
    w = warehouse_with({"children": [{"child_id": "a", "sex": "1", "ethnicity": "WBRI"}]})
    w = warehouse_with({"children": [{"child_id": "a", "sex": "1", "locality": "North"}]})
    (row,) = w.table("children").to_pyarrow().to_pylist()
    assert (row["ethnicity"], row["locality"]) == ("WBRI", "North")


def test_a_failed_load_leaves_the_warehouse_as_it_was(
    warehouse_with: Callable[[Rows], Warehouse],
) -> None:
    w = warehouse_with(
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


def test_loads_are_logged(warehouse_with: Callable[[Rows], Warehouse]) -> None:
    w = warehouse_with({"children": [{"child_id": "a", "sex": "2"}]})
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
