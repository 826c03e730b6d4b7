"""How a load's rows reach each engine: one upsert, written once, run on three engines.

Every canonical table is upserted by its natural key. Which row wins for a key is decided by
precedence (docs/ingest.md section 6), the same on every engine:

* Tables whose rows carry ``return_year`` (those fed by the SSDA903 return or the CIN census)
  keep, for each key, the row from the newest return, whatever order the returns were loaded
  in; between rows of the same return year the later one wins (a corrected file replaces).
  A row of an older return is not applied. Rows with no year (Annex A lists) only fill the
  blanks of the winning return's row; among rows with no year the later one wins.
* Coalesce-merged tables (children, adoptions) are merged column by column: this load's rows
  are merged first (the newest return's values first, rows with no year last), then with the
  warehouse's row: this load's values win if it brings a return at least as new as the
  warehouse's, or brings no year and is not Annex A (a local extract: the later load wins);
  otherwise the warehouse's values win and this load's only fill its blanks.
* Other tables (local extracts, Annex A-only lists): the last row read for a key wins.

Rows that gave way to a row already in the warehouse are counted per file (``superseded``),
so the reconciliation can say so. The SQL is built here, once, and run by:

* DuckDB and PostgreSQL: inside one transaction (``_prep`` and ``_merged`` temporary tables,
  then DELETE the matching keys and INSERT the merged rows), so a load is all or nothing;
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

from csc_insight.warehouse.model import RETURN_YEAR, Table

Quote = Callable[[str], str]
# part (index of the file's reconciliation row in the load) -> rows superseded
Superseded = dict[int, int]
# (table, staged rows with the SOURCE_EXTRAS) and what a load appends once they are written.
Upserts = Sequence[tuple[Table, pa.Table]]
# Spark can also be given DataFrames (Any: pyspark is an optional dependency).
SparkUpserts = Sequence[tuple[Table, Any]]
Appends = Callable[[Superseded], Sequence[tuple[Table, Any]]]

# These tables are fed by several datasets that each know part of a record (the CIN census
# knows a child's disability, a local extract the locality; AD1 and placed_for_adoption each
# half of an adoption), so a load fills gaps rather than overwriting what another said.
COALESCE_MERGED = frozenset({"children", "adoptions"})
LINEAGE_NAMES = frozenset({"load_id", "source_file", "source_row"})
# Staged-only columns: the order rows were read in (the last row for a key wins), whether the
# row gives way to any return's row (Annex A), and which file's reconciliation it counts in.
ORDINAL = "_csc_ordinal"
GIVES_WAY = "_csc_gives_way"
PART = "_csc_part"
# Added by LoadBatch.add (ORDINAL is added when the rows are staged).
SOURCE_EXTRAS = {GIVES_WAY: pa.bool_(), PART: pa.int64()}
# Staged rows sort by ordinal, those that give way (Annex A) below the others, and the
# warehouse's row before them all when it wins.
_ABOVE_GIVING_WAY = 1 << 40
_FIRST = 1 << 62


def quote_ansi(name: str) -> str:
    """A double-quoted identifier (DuckDB, PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def quote_spark(name: str) -> str:
    """A back-quoted identifier (Spark SQL)."""
    return "`" + name.replace("`", "``") + "`"


def with_ordinal(rows: pa.Table) -> pa.Table:
    """``rows`` with the column that says which came last (the last row for a key wins)."""
    return rows.append_column(ORDINAL, pa.array(range(rows.num_rows), pa.int64()))


def with_part(rows: pa.Table, part: int, gives_way: bool) -> pa.Table:
    """``rows`` with the staged-only columns that say where they came from."""
    n = rows.num_rows
    rows = rows.append_column(GIVES_WAY, pa.array([gives_way] * n, pa.bool_()))
    return rows.append_column(PART, pa.array([part] * n, pa.int64()))


@dataclass(frozen=True)
class UpsertSql:
    """The SQL of one table's upsert from a staged relation (rows with every extra column)."""

    t: Table
    staged: str
    quote: Quote = quote_ansi
    # The engine's "value at the row where this is largest" aggregate (DuckDB's arg_max),
    # which merges a key's candidates in one grouped pass; without it (PostgreSQL, Spark)
    # each column is merged by a window of its own.
    arg_max: str | None = None

    @property
    def target(self) -> str:
        return self.quote(self.t.name)

    @property
    def columns(self) -> str:
        return ", ".join(self.quote(c) for c in self.t.column_names)

    @property
    def ranked(self) -> bool:
        """Whether precedence applies (rows carry return_year); else the last row wins."""
        return self.t.has_return_year

    def match(self, new: str = "s", old: str = "w") -> str:
        """Null-safe equality of the natural key between two aliased relations."""
        return " AND ".join(
            f"{new}.{self.quote(k)} IS NOT DISTINCT FROM {old}.{self.quote(k)}" for k in self.t.key
        )

    def _key(self) -> str:
        return ", ".join(self.quote(k) for k in self.t.key)

    def latest(self) -> str:
        """The staged rows, one per key: the last one read."""
        return (
            f"SELECT {self.columns} FROM (SELECT *, row_number() OVER "
            f"(PARTITION BY {self._key()} ORDER BY {self.quote(ORDINAL)} DESC) AS _csc_rank "
            f"FROM {self.staged}) AS ranked WHERE _csc_rank = 1"
        )

    def prepared(self) -> str:
        """Every candidate row for the keys of this load, with its precedence.

        The candidates are the staged rows (``_csc_seq`` = their ordinal) and the
        warehouse's rows with the same key (``_csc_seq`` = -1). Each gets ``_csc_prio``
        (higher wins), ``_csc_eligible`` (whether its values may be used at all) and, for
        staged rows, ``_csc_superseded`` (it gave way to the warehouse's row).
        """
        q, key = self.quote, self._key()
        ry, seq, gw = q(RETURN_YEAR.name), "_csc_seq", "_csc_gw"
        over = f"OVER (PARTITION BY {key})"
        base = (
            f"SELECT {self.columns}, {q(ORDINAL)} AS {seq}, {q(GIVES_WAY)} AS {gw}, "
            f"{q(PART)} AS _csc_part FROM {self.staged} "
            f"UNION ALL SELECT {', '.join('w.' + q(c) for c in self.t.column_names)}, "
            f"CAST(-1 AS BIGINT), FALSE, CAST(-1 AS BIGINT) FROM {self.target} AS w "
            f"WHERE EXISTS (SELECT 1 FROM {self.staged} AS s WHERE {self.match()})"
        )
        w_ry = f"max(CASE WHEN {seq} < 0 THEN {ry} END) {over}"
        if self.t.name in COALESCE_MERGED:
            # This load's rows are merged by read order (oldest return first, files with no
            # year before them, Annex A below all); the result then wins or gives way to the
            # warehouse's row as a whole.
            keyed = (
                f"SELECT *, max(CASE WHEN {seq} >= 0 THEN {ry} END) {over} AS _csc_s_ry, "
                f"min(CASE WHEN {seq} >= 0 THEN (CASE WHEN {gw} THEN 1 ELSE 0 END) END) "
                f"{over} AS _csc_s_gw, {w_ry} AS _csc_w_ry, "
                f"max(CASE WHEN {seq} < 0 THEN 1 ELSE 0 END) {over} AS _csc_has_w "
                f"FROM ({base}) AS b"
            )
            loses = (
                "_csc_has_w = 1 AND NOT ("
                "(_csc_s_ry IS NOT NULL AND (_csc_w_ry IS NULL OR _csc_s_ry >= _csc_w_ry)) OR "
                "(_csc_s_ry IS NULL AND NOT (_csc_s_gw = 1 AND _csc_w_ry IS NOT NULL)))"
            )
            return (
                f"SELECT *, count(*) {over} AS _csc_n, CASE WHEN {seq} >= 0 THEN {seq} + "
                f"(CASE WHEN {gw} THEN 0 ELSE {_ABOVE_GIVING_WAY} END) "
                f"WHEN {loses} THEN {_FIRST} ELSE -1 END AS _csc_prio, TRUE AS _csc_eligible, "
                f"({seq} >= 0 AND {loses}) AS _csc_superseded FROM ({keyed}) AS k"
            )
        # One row per key and class (from a return, or not): the newest return (then the
        # last read) and the last row with no year; the return's row wins, the other fills.
        classed = (
            f"SELECT *, row_number() OVER (PARTITION BY {key}, ({ry} IS NULL) "
            f"ORDER BY {ry} DESC, {seq} DESC) AS _csc_class_rank, {w_ry} AS _csc_w_ry "
            f"FROM ({base}) AS b"
        )
        return (
            f"SELECT *, count(*) {over} AS _csc_n, "
            f"CASE WHEN {ry} IS NULL THEN 0 ELSE 1 END AS _csc_prio, "
            f"(_csc_class_rank = 1) AS _csc_eligible, ({seq} >= 0 AND _csc_w_ry IS NOT NULL "
            f"AND ({ry} IS NULL OR _csc_w_ry > {ry})) AS _csc_superseded FROM ({classed}) AS c"
        )

    def merged_from(self, prepared: str) -> str:
        """One row per key from ``prepared``: each value column's first non-blank value in
        precedence order; key and lineage from the winning row; the newest return year."""
        if self.arg_max:
            return self._merged_grouped(prepared)
        q, key = self.quote, self._key()
        exprs = []
        for c in self.t.column_names:
            if c in self.t.key or c in LINEAGE_NAMES:
                exprs.append(q(c))
            elif c == RETURN_YEAR.name:
                exprs.append(f"max({q(c)}) OVER (PARTITION BY {key}) AS {q(c)}")
            else:
                exprs.append(
                    f"first_value({q(c)}) OVER (PARTITION BY {key} "
                    f"ORDER BY ({q(c)} IS NULL), _csc_prio DESC) AS {q(c)}"
                )
        # A key with one candidate row (nearly all of them) is that row: only keys with
        # several candidates need the windows, one sort per column.
        return (
            f"SELECT {self.columns} FROM {prepared} WHERE _csc_eligible AND _csc_n = 1 "
            f"UNION ALL "
            f"SELECT {self.columns} FROM (SELECT {', '.join(exprs)}, row_number() OVER "
            f"(PARTITION BY {key} ORDER BY _csc_prio DESC) AS _csc_top "
            f"FROM {prepared} WHERE _csc_eligible AND _csc_n > 1) AS f WHERE _csc_top = 1"
        )

    def _merged_grouped(self, prepared: str) -> str:
        """``merged_from`` as one grouped aggregate (same result, one pass for all columns)."""
        q, by = self.quote, "_csc_prio"
        exprs = []
        for c in self.t.column_names:
            if c in self.t.key:
                exprs.append(q(c))
            elif c in LINEAGE_NAMES:
                exprs.append(f"{self.arg_max}({q(c)}, {by}) AS {q(c)}")
            elif c == RETURN_YEAR.name:
                exprs.append(f"max({q(c)}) AS {q(c)}")
            else:
                exprs.append(
                    f"{self.arg_max}({q(c)}, {by}) FILTER (WHERE {q(c)} IS NOT NULL) AS {q(c)}"
                )
        return (
            f"SELECT {self.columns} FROM {prepared} WHERE _csc_eligible AND _csc_n = 1 "
            f"UNION ALL SELECT {', '.join(exprs)} FROM {prepared} "
            f"WHERE _csc_eligible AND _csc_n > 1 GROUP BY {self._key()}"
        )

    def superseded_counts(self, prepared: str) -> str:
        """(part, rows) of staged rows that gave way to the warehouse's row."""
        return (
            f"SELECT _csc_part, count(*) FROM {prepared} WHERE _csc_superseded GROUP BY _csc_part"
        )

    def merged(self, prepared: str) -> str:
        """The rows this load writes (``prepared`` names the materialised ``prepared()``)."""
        return self.merged_from(prepared) if self.ranked else self.latest()

    def transactional(self, merged: str = "_merged", prepared: str = "_prep") -> list[str]:
        """Statements that write the merged rows, for an engine with transactions; run them
        inside one, after materialising ``prepared()`` as ``prepared`` for ranked tables."""
        return [
            f"CREATE TEMP TABLE {merged} AS {self.merged(prepared)}",
            f"DELETE FROM {self.target} AS w WHERE EXISTS "
            f"(SELECT 1 FROM {merged} AS s WHERE {self.match()})",
            f"INSERT INTO {self.target} ({self.columns}) SELECT {self.columns} FROM {merged}",
            f"DROP TABLE {merged}",
        ]

    def into_empty(self, keys_unique: bool = False) -> str:
        """One statement that writes this load's rows to the table while it is still empty.

        With no warehouse rows nothing is replaced or superseded, so the temporary tables
        and the DELETE of ``transactional`` are not needed (a first load, or ``validate
        PATH`` in a scratch warehouse, makes one statement per table instead of six). With
        ``keys_unique`` (no key twice among the staged rows, see ``keys_unique``) every row
        is its key's only candidate, so it is written as it is, without ranking.
        """
        if keys_unique:
            return (
                f"INSERT INTO {self.target} ({self.columns}) "
                f"SELECT {self.columns} FROM {self.staged}"
            )
        if not self.ranked:
            return f"INSERT INTO {self.target} ({self.columns}) {self.latest()}"
        return (
            f"INSERT INTO {self.target} ({self.columns}) "
            f"WITH _prep AS ({self.prepared()}) {self.merged_from('_prep')}"
        )

    def next_content(self, prepared: str) -> str:
        """The table's whole content after the upsert (for engines that overwrite tables)."""
        return (
            f"WITH s AS ({self.merged(prepared)}) "
            f"SELECT {self.columns} FROM {self.target} AS w "
            f"WHERE NOT EXISTS (SELECT 1 FROM s WHERE {self.match()}) "
            f"UNION ALL SELECT {self.columns} FROM s"
        )


def keys_unique(rows: pa.Table, key: Sequence[str]) -> bool:
    """Whether no natural key occurs twice in ``rows`` (blank key values count as equal,
    as the upsert's null-safe match does)."""
    names = list(key)
    return rows.select(names).group_by(names).aggregate([]).num_rows == rows.num_rows


def add_superseded(into: Superseded, rows: Sequence[Sequence[Any]]) -> None:
    """Add (part, count) rows from ``superseded_counts`` to ``into``."""
    for part, n in rows:
        if part is not None and int(part) >= 0:
            into[int(part)] = into.get(int(part), 0) + int(n)


# --- PostgreSQL ---------------------------------------------------------------------------


def _copy_rows(cursor: Any, target: str, rows: pa.Table) -> None:
    """COPY Arrow rows into a PostgreSQL table (text protocol; psycopg adapts the values)."""
    columns = ", ".join(quote_ansi(c) for c in rows.column_names)
    with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for batch in rows.to_batches(max_chunksize=10_000):
            for record in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                copy.write_row(record)


def load_postgres(raw: Any, upserts: Upserts, appends: Appends) -> None:
    """Write a load to PostgreSQL in one transaction (``raw`` is a psycopg 3 connection).

    ``appends`` is given the superseded counts once the upserts are written and returns the
    rows to append (the reconciliation, which reports those counts).
    """
    superseded: Superseded = {}
    with raw.transaction(), raw.cursor() as cursor:
        for t, rows in upserts:
            staged = f"_staged_{t.name}"
            cursor.execute(
                f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS "
                f"SELECT *, 0::bigint AS {ORDINAL}, false AS {GIVES_WAY}, 0::bigint AS {PART} "
                f"FROM {quote_ansi(t.name)} WITH NO DATA"
            )
            _copy_rows(cursor, staged, with_ordinal(rows))
            sql = UpsertSql(t, staged)
            if sql.ranked:
                cursor.execute(f"CREATE TEMP TABLE _prep AS {sql.prepared()}")
                cursor.execute(sql.superseded_counts("_prep"))
                add_superseded(superseded, cursor.fetchall())
            for statement in sql.transactional():
                cursor.execute(statement)
            if sql.ranked:
                cursor.execute("DROP TABLE _prep")
        for t, rows in appends(superseded):
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


def load_spark(session: Any, upserts: Upserts | SparkUpserts, appends: Appends) -> None:
    """Write a load to Spark: stage every table's next content, then overwrite (not atomic).

    Rows are Arrow tables, or Spark DataFrames (a parsed folder read where it lies) that
    already carry ``ORDINAL``. ``appends`` is given the superseded counts once every table's
    next content is staged.
    """
    superseded: Superseded = {}
    with _spark_scratch(session) as (prefix, views, tables):

        def stage(name: str, rows: pa.Table | Any) -> str:
            view = f"{prefix}_in_{name}"
            frame = session.createDataFrame(rows) if isinstance(rows, pa.Table) else rows
            frame.createOrReplaceTempView(view)
            views.append(view)
            return view

        def scratch_table(name: str, query: str) -> str:
            tables.append(name)
            session.sql(f"CREATE TABLE {quote_spark(name)} USING parquet AS {query}")
            return quote_spark(name)

        # 1. Compute each upserted table's next content; a failure here changes nothing.
        nexts: list[tuple[Table, str]] = []
        for t, rows in upserts:
            staged = with_ordinal(rows) if isinstance(rows, pa.Table) else rows
            sql = UpsertSql(t, stage(t.name, staged), quote_spark)
            prepared = ""
            if sql.ranked:
                prepared = scratch_table(f"{prefix}_prep_{t.name}", sql.prepared())
                counts = session.sql(sql.superseded_counts(prepared)).collect()
                add_superseded(superseded, [tuple(r) for r in counts])
            next_table = f"{prefix}_next_{t.name}"
            scratch_table(next_table, sql.next_content(prepared))
            nexts.append((t, next_table))
        staged_appends = [
            (t, stage(t.name, rows))
            for t, rows in appends(superseded)
            if not isinstance(rows, pa.Table) or rows.num_rows
        ]

        # 2. Overwrite and append. Not atomic: Spark has no multi-table transactions.
        # By the table's own column order: Spark inserts by position, and a column added to
        # an older warehouse (ALTER TABLE ADD COLUMNS) comes last.
        def in_table_order(t: Table) -> str:
            return ", ".join(quote_spark(c) for c in session.table(quote_spark(t.name)).columns)

        for t, next_table in nexts:
            columns = in_table_order(t)
            session.sql(
                f"INSERT OVERWRITE TABLE {quote_spark(t.name)} "
                f"SELECT {columns} FROM {quote_spark(next_table)}"
            )
        for t, view in staged_appends:
            columns = in_table_order(t)
            session.sql(f"INSERT INTO {quote_spark(t.name)} SELECT {columns} FROM {view}")
