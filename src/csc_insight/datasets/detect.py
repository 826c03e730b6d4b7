"""Which dataset a file holds, decided by its content, never its name.

CSV files are recognised by their header columns, XML by its root element and header,
spreadsheets by sheet names and headers. A file that matches nothing gets a reason a
person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from csc_insight.datasets import (
    annex_a,
    cin_census,
    formats,
    local,
    population,
    ssda903,
    ssda903_xml,
)
from csc_insight.datasets.tabular import read_header, sniff_encoding
from csc_insight.errors import InputError

CIN_CENSUS = "cin_census"
ANNEX_A = "annex_a"
SSDA903_XML = "ssda903_xml"
POPULATION = "population"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # legacy .xls


@dataclass(frozen=True)
class Detection:
    """The outcome of looking at one file."""

    path: Path
    dataset: str | None
    reason: str | None = None
    la_code: str | None = None
    collection_year: int | None = None

    @property
    def recognised(self) -> bool:
        return self.dataset is not None


def detect(path: Path) -> Detection:
    """The dataset ``path`` holds, or why it is not recognised.

    Raises InputError when the file cannot be read at all, or must not be (an XML file
    with a DOCTYPE: entity attacks are refused before any parsing of the content).
    """
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if head.startswith((_ZIP, _OLE)):
        return _spreadsheet(path)
    for magic, what in _NOT_DATA.items():
        if head.startswith(magic):
            return Detection(path, None, f"{what}, not a data file: {_EXPORT}")
    encoding = sniff_encoding(head)
    if encoding.startswith("utf-16"):
        text = head.decode(encoding, errors="ignore").lstrip("\ufeff").strip().encode()
    else:
        text = head.lstrip(b"\xef\xbb\xbf").strip()
    if not text:
        return Detection(path, None, "the file is empty: export it again")
    if text.startswith(b"<"):
        return _xml(path)
    if text.startswith((b"{", b"[")):
        return Detection(path, None, "a JSON file, not one of the datasets csc-insight reads")
    if b"\x00" in text:
        return Detection(path, None, f"a binary file, not CSV, XML or a spreadsheet: {_EXPORT}")
    return _csv(path)


_EXPORT = "export the data as CSV, XML or an Excel workbook"
_NOT_DATA = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip-compressed file (unzip it first)",
    b"7z\xbc\xaf": "a 7-Zip archive (unpack it first)",
}


def _csv(path: Path) -> Detection:
    try:
        header = read_header(path)
    except InputError as exc:
        return Detection(path, None, str(exc).removeprefix(f"{path}: "))
    kind, near_903 = ssda903.match(header)
    if kind is not None:
        return Detection(path, f"ssda903.{kind}")
    contract, near_local = local.match(header)
    if contract is not None:
        return Detection(path, f"local.{contract}")
    layout = population.match(header)
    if layout is not None:
        return Detection(path, f"{POPULATION}.{layout}")
    reason = near_903 or near_local
    if reason is None:
        # Only cells that look like column names are shown: a file without a header row
        # starts with a record, which may hold a child's identifier.
        names = [h[:40] for h in header if h and not any(ch.isdigit() for ch in h)]
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        reason = (
            f"its columns ({shown}) match no SSDA903 table or local extract"
            if len(names) * 2 > len(header)
            else "its first row is not a row of column names (a header row such as "
            "CHILD,SEX,DOB is needed)"
        )
    return Detection(path, None, reason)


def _xml(path: Path) -> Detection:
    _refuse_doctype(path)
    root, header = cin_census.root_and_header(path)
    if root.upper() == formats.SSDA903_XML_ROOT:
        _, xml903 = ssda903_xml.root_and_header(path)
        return Detection(
            path, SSDA903_XML, la_code=xml903.la, collection_year=xml903.collection_year
        )
    if root != formats.CIN_ROOT:
        return Detection(
            path,
            None,
            f"an XML file with root element <{root}>, not a CIN census <{formats.CIN_ROOT}> "
            f"or an SSDA903 return <{formats.SSDA903_XML_ROOT}>",
        )
    if header.collection and "CIN" not in header.collection.upper():
        return Detection(
            path,
            None,
            f"an XML return for the {header.collection} collection; "
            f"only the CIN census <{formats.CIN_ROOT}> and the SSDA903 "
            f"<{formats.SSDA903_XML_ROOT}> XML are read",
        )
    return Detection(path, CIN_CENSUS, la_code=header.lea, collection_year=header.collection_year)


def _refuse_doctype(path: Path) -> None:
    """Refuse XML that declares a DOCTYPE: no DfE return has one, attacks do.

    Entity expansion ("billion laughs") and external entities (XXE, reading local files or
    the network) both need a DOCTYPE; lxml is already set not to expand or fetch entities,
    and this stops such a file before any of its content is read.
    """
    try:
        events = etree.iterparse(
            str(path), events=("start",), resolve_entities=False, no_network=True, load_dtd=False
        )
        for _event, el in events:
            if el.getroottree().docinfo.doctype:
                raise InputError(
                    f"{path}: this XML file declares a DOCTYPE (entity definitions), which a "
                    "DfE return never has; it was refused for safety and nothing from it was "
                    "loaded. Export the return again from the case management system."
                )
            return
    except etree.XMLSyntaxError:
        return  # root_and_header reports malformed XML in its own words


def _spreadsheet(path: Path) -> Detection:
    try:
        # Sheets named "List 1 - Contacts", "List 3 - Referrals"... say it at once.
        if annex_a.named_as_lists(path):
            return Detection(path, ANNEX_A)
        # A local extract first: its contract is exact, where Annex A headers are matched
        # tolerantly enough that a service extract with child columns would pass as list 1.
        contract, _sheet, near_local = local.sheet_match(path)
        if contract is not None:
            return Detection(path, f"local.{contract}")
        lists, others = annex_a.sheets(path)
    except InputError as exc:
        return Detection(path, None, str(exc).removeprefix(f"{path}: "))
    if lists:
        return Detection(path, ANNEX_A)
    if near_local:
        return Detection(path, None, f"a spreadsheet that {near_local}")
    shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
    return Detection(
        path,
        None,
        f"a spreadsheet whose sheets ({shown}) are not Annex A lists: an Annex A workbook has "
        "sheets such as 'List 1 - Contacts' with a 'Child Unique ID' column",
    )


def walk(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Every file under ``paths`` (directories recursively) with the root it was found in."""
    found: list[tuple[Path, Path]] = []
    for given in paths:
        if given.is_dir():
            found.extend(
                (p, given)
                for p in sorted(given.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(given).parts)
            )
        elif given.is_file():
            found.append((given, given.parent))
        else:
            raise InputError(f"{given}: no such file or folder.")
    return found
