"""The opt-in re-identification lookup: pseudonym -> the authority's own child identifier.

Off by default. When an authority turns it on (``--keep-lookup`` or
CSC_INSIGHT_REIDENTIFICATION_LOOKUP=on), ingest writes one row per child and authority to
``reidentification.duckdb`` in the workspace: a separate file, readable and writable by its
owner only, that the warehouse, the dashboard and exports never open. An authorised
analyst uses ``csc-insight reidentify PSEUDONYM`` to find which child a finding is about.
Deleting the file removes the lookup entirely; the warehouse does not depend on it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.datasets.conform import blank_to_null, keyed_hashes
from csc_insight.errors import CscInsightError
from csc_insight.privacy.pseudonymise import Pseudonymiser

LOOKUP_FILE = "reidentification.duckdb"
TABLE = "reidentification"
_SCHEMA = pa.schema(
    [
        ("la_code", pa.string()),
        ("child_id", pa.string()),
        ("local_child_id", pa.string()),
        ("first_loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def lookup_path(home: Path) -> Path:
    return home / LOOKUP_FILE


@contextmanager
def _owner_only() -> Iterator[None]:
    """Files created inside are readable by their owner only (the database and its WAL)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    with _owner_only():
        con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()
        if path.exists():
            path.chmod(0o600)


@dataclass
class LookupCollector:
    """Collects each (authority, raw identifier) an ingest run reads, to write at the end."""

    raw_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, la_code: str, values: pa.Array | pa.ChunkedArray) -> None:
        """Remember the distinct non-blank identifiers of one column."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        distinct = pc.unique(blank_to_null(values)).drop_null()
        self.raw_ids[la_code].update(str(v) for v in distinct.to_pylist())

    def merge(self, other: LookupCollector) -> None:
        """Add what another collector (another process's share of the files) collected."""
        for la_code, ids in other.raw_ids.items():
            self.raw_ids[la_code].update(ids)

    def rows(self, pseudonymiser: Pseudonymiser) -> pa.Table:
        """(la_code, pseudonym, raw identifier) for everything collected."""
        parts: list[pa.Table] = []
        now = datetime.now(UTC)
        for la_code, ids in sorted(self.raw_ids.items()):
            raw = pa.array(sorted(ids), pa.string())
            parts.append(
                pa.table(
                    {
                        "la_code": pa.array([la_code] * len(raw), pa.string()),
                        "child_id": keyed_hashes(pseudonymiser, la_code, raw),
                        "local_child_id": raw,
                        "first_loaded_at": pa.array([now] * len(raw), _SCHEMA[3].type),
                    },
                    schema=_SCHEMA,
                )
            )
        return pa.concat_tables(parts) if parts else _SCHEMA.empty_table()

    def write(self, home: Path, pseudonymiser: Pseudonymiser) -> int:
        """Add what was collected to the workspace's lookup; returns the rows it now holds."""
        rows = self.rows(pseudonymiser)
        home.mkdir(parents=True, exist_ok=True)
        with _connect(lookup_path(home)) as con:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (la_code VARCHAR NOT NULL, "
                "child_id VARCHAR NOT NULL, local_child_id VARCHAR NOT NULL, "
                "first_loaded_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (la_code, child_id))"
            )
            con.register("incoming", rows)
            con.execute(
                f"INSERT OR IGNORE INTO {TABLE} "
                "SELECT la_code, child_id, local_child_id, first_loaded_at FROM incoming"
            )
            con.unregister("incoming")
            found = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(found[0]) if found else 0


def reidentify(home: Path, pseudonym: str) -> list[tuple[str, str]]:
    """(la_code, the authority's own identifier) of a pseudonym; empty if it is not known."""
    path = lookup_path(home)
    if not path.exists():
        raise CscInsightError(
            f"There is no re-identification lookup in {home}: it is kept only when ingest runs "
            "with --keep-lookup (or CSC_INSIGHT_REIDENTIFICATION_LOOKUP=on)."
        )
    with _connect(path, read_only=True) as con:
        found = con.execute(
            f"SELECT la_code, local_child_id FROM {TABLE} WHERE child_id = ? ORDER BY la_code",
            [pseudonym.strip().lower()],
        ).fetchall()
    return [(str(la), str(raw)) for la, raw in found]
