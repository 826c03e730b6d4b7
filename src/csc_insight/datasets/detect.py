"""Which dataset a file holds, decided by its content, never its name.

CSV files are recognised by their header columns, XML by its root element and header,
spreadsheets by sheet names and headers. A file that matches nothing gets a reason a
person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csc_insight.datasets import annex_a, cin_census, formats, local, ssda903
from csc_insight.datasets.tabular import read_header
from csc_insight.errors import InputError

CIN_CENSUS = "cin_census"
ANNEX_A = "annex_a"
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

    Raises InputError only when the file cannot be read at all.
    """
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if not head.strip():
        return Detection(path, None, "the file is empty")
    if head.startswith((_ZIP, _OLE)):
        return _spreadsheet(path)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return _xml(path)
    if text.startswith((b"{", b"[")):
        return Detection(path, None, "a JSON file, not one of the datasets csc-insight reads")
    if b"\x00" in head:
        return Detection(path, None, "a binary file, not CSV, XML or a spreadsheet")
    return _csv(path)


def _csv(path: Path) -> Detection:
    header = read_header(path)
    kind, near_903 = ssda903.match(header)
    if kind is not None:
        return Detection(path, f"ssda903.{kind}")
    contract, near_local = local.match(header)
    if contract is not None:
        return Detection(path, f"local.{contract}")
    reason = near_903 or near_local
    if reason is None:
        shown = ", ".join(header[:6]) + (", ..." if len(header) > 6 else "")
        reason = f"its columns ({shown}) match no SSDA903 table or local extract"
    return Detection(path, None, reason)


def _xml(path: Path) -> Detection:
    root, header = cin_census.root_and_header(path)
    if root != formats.CIN_ROOT:
        return Detection(
            path,
            None,
            f"an XML file with root element <{root}>, not a CIN census <{formats.CIN_ROOT}>",
        )
    if header.collection and "CIN" not in header.collection.upper():
        return Detection(
            path,
            None,
            f"an XML return for the {header.collection} collection; "
            "only the CIN census XML is read (load SSDA903 as CSV tables)",
        )
    return Detection(path, CIN_CENSUS, la_code=header.lea, collection_year=header.collection_year)


def _spreadsheet(path: Path) -> Detection:
    try:
        lists, others = annex_a.sheets(path)
    except InputError as exc:
        return Detection(path, None, str(exc).removeprefix(f"{path}: "))
    if lists:
        return Detection(path, ANNEX_A)
    shown = ", ".join(others[:5])
    return Detection(path, None, f"a spreadsheet whose sheets ({shown}) are not Annex A lists")


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
