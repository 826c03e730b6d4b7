"""Child population files -> the population table (the denominators of every rate).

Three layouts are read: ONS mid-year estimates as DfE republishes them on Explore Education
Statistics (one row per area, year and age group: only local-authority rows of children aged
0 to 17 are kept), the Census 2021 "Ethnic group" table (TS021) as ONS publishes it per upper
tier authority, region or country (residents of ALL AGES by ethnic group: kept as such, with
age band ``All ages``, and turned into an approximate child population only by the equity
analysis, which says so), and a local file of marginal totals by age band, sex, ethnic group,
ethnicity or locality (the column contract in ``formats.LOCAL_POPULATION``). Users download
the ONS and Census files themselves (docs/equity-and-voice.md says where); the package never
bundles them.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.datasets import formats
from csc_insight.datasets.conform import SOURCE_ROW, RawTable, blank_to_null
from csc_insight.datasets.tabular import normalise, read_strings

ONS_MID_YEAR = "ons_mid_year"
CENSUS_ETHNICITY = "census_ethnicity"
LOCAL = "local"
ALL_CHILDREN = "0-17"
ALL_AGES = "All ages"
CENSUS_YEAR = "2021"
CENSUS_SOURCE = "Census 2021 ethnic group (TS021), all ages"
_LOCAL_AUTHORITY_LEVEL = "local authority"
_CENSUS_OBSERVATION = "observation"
_CENSUS_ETHNIC = "ethnic_group_"  # ethnic_group_20_categories (or _6_categories) [_code]

# Census 2021's 20 ethnic groups (the part after the colon of each label) as DfE codes. DfE
# has no Arab code: Arab and "Any other ethnic group" are both OOTH, as DfE's own guidance
# maps them.
CENSUS_TO_DFE: dict[str, str] = {
    "bangladeshi": "ABAN",
    "chinese": "CHNE",
    "indian": "AIND",
    "pakistani": "APKN",
    "other asian": "AOTH",
    "african": "BAFR",
    "caribbean": "BCRB",
    "other black": "BOTH",
    "white and asian": "MWAS",
    "white and black african": "MWBA",
    "white and black caribbean": "MWBC",
    "other mixed or multiple ethnic groups": "MOTH",
    "english, welsh, scottish, northern irish or british": "WBRI",
    "irish": "WIRI",
    "gypsy or irish traveller": "WIRT",
    "roma": "WROM",
    "other white": "WOTH",
    "arab": "OOTH",
    "any other ethnic group": "OOTH",
}
# The start of a Census major-group label -> DfE's major group (indicators.dimensions).
CENSUS_GROUPS: tuple[tuple[str, str], ...] = (
    ("asian", "Asian or Asian British"),
    ("black", "Black, African, Caribbean or Black British"),
    ("mixed", "Mixed or multiple ethnic groups"),
    ("white", "White"),
    ("other", "Other ethnic group"),
)


def match(header: list[str]) -> str | None:
    """Which population layout a CSV header is, if any."""
    names = {normalise(h) for h in header}
    if all(c in names for c in formats.ONS_MID_YEAR_REQUIRED):
        return ONS_MID_YEAR
    if _census_columns(list(names)) is not None:
        return CENSUS_ETHNICITY
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


def _census_columns(names: list[str]) -> tuple[str, str, str] | None:
    """(area code, ethnic group label, observation) columns of a Census table, if it is one."""
    if _CENSUS_OBSERVATION not in names:
        return None
    labels = [n for n in names if n.startswith(_CENSUS_ETHNIC) and not n.endswith("_code")]
    areas = [n for n in names if n.endswith("_code") and not n.startswith(_CENSUS_ETHNIC)]
    if len(labels) != 1 or len(areas) != 1:
        return None
    return areas[0], labels[0], _CENSUS_OBSERVATION


def census_ethnicity(label: str) -> tuple[str | None, str | None]:
    """(DfE ethnicity code, DfE major group) of a Census 2021 ethnic group label.

    A 20-category label ("White: Irish") gives both; a 6-category label ("White") only the
    group; "Does not apply" gives neither.
    """
    head, _, detail = label.partition(":")
    group = next(
        (name for start, name in CENSUS_GROUPS if head.strip().lower().startswith(start)), None
    )
    code = CENSUS_TO_DFE.get(detail.strip().lower()) if detail else None
    return code, group


def _read_census(data: pa.Table, labels: dict[str, str]) -> tuple[RawTable, list[str]]:
    area, label, observation = _census_columns(data.column_names) or ("", "", "")
    # Arab and "any other" share OOTH, and every code rolls up into its major group, so
    # counts are summed per area and category before they become rows (a repeated key in
    # one file would otherwise be set aside as a duplicate).
    totals: dict[tuple[str, str, str], tuple[float, int]] = {}
    skipped = 0
    rows = zip(
        data.column(area).to_pylist(),
        data.column(label).to_pylist(),
        data.column(observation).to_pylist(),
        data.column(SOURCE_ROW).to_pylist(),
        strict=True,
    )
    for code, text, value, row in rows:
        ethnicity, group = census_ethnicity(text or "")
        if not code or group is None:
            skipped += 1
            continue
        try:
            n = float(value)
        except (TypeError, ValueError):
            n = float("nan")  # conform sets it aside with the reason
        keys = [(code, "ethnic_group", group)]
        if ethnicity is not None:
            keys.append((code, "ethnicity", ethnicity))
        for key in keys:
            before, first = totals.get(key, (0.0, row))
            totals[key] = (before + n, min(first, row))
    notes = (
        [f"{skipped} rows that are not an ethnic group ('Does not apply') were not loaded."]
        if skipped
        else []
    )
    items = sorted(totals.items(), key=lambda kv: kv[1][1])
    n_rows = len(items)

    def column(values: list[str | None]) -> pa.Array:
        return pa.array(values, pa.string())

    table = pa.table(
        {
            "la_code": column([k[0] for k, _ in items]),
            "year": column([CENSUS_YEAR] * n_rows),
            "age_band": column([ALL_AGES] * n_rows),
            "ethnic_group": column([k[2] if k[1] == "ethnic_group" else None for k, _ in items]),
            "ethnicity": column([k[2] if k[1] == "ethnicity" else None for k, _ in items]),
            "population": column(
                [None if v[0] != v[0] else f"{v[0]:.0f}" for _, v in items]  # NaN stays blank
            ),
            "source": column([CENSUS_SOURCE] * n_rows),
            SOURCE_ROW: pa.array([v[1] for _, v in items], pa.int64()),
        }
    )
    labels |= {"la_code": labels.get(area, area), "population": labels.get(observation, "")}
    return RawTable("population", table, labels, dedupe=True), notes


def read(path: Path, kind: str) -> tuple[list[RawTable], list[str]]:
    """Raw population rows, and notes on what was left out and why."""
    data, _ = read_strings(path)
    data, labels = _renamed(data)
    notes: list[str] = []
    if kind == CENSUS_ETHNICITY:
        raw, notes = _read_census(data, labels)
        return [raw], notes
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
