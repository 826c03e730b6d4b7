"""Helpers for the rule tests: load hand-built rows, ask which rows a rule flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from csc_insight.rules import ValidationRun
from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import LoadBatch, Warehouse

Rows = dict[str, list[dict[str, Any]]]
LA = "E06000001"
OTHER_LA = "E06000002"
YEAR = 2025  # collection year ending 31 March 2025


def load(warehouse: Warehouse, rows: Rows, la_code: str = LA) -> None:
    """Load hand-built canonical rows; source_row is the 1-based position in each list."""
    batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
    for name, records in rows.items():
        schema = table(name).schema().to_pyarrow()
        full = [
            {"la_code": la_code, "load_id": batch.load_id, "source_file": f"{name}.csv"}
            | record
            | {"source_row": i + 1}
            for i, record in enumerate(records)
        ]
        batch.add(name, pa.Table.from_pylist(full, schema=schema))
    warehouse.commit_load(batch)


@dataclass
class Checked:
    """A validation run over a module's rows, with helpers to ask which rows failed."""

    warehouse: Warehouse
    result: ValidationRun

    def rows(self, code: str) -> set[int]:
        """source_row of every row failing rule ``code``."""
        f = self.result.findings
        return {
            row
            for c, row in zip(
                f.column("rule_code").to_pylist(), f.column("source_row").to_pylist(), strict=True
            )
            if c == code
        }

    def children(self, code: str) -> set[str]:
        """child_id of every row failing rule ``code``."""
        f = self.result.findings
        return {
            child
            for c, child in zip(
                f.column("rule_code").to_pylist(), f.column("child_id").to_pylist(), strict=True
            )
            if c == code
        }
