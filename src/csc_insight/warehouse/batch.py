"""What a load writes, gathered before the warehouse is touched (no engine needed here).

Kept apart from the warehouse so that reading files, which fills a batch, does not import
Ibis: a command that only checks files starts faster.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from csc_insight.warehouse.upsert import Superseded, with_part


def new_load_id() -> str:
    """A fresh load identifier: sortable by time, unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass
class FileTableReport:
    """Reconciliation of one file and one canonical table within a load."""

    source_file: str
    content_sha256: str
    dataset: str
    target_table: str
    collection_year: int | None
    read: int
    loaded: int
    quarantined: int
    # Of ``loaded``: rows that gave way to a row already held from a newer return (set by
    # the commit, which is where the warehouse's rows are compared).
    superseded: int = 0


@dataclass
class LoadBatch:
    """Everything one ingest run writes, committed together or not at all."""

    load_id: str
    started_at: datetime
    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    quarantine: list[pa.Table] = field(default_factory=list)
    files: list[FileTableReport] = field(default_factory=list)

    def add(self, name: str, rows: pa.Table, *, part: int = -1, gives_way: bool = False) -> None:
        """Queue canonical rows for table ``name``.

        ``part`` is the index in ``files`` of the reconciliation these rows count in (-1:
        none); ``gives_way`` marks rows that only fill the blanks of any return's row
        (Annex A lists).
        """
        if rows.num_rows:
            # Checked against the model at commit, inside the transaction.
            self.tables.setdefault(name, []).append(with_part(rows, part, gives_way))

    def record_superseded(self, counts: Superseded) -> None:
        """Put the commit's superseded counts into the reconciliation."""
        for part, n in counts.items():
            if 0 <= part < len(self.files):
                self.files[part].superseded += n
