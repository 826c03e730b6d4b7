"""SSDA903 (children looked after) CSV tables -> canonical tables.

Each 903 table is its own CSV; the column names are DfE's (formats.SSDA903_CSV_COLUMNS).
Dates are dd/mm/yyyy. The CSVs carry neither the authority nor the collection year, so the
caller supplies both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.datasets import formats
from csc_insight.datasets.conform import SOURCE_ROW, RawTable, children_per_child, parse_dates
from csc_insight.datasets.tabular import read_strings
from csc_insight.errors import InputError
from csc_insight.privacy.options import PostcodePrecision, reduce_postcodes


@dataclass(frozen=True)
class Mapping903:
    """Where one 903 table goes: target table and file column -> canonical column."""

    target: str
    columns: dict[str, str]
    constants: dict[str, object] = field(default_factory=dict)
    postcodes: dict[str, str] = field(default_factory=dict)
    needs_year: bool = False


_CHILD = {"CHILD": "child_id"}
MAPPINGS: dict[str, Mapping903] = {
    "header": Mapping903(
        "children", {**_CHILD, "SEX": "sex", "DOB": "date_of_birth", "ETHNIC": "ethnicity"}
    ),
    # Being listed in the UASC table is what makes a child UASC; DUC is when that ended.
    "uasc": Mapping903(
        "children", {**_CHILD, "SEX": "sex", "DOB": "date_of_birth"}, {"uasc": True}
    ),
    "episodes": Mapping903(
        "cla_episodes",
        {
            **_CHILD,
            "DECOM": "decom",
            "RNE": "rne",
            "LS": "ls",
            "CIN": "cin",
            "PLACE": "place",
            "PLACE_PROVIDER": "place_provider",
            "DEC": "dec",
            "REC": "rec",
            "REASON_PLACE_CHANGE": "reason_place_change",
            "URN": "urn",
        },
        postcodes={"HOME_POST": "home_postcode_district", "PL_POST": "placement_postcode_district"},
    ),
    "reviews": Mapping903(
        "cla_reviews", {**_CHILD, "REVIEW": "review_date", "REVIEW_CODE": "review_code"}
    ),
    "missing": Mapping903(
        "missing",
        {**_CHILD, "MISSING": "missing_type", "MIS_START": "start_date", "MIS_END": "end_date"},
    ),
    "oc2": Mapping903(
        "oc2",
        {
            **_CHILD,
            "SDQ_SCORE": "sdq_score",
            "SDQ_REASON": "sdq_reason",
            "CONVICTED": "convicted",
            "HEALTH_CHECK": "health_check",
            "IMMUNISATIONS": "immunisations",
            "TEETH_CHECK": "teeth_check",
            "HEALTH_ASSESSMENT": "health_assessment",
            "SUBSTANCE_MISUSE": "substance_misuse",
            "INTERVENTION_RECEIVED": "intervention_received",
            "INTERVENTION_OFFERED": "intervention_offered",
        },
        needs_year=True,
    ),
    "oc3": Mapping903(
        "care_leavers",
        {**_CHILD, "IN_TOUCH": "in_touch", "ACTIV": "activity", "ACCOM": "accommodation"},
        needs_year=True,
    ),
    "ad1": Mapping903(
        "adoptions",
        {
            **_CHILD,
            "DATE_INT": "date_int",
            "DATE_MATCH": "date_match",
            "FOSTER_CARE": "foster_care",
            "NB_ADOPTR": "number_of_adopters",
            "SEX_ADOPTR": "sex_of_adopters",
            "LS_ADOPTR": "legal_status_of_adopters",
        },
    ),
    "placed_for_adoption": Mapping903(
        "adoptions",
        {
            **_CHILD,
            "DATE_PLACED": "date_should_be_placed",
            "DATE_PLACED_CEASED": "date_placed_ceased",
            "REASON_PLACED_CEASED": "reason_placed_ceased",
        },
    ),
    "previous_permanence": Mapping903(
        "previous_permanence",
        {**_CHILD, "PREV_PERM": "prev_perm", "LA_PERM": "la_perm", "DATE_PERM": "date_perm"},
    ),
}
# Recognised so they are not reported as unknown, but there is no canonical table for them.
NOT_LOADED = {"sw_episodes": "SSDA903 social worker episodes have no canonical table yet."}

# A 903 table is recognised when its key columns are present and most of the rest are:
# older returns lack some later additions (URN, REASON_PLACE_CHANGE, PLACE_PROVIDER).
ESSENTIAL: dict[str, tuple[str, ...]] = {
    "header": ("CHILD", "SEX", "DOB"),
    "uasc": ("CHILD", "DUC"),
    "episodes": ("CHILD", "DECOM"),
    "reviews": ("CHILD", "REVIEW"),
    "oc2": ("CHILD", "SDQ_SCORE"),
    "oc3": ("CHILD", "IN_TOUCH"),
    "ad1": ("CHILD", "DATE_INT"),
    "placed_for_adoption": ("CHILD", "DATE_PLACED"),
    "previous_permanence": ("CHILD", "PREV_PERM"),
    "missing": ("CHILD", "MIS_START"),
    "sw_episodes": ("CHILD", "SW_ID"),
}
MIN_OVERLAP = 0.5


def match(header: list[str]) -> tuple[str | None, str | None]:
    """(kind, None) for the 903 table a CSV header matches, or (None, why not) if close."""
    names = {h.strip().upper() for h in header}
    best: tuple[float, str] | None = None
    near: tuple[float, str] | None = None
    for kind, columns in formats.SSDA903_CSV_COLUMNS.items():
        overlap = len(names & set(columns)) / len(columns)
        essential = all(c in names for c in ESSENTIAL[kind])
        if essential and overlap >= MIN_OVERLAP and (best is None or overlap > best[0]):
            best = (overlap, kind)
        elif overlap >= MIN_OVERLAP and (near is None or overlap > near[0]):
            near = (overlap, kind)
    if best is not None:
        return best[1], None
    if near is not None:
        kind = near[1]
        missing = [c for c in ESSENTIAL[kind] if c not in names]
        return None, f"looks like SSDA903 {kind} but has no {', '.join(missing)} column"
    return None, None


def district(postcodes: pa.Array) -> pa.Array:
    """Postcodes reduced to their district (vectorised postcode_district)."""
    return reduce_postcodes(postcodes, "district")


def read(
    path: Path,
    kind: str,
    *,
    collection_year: int | None,
    postcode_precision: PostcodePrecision = "district",
) -> list[RawTable]:
    """The raw rows of one 903 CSV, bound for its canonical table."""
    _check_year(path, kind, collection_year)
    data, _ = read_strings(path)
    data = data.rename_columns([c.upper() for c in data.column_names[:-1]] + [SOURCE_ROW])
    return raw_tables(
        data, kind, collection_year=collection_year, postcode_precision=postcode_precision
    )


def _check_year(path: Path, kind: str, collection_year: int | None) -> None:
    if MAPPINGS[kind].needs_year and collection_year is None:
        raise InputError(
            f"{path}: cannot tell which collection year this SSDA903 {kind} table describes; "
            "give the collection year (--collection-year)."
        )


def raw_tables(
    data: pa.Table,
    kind: str,
    *,
    collection_year: int | None,
    postcode_precision: PostcodePrecision = "district",
) -> list[RawTable]:
    """One 903 table (string columns under DfE's CSV names, plus source_row) -> raw tables.

    Shared by the CSV reader and the XML reader (ssda903_xml), so both formats of the same
    return load identically.
    """
    mapping = MAPPINGS[kind]
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    labels: dict[str, str] = {}
    for source, canonical in mapping.columns.items():
        if source in data.column_names:
            columns[canonical] = data.column(source)
            labels[canonical] = source
    for source, canonical in mapping.postcodes.items():
        if source in data.column_names:
            columns[canonical] = reduce_postcodes(data.column(source), postcode_precision)
            labels[canonical] = source
    columns[SOURCE_ROW] = data.column(SOURCE_ROW)
    constants = dict(mapping.constants)
    if mapping.needs_year:
        constants["collection_year"] = collection_year
    out = [RawTable(mapping.target, pa.table(columns), labels, constants=constants)]
    if mapping.target != "children" and "CHILD" in data.column_names:
        # Children named only here (care leavers in OC3 are no longer in the header) are
        # still children known to the authority.
        known = {"child_id": data.column("CHILD"), SOURCE_ROW: data.column(SOURCE_ROW)}
        if "DOB" in data.column_names:
            known["date_of_birth"] = data.column("DOB")
            labels = {**labels, "date_of_birth": "DOB"}
        rows = children_per_child(pa.table(known))
        out.append(RawTable("children", rows, labels, required=("child_id",), dedupe=False))
    return out


def collection_year_of(episodes: pa.Table) -> int | None:
    """The collection year an episodes table describes: the year ending 31 March after its
    latest DECOM or DEC (as strings, under the file's or the canonical column names)."""
    latest: date | None = None
    for column in episodes.column_names:
        if column.upper() not in ("DECOM", "DEC"):
            continue
        dates, _ = parse_dates(episodes.column(column).combine_chunks())
        # A date in the future is a typing slip (2028 for 2023), not the return's year.
        dates = pc.filter(dates, pc.less_equal(dates, pa.scalar(date.today())))
        top = pc.max(dates).as_py()
        if top is not None and (latest is None or top > latest):
            latest = top
    if latest is None:
        return None
    return latest.year + 1 if latest.month > 3 else latest.year
