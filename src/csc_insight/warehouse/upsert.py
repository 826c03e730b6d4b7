"""How a load's rows reach each engine: one upsert, written once, run on three engines.

Every canonical table is upserted by its natural key: within one load the last row for a key
wins; an existing row with the same key is replaced, except in the coalesce-merged tables
(children, adoptions) where the new row only fills the gaps the old one had left. The SQL
that says this is built here, once, and run by:

* DuckDB and PostgreSQL: inside one transaction (``_merged`` temporary table, then DELETE the
  matching keys and INSERT the merged rows), so a load is all or nothing;
* Spark: which has no transactions, by computing each table's next content into a staging
  table first (nothing visible changes if that fails) and then overwriting the tables one by
  one. A failure during the overwrites leaves the earlier tables written: Spark loads are not
  atomic (a known gap, see docs/engines.md). The ``loads`` row is written last, so a load
  that did not finish has no ``loads`` row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from csc_insight.warehouse.model import Table

Quote = Callable[[str], str]

# These tables are fed by several datasets that each know part of a record (the CIN census
# knows a child's disability, a local extract the locality; AD1 and placed_for_adoption each
# half of an adoption), so a load fills gaps rather than overwriting what another said.
COALESCE_MERGED = frozenset({"children", "adoptions"})
LINEAGE_NAMES = frozenset({"load_id", "source_file", "source_row"})
ORDINAL = "_csc_ordinal"


def quote_ansi(name: str) -> str:
    """A double-quoted identifier (DuckDB, PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def quote_spark(name: str) -> str:
    """A back-quoted identifier (Spark SQL)."""
    return "`" + name.replace("`", "``") + "`"


def with_ordinal(rows: pa.Table) -> pa.Table:
    """``rows`` with the column that says which came last (the last row for a key wins)."""
    return rows.append_column(ORDINAL, pa.array(range(rows.num_rows), pa.int64()))


@dataclass(frozen=True)
class UpsertSql:
    """The SQL of one table's upsert from a staged relation (the rows with ``ORDINAL``)."""

    t: Table
    staged: str
    quote: Quote = quote_ansi

    @property
    def target(self) -> str:
        return self.quote(self.t.name)

    @property
    def columns(self) -> str:
        return ", ".join(self.quote(c) for c in self.t.column_names)

    def match(self, new: str = "s", old: str = "w") -> str:
        """Null-safe equality of the natural key between two aliased relations."""
        return " AND ".join(
            f"{new}.{self.quote(k)} IS NOT DISTINCT FROM {old}.{self.quote(k)}" for k in self.t.key
        )

    def latest(self) -> str:
        """The staged rows, one per key: the last one read."""
        key = ", ".join(self.quote(k) for k in self.t.key)
        return (
            f"SELECT {self.columns} FROM (SELECT *, row_number() OVER "
            f"(PARTITION BY {key} ORDER BY {self.quote(ORDINAL)} DESC) AS _csc_rank "
            f"FROM {self.staged}) AS ranked WHERE _csc_rank = 1"
        )

    def merged(self) -> str:
        """The rows this load writes: the latest staged rows, gap-filled where merged."""
        if self.t.name not in COALESCE_MERGED:
            return self.latest()
        select = ", ".join(
            f"s.{q}" if c in self.t.key or c in LINEAGE_NAMES else f"coalesce(s.{q}, w.{q}) AS {q}"
            for c, q in ((c, self.quote(c)) for c in self.t.column_names)
        )
        return (
            f"SELECT {select} FROM ({self.latest()}) AS s "
            f"LEFT JOIN {self.target} AS w ON {self.match()}"
        )

    def transactional(self, merged: str = "_merged") -> list[str]:
        """Statements for an engine with transactions; run them inside one."""
        return [
            f"CREATE TEMP TABLE {merged} AS {self.merged()}",
            f"DELETE FROM {self.target} AS w WHERE EXISTS "
            f"(SELECT 1 FROM {merged} AS s WHERE {self.match()})",
            f"INSERT INTO {self.target} ({self.columns}) SELECT {self.columns} FROM {merged}",
            f"DROP TABLE {merged}",
        ]

    def next_content(self) -> str:
        """The table's whole content after the upsert (for engines that overwrite tables)."""
        return (
            f"WITH s AS ({self.merged()}) "
            f"SELECT {self.columns} FROM {self.target} AS w "
            f"WHERE NOT EXISTS (SELECT 1 FROM s WHERE {self.match()}) "
            f"UNION ALL SELECT {self.columns} FROM s"
        )


# --- PostgreSQL ---------------------------------------------------------------------------


def _copy_rows(cursor: Any, target: str, rows: pa.Table) -> None:
    """COPY Arrow rows into a PostgreSQL table (text protocol; psycopg adapts the values)."""
    columns = ", ".join(quote_ansi(c) for c in rows.column_names)
    with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for batch in rows.to_batches(max_chunksize=10_000):
            for record in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                copy.write_row(record)


def load_postgres(
    raw: Any, upserts: Sequence[tuple[Table, pa.Table]], appends: Sequence[tuple[Table, pa.Table]]
) -> None:
    """Write a load to PostgreSQL in one transaction (``raw`` is a psycopg 3 connection)."""
    with raw.transaction(), raw.cursor() as cursor:
        for t, rows in upserts:
            staged = f"_staged_{t.name}"
            cursor.execute(
                f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS "
                f"SELECT *, 0::bigint AS {ORDINAL} FROM {quote_ansi(t.name)} WITH NO DATA"
            )
            _copy_rows(cursor, staged, with_ordinal(rows))
            for statement in UpsertSql(t, staged).transactional():
                cursor.execute(statement)
        for t, rows in appends:
            if rows.num_rows:
                _copy_rows(cursor, quote_ansi(t.name), rows)


# --- Spark ----------------------------------------------------------------------------------


@contextmanager
def _spark_scratch(session: Any) -> Iterator[tuple[str, list[str], list[str]]]:
    """A unique prefix for this load's temp views and staging tables, dropped at the end."""
    views: list[str] = []
    tables: list[str] = []
    try:
        yield f"_csc_{uuid.uuid4().hex[:10]}", views, tables
    finally:
        for view in views:
            session.catalog.dropTempView(view)
        for name in tables:
            session.sql(f"DROP TABLE IF EXISTS {quote_spark(name)}")


def load_spark(
    session: Any,
    upserts: Sequence[tuple[Table, pa.Table | Any]],
    appends: Sequence[tuple[Table, pa.Table | Any]],
) -> None:
    """Write a load to Spark: stage every table's next content, then overwrite (not atomic).

    Rows are Arrow tables, or Spark DataFrames (a parsed folder read where it lies); an
    upserted DataFrame already carries ``ORDINAL``.
    """
    with _spark_scratch(session) as (prefix, views, tables):

        def stage(name: str, rows: pa.Table | Any) -> str:
            view = f"{prefix}_in_{name}"
            frame = session.createDataFrame(rows) if isinstance(rows, pa.Table) else rows
            frame.createOrReplaceTempView(view)
            views.append(view)
            return view

        # 1. Compute each upserted table's next content; a failure here changes nothing.
        nexts: list[tuple[Table, str]] = []
        for t, rows in upserts:
            staged = with_ordinal(rows) if isinstance(rows, pa.Table) else rows
            sql = UpsertSql(t, stage(t.name, staged), quote_spark)
            next_table = f"{prefix}_next_{t.name}"
            tables.append(next_table)
            session.sql(
                f"CREATE TABLE {quote_spark(next_table)} USING parquet AS {sql.next_content()}"
            )
            nexts.append((t, next_table))
        staged_appends = [
            (t, stage(t.name, rows))
            for t, rows in appends
            if not isinstance(rows, pa.Table) or rows.num_rows
        ]
        # 2. Overwrite and append. Not atomic: Spark has no multi-table transactions.
        for t, next_table in nexts:
            columns = ", ".join(quote_spark(c) for c in t.column_names)
            session.sql(
                f"INSERT OVERWRITE TABLE {quote_spark(t.name)} "
                f"SELECT {columns} FROM {quote_spark(next_table)}"
            )
        for t, view in staged_appends:
            columns = ", ".join(quote_spark(c) for c in t.column_names)
            session.sql(f"INSERT INTO {quote_spark(t.name)} SELECT {columns} FROM {view}")
