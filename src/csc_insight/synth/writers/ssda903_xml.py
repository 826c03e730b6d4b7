"""A year's SSDA903 CSV tables rewritten as the 903 XML (formats.SSDA903_XML_*).

The synthetic authority is written as CSV; this turns one year's folder into the XML form
of the same return, so tests can show that both forms load to the same warehouse.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lxml import etree

from csc_insight.datasets import formats

# Fields each CSV table contributes to the child's own HEADER (the rest are records).
_CHILD_TABLES = ("header", "uasc", "oc3", "ad1")
_RECORD_ELEMENT = {table: element for element, table in formats.SSDA903_XML_RECORDS.items()}
_XML_NAME = {csv_name: xml for xml, csv_name in formats.SSDA903_XML_RENAMES.items()}
# Where each record sits: the child's HEADER, or the CHILD itself (episodes).
_IN_HEADER = ("reviews", "oc2", "missing", "previous_permanence", "placed_for_adoption")
_CHILD_FIELDS = (
    "CHILD",
    "UPN",
    "SEX",
    "DOB",
    "ETHNIC",
    "UASC",
    "DUC",
    "IN_TOUCH",
    "ACTIV",
    "ACCOM",
    "DATE_INT",
    "DATE_MATCH",
    "FOSTER_CARE",
    "NB_ADOPTR",
    "SEX_ADOPTR",
    "LS_ADOPTR",
    "MOTHER",
    "MC_DOB",
)


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [
            {k.strip().upper(): (v or "") for k, v in row.items()} for row in csv.DictReader(fh)
        ]


def _leaf(parent: etree._Element, name: str, value: str | None) -> None:
    el = etree.SubElement(parent, _XML_NAME.get(name, name))
    if value:
        el.text = value


def write_ssda903_xml(
    csv_folder: Path,
    out_path: Path,
    *,
    la_code: str | None = None,
    collection_year: int | None = None,
) -> Path:
    """Write the 903 CSV tables in ``csv_folder`` (header.csv, episodes.csv, ...) as one XML.

    A return-level HEADER naming the authority and year is written when they are given.
    """
    tables = {name: _read(csv_folder / f"{name}.csv") for name in formats.SSDA903_CSV_COLUMNS}
    children: dict[str, dict[str, str]] = {}
    records: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for name in _CHILD_TABLES:
        for row in tables[name]:
            person = children.setdefault(row["CHILD"], {})
            person.update({k: v for k, v in row.items() if v})
            if name == "uasc":
                person["UASC"] = "1"
    for name in _RECORD_ELEMENT:
        for row in tables[name]:
            person = children.setdefault(row["CHILD"], {"CHILD": row["CHILD"]})
            if row.get("DOB"):
                person.setdefault("DOB", row["DOB"])
            fields = {k: v for k, v in row.items() if k not in ("CHILD", "DOB")}
            records.setdefault(row["CHILD"], []).append((name, fields))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with etree.xmlfile(str(out_path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(formats.SSDA903_XML_ROOT):
            if la_code or collection_year:
                header = etree.Element("HEADER")
                _leaf(header, "LA", la_code)
                _leaf(header, "YEAR", str(collection_year) if collection_year else None)
                xf.write(header)
            with xf.element("CHILDREN"):
                for child_id, person in children.items():
                    xf.write(_child(person, records.get(child_id, [])))
    return out_path


def _child(person: dict[str, str], records: list[tuple[str, dict[str, str]]]) -> etree._Element:
    child = etree.Element("CHILD")
    header = etree.SubElement(child, "HEADER")
    for name in _CHILD_FIELDS:
        if name in person or name in ("UASC", "MOTHER", "MC_DOB"):
            _leaf(header, name, person.get(name))
    for table, fields in records:
        parent = header if table in _IN_HEADER else child
        record = etree.SubElement(parent, _RECORD_ELEMENT[table])
        for name in formats.SSDA903_CSV_COLUMNS[table]:
            if name not in ("CHILD", "DOB"):
                _leaf(record, name, fields.get(name))
    return child
