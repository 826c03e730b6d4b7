"""Breakdown dimensions: the characteristics every indicator can be split by."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

# DfE's major ethnic groups, keyed by the first letter of the detailed code. Chinese (CHNE)
# is grouped with Asian, as in Census 2021, so rates can use ONS populations.
ETHNIC_GROUPS: dict[str, str] = {
    "W": "White",
    "M": "Mixed or multiple ethnic groups",
    "A": "Asian or Asian British",
    "B": "Black, African, Caribbean or Black British",
    "O": "Other ethnic group",
}
REFUSED_OR_NOT_OBTAINED = "Refused or not obtained"
NOT_KNOWN = "Not known"

# DfE's age bands for children in need and looked after.
AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 0, "Under 1"),
    (1, 4, "1 to 4"),
    (5, 9, "5 to 9"),
    (10, 15, "10 to 15"),
    (16, 17, "16 to 17"),
    (18, 200, "18 and over"),
)
UNBORN = "Unborn"


@dataclass(frozen=True)
class Dimension:
    """A way to break an indicator down."""

    name: str
    title: str
    from_child: bool  # taken from the children table (else a column of the records)


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("sex", "Sex", True),
    Dimension("age_band", "Age band", True),
    Dimension("ethnic_group", "Ethnicity (major group)", True),
    Dimension("ethnicity", "Ethnicity (detailed code)", True),
    Dimension("disability", "Disability", True),
    Dimension("locality", "Locality", True),
    Dimension("team", "Team", False),
    Dimension("referral_source", "Referral source", False),
    Dimension("service", "Service", False),
    Dimension("leaver_age", "Care leaver age group", False),
)
DIMENSIONS_BY_NAME = {d.name: d for d in DIMENSIONS}


def age_in_years(dob: ir.DateValue, on: ir.DateValue) -> ir.IntegerValue:
    """Completed years of age on a date (engine-independent integer arithmetic)."""
    on_md = on.month() * 100 + on.day()
    dob_md = dob.month() * 100 + dob.day()
    return on.year() - dob.year() - ibis.ifelse(on_md < dob_md, 1, 0)


def age_band(dob: ir.DateValue, expected_dob: ir.DateValue, on: ir.DateValue) -> ir.StringValue:
    """The DfE age band on a date; unborn children and unknown dates of birth say so."""
    age = age_in_years(dob, on)
    cases = [((age >= low) & (age <= high), label) for low, high, label in AGE_BANDS]
    known = ibis.cases(*cases, else_=NOT_KNOWN)
    unborn = dob.isnull() & expected_dob.notnull()
    return ibis.cases((unborn, UNBORN), (dob.isnull(), NOT_KNOWN), (dob > on, UNBORN), else_=known)


def ethnic_group(code: ir.StringValue) -> ir.StringValue:
    """The DfE major ethnic group of a detailed ethnicity code."""
    upper = code.upper()
    first = upper.substr(0, 1)
    cases = [(first == letter, group) for letter, group in ETHNIC_GROUPS.items()]
    return ibis.cases(
        (code.isnull(), NOT_KNOWN),
        (upper.isin(["REFU", "NOBT"]), REFUSED_OR_NOT_OBTAINED),
        (upper == "CHNE", ETHNIC_GROUPS["A"]),
        (first == "C", ETHNIC_GROUPS["O"]),
        *cases,
        else_=NOT_KNOWN,
    )


CHILD_COLUMNS = (
    "sex",
    "date_of_birth",
    "expected_date_of_birth",
    "ethnicity",
    "disability",
    "locality",
)
_PREFIX = "_child_"


def with_child_dimensions(
    records: ibis.Table, children: ibis.Table, names: list[str], age_at: str | None, on: object
) -> ibis.Table:
    """``records`` with the named child-level dimensions added as text columns.

    Ages are taken on the records' ``age_at`` date column, or on the fixed date ``on``.
    """
    if not names:
        return records
    kids = children.select(
        **{f"{_PREFIX}la_code": children.la_code, f"{_PREFIX}child_id": children.child_id},
        **{f"{_PREFIX}{c}": children[c] for c in CHILD_COLUMNS},
    )
    joined = records.left_join(
        kids,
        (records.la_code == kids[f"{_PREFIX}la_code"])
        & (records.child_id == kids[f"{_PREFIX}child_id"]),
    )

    def col(name: str) -> ir.Column:
        return joined[f"{_PREFIX}{name}"]

    reference = joined[age_at] if age_at else ibis.literal(on, type="date")
    disability = col("disability")
    exprs: dict[str, ir.Value] = {
        "sex": ibis.cases(
            (col("sex") == "1", "Male"), (col("sex") == "2", "Female"), else_=NOT_KNOWN
        ),
        "age_band": age_band(col("date_of_birth"), col("expected_date_of_birth"), reference),
        "ethnic_group": ethnic_group(col("ethnicity")),
        "ethnicity": col("ethnicity").fill_null(NOT_KNOWN),
        "disability": ibis.cases(
            (disability, "Disabled"), (disability.notnull(), "Not disabled"), else_=NOT_KNOWN
        ),
        "locality": col("locality").fill_null(NOT_KNOWN),
    }
    added = joined.mutate(**{n: exprs[n] for n in names})
    return added.drop(*[c for c in added.columns if c.startswith(_PREFIX)])
