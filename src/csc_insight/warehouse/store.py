"""The warehouse: canonical tables on an Ibis engine, written only by atomic loads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from csc_insight import __version__
from csc_insight.errors import CscInsightError, WarehouseError
from csc_insight.warehouse import engines
from csc_insight.warehouse.model import TABLES, Table, table

# These tables are fed by several datasets that each know part of a record (the CIN census
# knows a child's disability, a local extract the locality; AD1 and placed_for_adoption each
# half of an adoption), so a load fills gaps rather than overwriting what another said.
COALESCE_MERGED = frozenset({"children", "adoptions"})


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


@dataclass
class LoadBatch:
    """Everything one ingest run writes, committed together or not at all."""

    load_id: str
    started_at: datetime
    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    quarantine: list[pa.Table] = field(default_factory=list)
    files: list[FileTableReport] = field(default_factory=list)

    def add(self, name: str, rows: pa.Table) -> None:
        """Queue canonical rows for table ``name``."""
        if rows.num_rows:
            self.tables.setdefault(name, []).append(rows)


def arrow_schema(t: Table) -> pa.Schema:
    """The Arrow schema of a canonical table."""
    return t.schema().to_pyarrow()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse:
    """Canonical tables on one engine. Reads go through Ibis; loads are atomic."""

    def __init__(self, con: BaseBackend, url: str) -> None:
        self.con = con
        self.url = url
        self.engine = engines.engine_for(url)
        self.ensure_schema()

    @classmethod
    def connect(cls, url: str) -> Warehouse:
        """Open (creating if needed) the warehouse at ``url``."""
        try:
            con = engines.connect(url)
        except CscInsightError:
            raise
        except Exception as exc:  # the engine's own errors are not the user's vocabulary
            raise WarehouseError(f"Could not open the warehouse at {url}: {exc}") from exc
        return cls(con, url)

    def close(self) -> None:
        """Release the engine connection."""
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None:
            disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema ------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create any canonical table that does not exist yet."""
        existing = set(self.con.list_tables())
        for t in TABLES:
            if t.name not in existing:
                self.con.create_table(t.name, schema=t.schema())

    # --- reading -------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name`` as an Ibis expression."""
        table(name)  # a clear error for an unknown name
        return self.con.table(name)

    def count(self, name: str) -> int:
        """Rows in canonical table ``name``."""
        return int(self.table(name).count().execute())

    def counts(self) -> dict[str, int]:
        """Rows in every canonical table."""
        return {t.name: self.count(t.name) for t in TABLES}

    def loaded_hashes(self) -> set[str]:
        """SHA-256 of every file content already loaded."""
        col = self.table("load_files").content_sha256
        return {str(v) for v in col.execute().tolist()}

    @staticmethod
    def new_load_id() -> str:
        """A fresh load identifier: sortable by time, unique."""
        return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    # --- writing -------------------------------------------------------------------------
    def commit_load(self, batch: LoadBatch) -> None:
        """Write a whole load atomically: upsert every table by its natural key, then log it."""
        if self.engine.name != "duckdb":
            raise WarehouseError(
                f"Loading files straight into a {self.engine.name} warehouse is not supported "
                "yet: load into the default DuckDB warehouse, then point csc-insight at it."
            )
        raw = self.con.con  # type: ignore[attr-defined]
        staged: list[str] = []
        raw.begin()
        try:
            for name, parts in batch.tables.items():
                rows = _concat(name, parts)
                if rows.num_rows:
                    staged.append(self._upsert_duckdb(raw, table(name), rows))
            self._append_duckdb(raw, "quarantine", _concat("quarantine", batch.quarantine))
            self._append_duckdb(raw, "load_files", _files_table(batch.load_id, batch.files))
            self._append_duckdb(raw, "loads", _load_row(batch))
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            for view in staged:
                raw.unregister(view)

    def _append_duckdb(self, raw: Any, name: str, rows: pa.Table) -> None:
        if not rows.num_rows:
            return
        view = f"_staged_{name}"
        raw.register(view, rows)
        try:
            cols = ", ".join(_quote(c) for c in table(name).column_names)
            raw.execute(f"INSERT INTO {_quote(name)} ({cols}) SELECT {cols} FROM {view}")
        finally:
            raw.unregister(view)

    def _upsert_duckdb(self, raw: Any, t: Table, rows: pa.Table) -> str:
        view = f"_staged_{t.name}"
        ordinal = "_csc_ordinal"
        raw.register(view, rows.append_column(ordinal, pa.array(range(rows.num_rows))))
        key = ", ".join(_quote(k) for k in t.key)
        cols = [_quote(c) for c in t.column_names]
        # Within one load, the last row for a key wins (files are read oldest year first).
        latest = (
            f"SELECT * FROM {view} QUALIFY row_number() OVER "
            f"(PARTITION BY {key} ORDER BY {ordinal} DESC) = 1"
        )
        match = " AND ".join(f"s.{_quote(k)} IS NOT DISTINCT FROM w.{_quote(k)}" for k in t.key)
        if t.name in COALESCE_MERGED:
            select = ", ".join(
                f"s.{c}"
                if c.strip('"') in t.key or c.strip('"') in _LINEAGE_NAMES
                else f"coalesce(s.{c}, w.{c}) AS {c}"
                for c in cols
            )
            source = f"SELECT {select} FROM ({latest}) s LEFT JOIN {_quote(t.name)} w ON {match}"
        else:
            source = f"SELECT {', '.join(cols)} FROM ({latest})"
        raw.execute(f"CREATE TEMP TABLE _merged AS {source}")
        try:
            raw.execute(
                f"DELETE FROM {_quote(t.name)} w WHERE EXISTS "
                f"(SELECT 1 FROM _merged s WHERE {match})"
            )
            raw.execute(
                f"INSERT INTO {_quote(t.name)} ({', '.join(cols)}) "
                f"SELECT {', '.join(cols)} FROM _merged"
            )
        finally:
            raw.execute("DROP TABLE _merged")
        return view


_LINEAGE_NAMES = frozenset({"load_id", "source_file", "source_row"})


def _concat(name: str, parts: list[pa.Table]) -> pa.Table:
    schema = arrow_schema(table(name))
    if not parts:
        return schema.empty_table()
    try:
        return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])
    except (pa.ArrowInvalid, KeyError) as exc:
        raise WarehouseError(f"Rows prepared for the {name} table do not fit it: {exc}") from exc


def _files_table(load_id: str, files: list[FileTableReport]) -> pa.Table:
    schema = arrow_schema(table("load_files"))
    return pa.Table.from_pylist(
        [
            {
                "load_id": load_id,
                "source_file": f.source_file,
                "content_sha256": f.content_sha256,
                "dataset": f.dataset,
                "target_table": f.target_table,
                "collection_year": f.collection_year,
                "rows_read": f.read,
                "rows_loaded": f.loaded,
                "rows_quarantined": f.quarantined,
            }
            for f in files
        ],
        schema=schema,
    )


def _load_row(batch: LoadBatch) -> pa.Table:
    read = sum(f.read for f in batch.files)
    loaded = sum(f.loaded for f in batch.files)
    quarantined = sum(f.quarantined for f in batch.files)
    return pa.Table.from_pylist(
        [
            {
                "load_id": batch.load_id,
                "started_at": batch.started_at.replace(tzinfo=None),
                "finished_at": datetime.now(UTC).replace(tzinfo=None),
                "csc_insight_version": __version__,
                "rows_read": read,
                "rows_loaded": loaded,
                "rows_quarantined": quarantined,
            }
        ],
        schema=arrow_schema(table("loads")),
    )
