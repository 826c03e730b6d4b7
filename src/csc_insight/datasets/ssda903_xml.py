"""SSDA903 (children looked after) XML -> the same raw tables as the 903 CSV reader.

The XML is the return as one file (formats.SSDA903_XML_*): a root <EXPSSDA903>, optionally a
return-level <HEADER> naming the authority and the collection year, then one <CHILD> per
child holding a <HEADER> (the child's fields and repeating AREVIEW, AMISSING, OC2,
PERMANENCE and AD_PLACED records) and its <EPISODE>s. Like the sector's 903 validator, the
reader turns it back into the CSV tables (a record's row carries the child's fields, so
reviews have CHILD and DOB as in reviews.csv) and hands each table to
``ssda903.raw_tables``: the mapping to canonical tables is the CSV reader's own, so the CSV
and XML of one return load identically.

The file is streamed one CHILD at a time and each is cleared once read. Entities, DTDs and
the network are off, and huge trees are refused: the file is untrusted input.

source_row is the element number (1-based, document order, elements only, the root being
1) of the record element: the CHILD for header, UASC, OC3 and AD1 rows, the EPISODE,
AREVIEW, ... element for the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from lxml import etree

from csc_insight.datasets import formats, ssda903
from csc_insight.datasets.conform import RawTable, string_table
from csc_insight.errors import InputError
from csc_insight.privacy.options import PostcodePrecision

CHILD = "CHILD"
HEADER = "HEADER"
_YES = frozenset({"1", "Y", "YES", "TRUE", "T"})


@dataclass
class Xml903Header:
    """What the return-level header says (both may be missing: many exports have none)."""

    la: str | None = None
    collection_year: int | None = None


@dataclass
class Xml903:
    """Everything read from one file: the raw tables of each 903 table, and the header."""

    header: Xml903Header
    collection_year: int | None
    tables: dict[str, list[RawTable]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _parser_args() -> dict[str, object]:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def _local(tag: object) -> str:
    text = str(tag)
    return (text[text.index("}") + 1 :] if text.startswith("{") else text).upper()


def _header_value(fields: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = (fields.get(name) or "").strip()
        if value:
            return value
    return None


def _make_header(fields: dict[str, str]) -> Xml903Header:
    year = _header_value(fields, formats.SSDA903_XML_YEAR_FIELDS)
    # "2024-25" and "2025" both name the year ending 31 March 2025.
    parsed: int | None = None
    if year and year[:4].isdigit():
        parsed = int(year[:4])
        if len(year) >= 7 and year[4] in "-/" and year[5:7].isdigit():
            parsed += 1
    return Xml903Header(_header_value(fields, formats.SSDA903_XML_LA_FIELDS), parsed)


def root_and_header(path: Path) -> tuple[str, Xml903Header]:
    """The root element's name and the return-level header, reading up to the first CHILD."""
    root = ""
    fields: dict[str, str] = {}
    depth = 0
    try:
        for event, el in etree.iterparse(str(path), events=("start", "end"), **_parser_args()):
            tag = _local(el.tag)
            if event == "start":
                depth += 1
                if not root:
                    root = tag
                    if root != formats.SSDA903_XML_ROOT:
                        break
                elif tag == CHILD or tag == "CHILDREN":
                    break
                continue
            depth -= 1
            if depth >= 1 and len(el) == 0 and el.text and el.text.strip():
                fields.setdefault(tag, el.text.strip())
    except etree.XMLSyntaxError as exc:
        if not root:
            raise InputError(f"{path}: is not well-formed XML ({exc.msg}).") from exc
    return root, _make_header(fields)


@dataclass
class _Rows:
    columns: tuple[str, ...]
    data: dict[str, list[str | None]] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = {c: [] for c in self.columns}

    def add(self, row: int, values: dict[str, str | None]) -> None:
        self.rows.append(row)
        for c in self.columns:
            self.data[c].append(values.get(c))


class _Collector:
    """Rows of every CSV table, built one CHILD at a time."""

    def __init__(self) -> None:
        self.tables = {k: _Rows(cols) for k, cols in formats.SSDA903_CSV_COLUMNS.items()}
        self.child: dict[str, str | None] = {}
        self.child_row = 0
        self.records: list[tuple[str, int, dict[str, str | None]]] = []

    def start_child(self, number: int) -> None:
        self.child, self.child_row, self.records = {}, number, []

    def end_child(self) -> None:
        person = self.child
        self.tables["header"].add(self.child_row, person)
        for kind, markers in formats.SSDA903_XML_CHILD_TABLES.items():
            if any(self._marks(name, person.get(name)) for name in markers):
                self.tables[kind].add(self.child_row, person)
        for kind, number, values in self.records:
            # A record's row carries the child's fields (CHILD, DOB), as the CSV tables do.
            self.tables[kind].add(number, {**person, **values})

    @staticmethod
    def _marks(name: str, value: str | None) -> bool:
        text = (value or "").strip()
        if name == "UASC":
            return text.upper() in _YES
        return bool(text)

    def raw(
        self, collection_year: int | None, postcode_precision: PostcodePrecision
    ) -> dict[str, list[RawTable]]:
        out: dict[str, list[RawTable]] = {}
        for kind, rows in self.tables.items():
            if kind in ssda903.NOT_LOADED:
                continue
            if ssda903.MAPPINGS[kind].needs_year and collection_year is None and not rows.rows:
                continue
            data: pa.Table = string_table(rows.data, rows.rows)
            out[kind] = ssda903.raw_tables(
                data, kind, collection_year=collection_year, postcode_precision=postcode_precision
            )
        return out


def read(
    path: Path,
    *,
    collection_year: int | None = None,
    postcode_precision: PostcodePrecision = "district",
) -> Xml903:
    """Every record of a 903 XML file as the raw tables of each 903 table.

    The collection year is ``collection_year`` if given, else the header's, else the year
    the episodes describe (the year ending 31 March after the latest DECOM or DEC).
    """
    root, header = root_and_header(path)
    if root != formats.SSDA903_XML_ROOT:
        raise InputError(f"{path}: is not an SSDA903 XML file (root element <{root}>).")
    collector = _Collector()
    number = 0
    in_child = False
    # Open record elements (tag, element number, fields) inside the current CHILD.
    open_records: list[tuple[str, int, dict[str, str | None]]] = []
    seen_sw = False
    try:
        for event, el in etree.iterparse(str(path), events=("start", "end"), **_parser_args()):
            tag = _local(el.tag)
            if event == "start":
                number += 1
                if tag == CHILD and not in_child:
                    in_child = True
                    collector.start_child(number)
                elif in_child and tag in formats.SSDA903_XML_RECORDS:
                    open_records.append((tag, number, {}))
                continue
            if not in_child:
                continue
            if tag == CHILD:
                collector.end_child()
                in_child = False
                open_records.clear()
                _release(el)
            elif open_records and tag == open_records[-1][0]:
                record, row, values = open_records.pop()
                kind = formats.SSDA903_XML_RECORDS[record]
                seen_sw = seen_sw or kind == "sw_episodes"
                collector.records.append((kind, row, values))
            elif len(el) == 0:
                name = formats.SSDA903_XML_RENAMES.get(tag, tag)
                target = open_records[-1][2] if open_records else collector.child
                target[name] = el.text
    except etree.XMLSyntaxError as exc:
        raise InputError(
            f"{path}: the XML is malformed at line {exc.lineno} ({exc.msg}); nothing from this "
            "file was loaded."
        ) from exc
    year = collection_year or header.collection_year
    if year is None:
        episodes = collector.tables["episodes"]
        year = ssda903.collection_year_of(string_table(episodes.data, episodes.rows))
    if year is None and (collector.tables["oc2"].rows or collector.tables["oc3"].rows):
        raise InputError(
            f"{path}: cannot tell which collection year this SSDA903 return describes; "
            "give the collection year (--collection-year)."
        )
    result = Xml903(header, year, collector.raw(year, postcode_precision))
    if seen_sw:
        result.notes.append(ssda903.NOT_LOADED["sw_episodes"])
    return result


def _release(child: etree._Element) -> None:
    """Free a CHILD once read, with any siblings already read before it."""
    child.clear()
    parent = child.getparent()
    while child.getprevious() is not None and parent is not None:
        del parent[0]
