"""The warehouse: canonical tables on an Ibis engine, written only by atomic loads."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import pyarrow as pa
from ibis.backends import BaseBackend

from csc_insight import __version__
from csc_insight.errors import CscInsightError, WarehouseError
from csc_insight.warehouse import engines
from csc_insight.warehouse.batch import FileTableReport, LoadBatch, new_load_id
from csc_insight.warehouse.model import TABLES, Table, table
from csc_insight.warehouse.upsert import (
    SOURCE_EXTRAS,
    Superseded,
    UpsertSql,
    add_superseded,
    keys_unique,
    load_postgres,
    load_spark,
    quote_ansi,
    quote_spark,
    with_ordinal,
)

# SQL types of the model's column types, for columns added to an existing table.
_SQL_TYPES = {
    "string": "TEXT",
    "int64": "BIGINT",
    "float64": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_SPARK_TYPES = _SQL_TYPES | {"string": "STRING", "float64": "DOUBLE"}


class Warehouse:
    """Canonical tables on one engine. Reads go through Ibis; loads are atomic."""

    def __init__(self, con: BaseBackend, url: str) -> None:
        self.con = con
        self.url = url
        self.engine = engines.engine_for(url)
        # Looking a table up asks the engine for its schema; the canonical schemas never
        # change under a connection, so each name is looked up once.
        self._tables: dict[str, ibis.Table] = {}
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

    @classmethod
    def scratch(cls, folder: Path) -> Warehouse:
        """A throw-away warehouse in memory (DuckDB), spilling to ``folder`` if it outgrows it.

        For checking files without keeping them: no file is written and nothing is saved to
        disk on closing, which a file warehouse spends a quarter of a second on.
        """
        warehouse = cls.connect("duckdb://:memory:")
        spill = str(folder).replace("'", "''")
        warehouse.con.con.execute(f"SET temp_directory = '{spill}'")  # type: ignore[attr-defined]
        return warehouse

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
        """Create any canonical table that does not exist yet, and add any column a newer
        csc-insight declares to a table an older one created (new columns are optional)."""
        self._tables.clear()
        existing = set(self.con.list_tables())
        missing = [t for t in TABLES if t.name not in existing]
        if missing:
            self._create_tables(missing)
        have = self._columns_of([t.name for t in TABLES if t.name in existing])
        for t in TABLES:
            if t.name in have:
                for c in t.all_columns:
                    if c.name not in have[t.name]:
                        self._add_column(t, c.name)
        self._tables.clear()

    def _create_tables(self, missing: list[Table]) -> None:
        # On DuckDB, one transaction: each statement alone commits, and a new warehouse
        # would spend a quarter of a second on 28 commits.
        raw = self.con.con if self.engine.name == "duckdb" else None  # type: ignore[attr-defined]
        if raw is not None:
            raw.begin()
        try:
            for t in missing:
                self.con.create_table(t.name, schema=t.schema())
        except BaseException:
            if raw is not None:
                raw.rollback()
            raise
        if raw is not None:
            raw.commit()

    def _columns_of(self, names: list[str]) -> dict[str, set[str]]:
        """The columns each existing table has: one catalogue query on DuckDB and PostgreSQL
        (this runs every time a warehouse is opened), a lookup per table on Spark."""
        if not names:
            return {}
        if self.engine.name == "pyspark":
            return {name: set(self.con.table(name).columns) for name in names}
        info = self.con.table("columns", database="information_schema")
        rows = self.fetch(
            info.filter(
                info.table_name.isin(names), info.table_schema == self.con.current_database
            ).select("table_name", "column_name")
        )
        have: dict[str, set[str]] = {name: set() for name in names}
        for table_name, column in zip(
            rows.column("table_name").to_pylist(),
            rows.column("column_name").to_pylist(),
            strict=True,
        ):
            have[table_name].add(column)
        return have

    def _add_column(self, t: Table, name: str) -> None:
        dtype = t.column(name).dtype
        if self.engine.name == "pyspark":
            statement = (
                f"ALTER TABLE {quote_spark(t.name)} "
                f"ADD COLUMNS ({quote_spark(name)} {_SPARK_TYPES[dtype]})"
            )
        else:
            statement = (
                f"ALTER TABLE {quote_ansi(t.name)} "
                f"ADD COLUMN {quote_ansi(name)} {_SQL_TYPES[dtype]}"
            )
        try:
            result = self.con.raw_sql(statement)
            if self.engine.name == "postgres":  # a cursor; DuckDB returns its connection
                result.close()
        except Exception as exc:  # the engine's own errors are not the user's vocabulary
            raise WarehouseError(
                f"The warehouse's {t.name} table was made by an older csc-insight and the "
                f"column {name} could not be added to it ({exc})."
            ) from exc

    # --- reading -------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name`` as an Ibis expression."""
        cached = self._tables.get(name)
        if cached is None:
            table(name)  # a clear error for an unknown name
            cached = self._tables[name] = self.con.table(name)
        return cached

    def fetch(self, expr: ibis.Table) -> pa.Table:
        """The rows of ``expr`` as Arrow.

        On DuckDB the compiled SQL runs on the connection directly: Ibis' own path imports
        pandas to convert types, a quarter of a second for a short command such as ingest.
        """
        if self.engine.name != "duckdb" or expr.op().find(ops.InMemoryTable):
            return expr.to_pyarrow()
        raw = self.con.con  # type: ignore[attr-defined]
        return raw.execute(str(self.con.compile(expr))).fetch_arrow_table()

    def count(self, name: str) -> int:
        """Rows in canonical table ``name``."""
        return int(self.table(name).count().execute())

    def counts(self) -> dict[str, int]:
        """Rows in every canonical table (one query, not one per table: cheaper on servers)."""
        parts = [
            self.table(t.name).aggregate(table_name=ibis.literal(t.name), rows=ibis._.count())
            for t in TABLES
        ]
        got = {r["table_name"]: int(r["rows"]) for r in ibis.union(*parts).to_pyarrow().to_pylist()}
        return {t.name: got.get(t.name, 0) for t in TABLES}

    def loaded_hashes(self) -> set[str]:
        """SHA-256 of every file content already loaded."""
        col = self.table("load_files").content_sha256
        return {str(v) for v in col.execute().tolist()}

    def loaded_files(self) -> dict[str, tuple[str, str, datetime | None]]:
        """SHA-256 of every file content loaded -> (load_id, source_file, when it finished)."""
        files = self.table("load_files")
        loads = self.table("loads")
        joined = files.join(loads, files.load_id == loads.load_id).select(
            files.content_sha256, files.load_id, files.source_file, loads.finished_at
        )
        out: dict[str, tuple[str, str, datetime | None]] = {}
        for row in self.fetch(joined).to_pylist():
            previous = out.get(row["content_sha256"])
            if previous is None or (row["load_id"] < previous[0]):
                out[row["content_sha256"]] = (
                    row["load_id"],
                    row["source_file"],
                    row["finished_at"],
                )
        return out

    new_load_id = staticmethod(new_load_id)

    # --- writing -------------------------------------------------------------------------
    def commit_load(self, batch: LoadBatch) -> None:
        """Write a whole load: upsert every table by its natural key, then log it.

        Atomic on DuckDB and PostgreSQL (one transaction); on Spark, which has no
        transactions, a failure while the tables are being overwritten leaves the earlier
        ones written (see docs/engines.md). Sets each file's superseded count in ``batch``.
        """
        if self.engine.name == "duckdb":
            self._commit_duckdb(batch)
            return
        upserts = [(table(name), _staged(name, parts)) for name, parts in batch.tables.items()]
        upserts = [(t, rows) for t, rows in upserts if rows.num_rows]

        def appends(superseded: Superseded) -> list[tuple[Table, pa.Table]]:
            # Built only once the upserts ran: the superseded counts are known then.
            batch.record_superseded(superseded)
            return [
                (table("quarantine"), _concat("quarantine", batch.quarantine)),
                (table("load_files"), _files_table(batch.load_id, batch.files)),
                (table("loads"), _load_row(batch)),
            ]

        if self.engine.name == "postgres":
            load_postgres(self.con.con, upserts, appends)  # type: ignore[attr-defined]
        else:
            load_spark(self.con._session, upserts, appends)  # type: ignore[attr-defined]

    def _commit_duckdb(self, batch: LoadBatch) -> None:
        raw = self.con.con  # type: ignore[attr-defined]
        staged: list[str] = []
        superseded: Superseded = {}
        raw.begin()
        try:
            empty = _empty_tables(raw, list(batch.tables))
            for name, parts in batch.tables.items():
                rows = _staged(name, parts)
                if rows.num_rows:
                    staged.append(
                        self._upsert_duckdb(raw, table(name), rows, superseded, name in empty)
                    )
                    _pause_for_tests()
            batch.record_superseded(superseded)
            self._append_duckdb(raw, "quarantine", _concat("quarantine", batch.quarantine))
            self._append_duckdb(raw, "load_files", _files_table(batch.load_id, batch.files))
            self._append_duckdb(raw, "loads", _load_row(batch))
            raw.commit()
        except duckdb.Error as exc:
            raw.rollback()
            raise WarehouseError(
                f"The load could not be saved ({exc}); the warehouse is unchanged."
            ) from exc
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
            cols = ", ".join(quote_ansi(c) for c in table(name).column_names)
            raw.execute(f"INSERT INTO {quote_ansi(name)} ({cols}) SELECT {cols} FROM {view}")
        finally:
            raw.unregister(view)

    def _upsert_duckdb(
        self, raw: Any, t: Table, rows: pa.Table, superseded: Superseded, empty: bool
    ) -> str:
        view = f"_staged_{t.name}"
        raw.register(view, with_ordinal(rows))
        sql = UpsertSql(t, view, arg_max="arg_max")
        if empty:
            raw.execute(sql.into_empty(keys_unique(rows, t.key)))
            return view
        if sql.ranked:
            raw.execute(f"CREATE TEMP TABLE _prep AS {sql.prepared()}")
        try:
            if sql.ranked:
                add_superseded(superseded, raw.execute(sql.superseded_counts("_prep")).fetchall())
            create, delete, insert, drop = sql.transactional()
            raw.execute(create)
            try:
                raw.execute(delete)
                raw.execute(insert)
            finally:
                raw.execute(drop)
        finally:
            if sql.ranked:
                raw.execute("DROP TABLE _prep")
        return view


def _empty_tables(raw: Any, names: list[str]) -> set[str]:
    """Which of the tables ``names`` hold no rows (one query, inside the load's transaction)."""
    if not names:
        return set()
    checks = ", ".join(f"NOT EXISTS (SELECT 1 FROM {quote_ansi(n)})" for n in names)
    row = raw.execute(f"SELECT {checks}").fetchone()
    return {n for n, empty in zip(names, row, strict=True) if empty}


# Test-only: when set to a file path, commit_load creates that file after writing the first
# table of a load and then sleeps, so a test can kill the process mid-commit (kill -9) and
# check that the warehouse is as it was. Never set it outside the tests.
TEST_PAUSE_ENV = "CSC_INSIGHT_TEST_PAUSE_IN_COMMIT"


def _pause_for_tests() -> None:
    marker = os.environ.get(TEST_PAUSE_ENV)
    if marker and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)


def _conformed(name: str, rows: pa.Table) -> pa.Table:
    """``rows`` as the canonical table's columns and types."""
    schema = table(name).arrow_schema()
    try:
        return rows.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, KeyError) as exc:
        raise WarehouseError(f"Rows prepared for the {name} table do not fit it: {exc}") from exc


def _staged(name: str, parts: list[pa.Table]) -> pa.Table:
    """The queued rows of a table with their staged-only columns (see LoadBatch.add)."""
    extras = [pa.field(n, t) for n, t in SOURCE_EXTRAS.items()]
    if not parts:
        return pa.schema([*table(name).arrow_schema(), *extras]).empty_table()
    staged = []
    for p in parts:
        rows = _conformed(name, p)
        for f in extras:
            rows = rows.append_column(f, p.column(f.name))
        staged.append(rows)
    return pa.concat_tables(staged)


def _concat(name: str, parts: list[pa.Table]) -> pa.Table:
    schema = table(name).arrow_schema()
    if not parts:
        return schema.empty_table()
    try:
        return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])
    except (pa.ArrowInvalid, KeyError) as exc:
        raise WarehouseError(f"Rows prepared for the {name} table do not fit it: {exc}") from exc


def _files_table(load_id: str, files: list[FileTableReport]) -> pa.Table:
    schema = table("load_files").arrow_schema()
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
                "rows_superseded": f.superseded,
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
        schema=table("loads").arrow_schema(),
    )
