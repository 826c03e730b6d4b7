"""Merging the rows one load has for a key, column by column: written once, run anywhere.

``children`` and ``adoptions`` are fed by several datasets that each know part of a record
(the CIN census a child's disability, a local extract the locality; AD1 and
placed_for_adoption each half of an adoption). Within one load their rows for a key are
merged into one: each column keeps its last non-null value in load order. The rule is this
one SQL query, run by DuckDB over Arrow for an ordinary ingest and by Spark over Parquet
when a parsed folder is loaded there.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from csc_insight.warehouse.model import Table
from csc_insight.warehouse.upsert import ORDINAL, Quote, quote_ansi, with_ordinal


def columnwise_sql(t: Table, staged: str, quote: Quote = quote_ansi) -> str:
    """One row per natural key of ``staged`` (rows with ``ORDINAL``), merged column by column.

    The merged row keeps the largest ordinal of its key, so the upsert after it still sees
    which load order it came in.
    """
    order = quote(ORDINAL)
    key = ", ".join(quote(k) for k in t.key)
    # max_by skips rows whose ordering value is null: a null value never wins.
    values = ", ".join(
        f"max_by({q}, CASE WHEN {q} IS NULL THEN NULL ELSE {order} END) AS {q}"
        for q in (quote(c) for c in t.column_names if c not in t.key)
    )
    return f"SELECT {key}, {values}, max({order}) AS {order} FROM {staged} GROUP BY {key}"


def merge_columnwise(t: Table, parts: list[pa.Table]) -> pa.Table:
    """``parts`` (in load order) merged to one row per key, as ``columnwise_sql`` says."""
    con = duckdb.connect()
    try:
        con.register("_staged", with_ordinal(pa.concat_tables(parts)))
        merged = con.execute(columnwise_sql(t, "_staged")).to_arrow_table()
    finally:
        con.close()
    return merged.select(t.column_names).cast(t.schema().to_pyarrow())
