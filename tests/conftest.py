"""Shared fixtures: real DuckDB warehouses in temporary folders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import LoadBatch, Warehouse

Rows = dict[str, list[dict[str, Any]]]


def load_rows(warehouse: Warehouse, rows: Rows) -> None:
    """Write hand-built canonical rows (lineage and la_code filled in) through a real load."""
    batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
    for name, records in rows.items():
        schema = table(name).schema().to_pyarrow()
        full = [
            {
                "la_code": "E06000001",
                "load_id": batch.load_id,
                "source_file": "fixture.csv",
                "source_row": i + 1,
            }
            | record
            for i, record in enumerate(records)
        ]
        batch.add(name, pa.Table.from_pylist(full, schema=schema))
    warehouse.commit_load(batch)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """An empty warehouse on a real DuckDB file."""
    return Warehouse.connect(f"duckdb://{tmp_path / 'warehouse.duckdb'}")


@pytest.fixture
def warehouse_with(warehouse: Warehouse) -> Callable[[Rows], Warehouse]:
    """A warehouse loaded with the given hand-built rows."""

    def make(rows: Rows) -> Warehouse:
        load_rows(warehouse, rows)
        return warehouse

    return make
