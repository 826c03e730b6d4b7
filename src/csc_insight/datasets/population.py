"""Child population files -> the population table (the denominators of every rate).

Two layouts are read: ONS mid-year estimates as DfE republishes them on Explore Education
Statistics (one row per area, year and age group: only local-authority rows of children aged
0 to 17 are kept), and a local file of marginal totals by age band, sex, ethnic group,
ethnicity or locality (the column contract in ``formats.LOCAL_POPULATION``). Users download
the ONS file from Explore Education Statistics; the package never bundles it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.datasets import formats
from csc_insight.datasets.conform import SOURCE_ROW, RawTable, blank_to_null
from csc_insight.datasets.tabular import normalise, read_strings

ONS_MID_YEAR = "ons_mid_year"
LOCAL = "local"
ALL_CHILDREN = "0-17"
_LOCAL_AUTHORITY_LEVEL = "local authority"


def match(header: list[str]) -> str | None:
    """Which population layout a CSV header is, if any."""
    names = {normalise(h) for h in header}
    if all(c in names for c in formats.ONS_MID_YEAR_REQUIRED):
        return ONS_MID_YEAR
    if all(c in names for c in formats.LOCAL_POPULATION.required) and "child_id" not in names:
        return LOCAL
    return None


def _renamed(data: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    labels = {normalise(c): c for c in data.column_names if c != SOURCE_ROW}
    names = [normalise(c) if c != SOURCE_ROW else c for c in data.column_names]
    return data.rename_columns(names), labels


def _text(data: pa.Table, name: str) -> pa.Array:
    if name not in data.column_names:
        return pa.nulls(data.num_rows, pa.string())
    return blank_to_null(data.column(name).combine_chunks())


def read(path: Path, kind: str) -> tuple[list[RawTable], list[str]]:
    """Raw population rows, and notes on what was left out and why."""
    data, _ = read_strings(path)
    data, labels = _renamed(data)
    notes: list[str] = []
    if kind == ONS_MID_YEAR:
        # England and regional rows are kept too (keyed by their own codes): benchmarks
        # compare an authority's rates with them.
        code = pc.coalesce(
            _text(data, "new_la_code"), _text(data, "region_code"), _text(data, "country_code")
        )
        age = pc.fill_null(_text(data, "age_group"), "")
        keep = pc.equal(age, formats.ONS_CHILDREN_AGE_GROUP)
        left_out = data.num_rows - (pc.sum(keep).as_py() or 0)
        if left_out:
            notes.append(
                f"{left_out} rows for age groups other than children aged 0 to 17 were not loaded."
            )
        n = data.num_rows
        columns = {
            "la_code": code,
            "year": _text(data, "time_period"),
            "age_band": pc.if_else(keep, ALL_CHILDREN, pc.fill_null(age, "")),
            "population": _text(data, "population_estimate"),
            "source": pa.array(["ONS mid-year estimate"] * n, pa.string()),
        }
        labels |= {
            "la_code": "new_la_code",
            "year": "time_period",
            "population": "population_estimate",
        }
    else:
        columns = {
            name: _text(data, name)
            for name in (*formats.LOCAL_POPULATION.required, *formats.LOCAL_POPULATION.optional)
            if name in data.column_names
        }
    columns[SOURCE_ROW] = data.column(SOURCE_ROW).combine_chunks()
    table = pa.table(columns)
    return [RawTable("population", table, labels, dedupe=True)], notes
