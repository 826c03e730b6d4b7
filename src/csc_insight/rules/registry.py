"""The validation rule registry: every check is one small class, registered here.

A rule names the canonical table it reports on and returns the failing rows of that table as
an Ibis expression, so the whole check runs on the engine (DuckDB, PostgreSQL, Spark), never
row by row in Python. Built-in families register through ``register`` exactly as an extension
would.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import ClassVar

import ibis
import ibis.expr.types as ir

from csc_insight.warehouse.model import TABLES_BY_NAME
from csc_insight.warehouse.store import Warehouse

# Columns every failing-rows expression must keep: they become the finding.
FINDING_COLUMNS = ("la_code", "child_id", "source_file", "source_row")


class Severity(StrEnum):
    """How serious a finding is, as DfE grades its own rules."""

    ERROR = "error"
    QUERY = "query"
    WARNING = "warning"


class Source(StrEnum):
    """Whose rule it is: DfE's SSDA903 or CIN census rules, or csc-insight's own."""

    SSDA903 = "ssda903"
    CIN = "cin"
    LOCAL = "csc-insight"


class Tables:
    """Lazy access to canonical tables for rule expressions, plus the collection-year dates.

    ``default_collection_year`` is used for rows whose file did not say which collection year
    it describes (the census-year rules skip rows whose year is unknown).
    """

    def __init__(self, warehouse: Warehouse, default_collection_year: int | None = None) -> None:
        self._warehouse = warehouse
        self.default_collection_year = default_collection_year
        self.today = dt.date.today()

    def __getattr__(self, name: str) -> ibis.Table:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._warehouse.table(name)

    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name``."""
        return self._warehouse.table(name)

    def with_census_year(self, name: str) -> ibis.Table:
        """Table ``name`` with ``_census_start`` and ``_census_end`` (1 April to 31 March).

        The year is the collection year of the file each row was last loaded from (the loads
        log records it), else the run's default; both are null when neither is known.
        """
        rows = self.table(name)
        files = self.table("load_files")
        years = (
            files.filter(files.target_table == name)
            .group_by("load_id", "source_file")
            .aggregate(_file_year=files.collection_year.max())
        )
        joined = rows.left_join(
            years,
            [rows.load_id == years.load_id, rows.source_file == years.source_file],
        )
        joined = joined.select(*rows.columns, "_file_year")
        default = self.default_collection_year
        year = (
            joined._file_year
            if default is None
            else joined._file_year.fill_null(ibis.literal(default, "int64"))
        ).cast("int32")
        return joined.mutate(
            _census_start=ibis.date(year - 1, 4, 1), _census_end=ibis.date(year, 3, 31)
        ).drop("_file_year")

    def latest_possible(self, census_end: ir.DateColumn) -> ir.DateValue:
        """The last date a record may carry: the census end if known, else today."""
        return census_end.fill_null(ibis.literal(self.today, "date"))


class Rule:
    """A validation rule: which rows of ``table`` break it, with DfE's code and message."""

    code: ClassVar[str]
    source: ClassVar[Source]
    message: ClassVar[str]
    severity: ClassVar[Severity]
    table: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]

    def failing(self, t: Tables) -> ibis.Table:
        """The rows of ``table`` that break the rule (all its columns, at least the lineage)."""
        raise NotImplementedError

    @property
    def family(self) -> str:
        """The module the rule is declared in (its family)."""
        return type(self).__module__.rsplit(".", 1)[-1]


class CodeListRule(Rule):
    """A coded column must hold one of DfE's codes (blank allowed unless ``required``)."""

    column: ClassVar[str]
    codes: ClassVar[frozenset[str]]
    required: ClassVar[bool] = False

    def failing(self, t: Tables) -> ibis.Table:
        rows = t.table(self.table)
        value = rows[self.column]
        bad = value.notnull() & ~value.isin(sorted(self.codes))
        if self.required:
            bad = bad | value.isnull()
        return rows.filter(bad)


class DateOrderRule(Rule):
    """A later date, when both are present, must not be before an earlier one."""

    earlier: ClassVar[str]
    later: ClassVar[str]
    strict: ClassVar[bool] = False  # True: the later date must be strictly after

    def failing(self, t: Tables) -> ibis.Table:
        rows = t.table(self.table)
        a, b = rows[self.earlier], rows[self.later]
        bad = (b <= a) if self.strict else (b < a)
        return rows.filter(a.notnull() & b.notnull() & bad)


REGISTRY: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Add a rule class to the registry (its code must be new and its metadata complete)."""
    code = getattr(cls, "code", None)
    if not code:
        raise ValueError(f"rule {cls.__name__} has no code")
    if code in REGISTRY:
        raise ValueError(f"rule {code} is registered twice")
    for attr in ("source", "message", "severity", "table", "fields"):
        if not getattr(cls, attr, None):
            raise ValueError(f"rule {code} has no {attr}")
    if not (cls.__doc__ or "").strip():
        raise ValueError(f"rule {code} has no docstring")
    if cls.table not in TABLES_BY_NAME:
        raise ValueError(f"rule {code} names an unknown table {cls.table!r}")
    columns = set(TABLES_BY_NAME[cls.table].column_names)
    unknown = [f for f in cls.fields if f not in columns]
    if unknown:
        raise ValueError(f"rule {code}: {cls.table} has no column(s) {', '.join(unknown)}")
    REGISTRY[code] = cls()
    return cls


def same_child(a: ibis.Table, b: ibis.Table) -> list[ir.BooleanValue]:
    """Join predicates for rows about the same child: always within one authority."""
    return [a.la_code == b.la_code, a.child_id == b.child_id]


def same_referral(a: ibis.Table, b: ibis.Table) -> list[ir.BooleanValue]:
    """Join predicates for rows of the same CIN episode (referral) of the same child."""
    return [*same_child(a, b), a.referral_id == b.referral_id]


def age_reached(dob: ir.DateValue, years: int, on: ir.DateValue) -> ir.BooleanValue:
    """The child had had their ``years``-th birthday on or before ``on``."""
    return (dob + ibis.interval(years=years)) <= on
