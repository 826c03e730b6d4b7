"""Ofsted Annex A workbooks -> contacts, early help and children.

Authorities rename sheets and headers freely ("List 1", "list1 contacts", "L1 - Contacts";
"Child Unique ID", "Child ID", "child unique id."), so both are matched tolerantly: sheets by
list number or name, headers after folding case and punctuation, then by known aliases,
then by close spelling. Title rows above the header are skipped.

What loads: list 1 into contacts, list 2 into early_help_assessments,
and every list's person columns into children. The statutory returns (CIN census, SSDA903)
remain the source of referrals, plans and care episodes; the other lists are recognised and
counted but not loaded, so they cannot overwrite richer return data with list extracts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from csc_insight.datasets import formats
from csc_insight.datasets.conform import RawTable, children_per_child, string_table
from csc_insight.datasets.workbook import sheet_rows

SEP = "\x1f"
HEADER_SEARCH_ROWS = 20
MIN_HEADER_SHARE = 0.5
SPELLING_CUTOFF = 0.85

LISTS = {a.number: a for a in formats.ANNEX_A_LISTS}
ALIASES: dict[str, tuple[str, ...]] = {
    "Child Unique ID": (
        "Child ID",
        "Unique ID",
        "Child Identifier",
        "Child Unique Identifier",
        "ID",
        "LA Child ID",
        "Child Reference",
    ),
    "Gender": ("Sex",),
    "Date of Birth": ("DOB", "Birth Date"),
    "Age of Child (Years)": ("Age", "Age of Child", "Age (Years)"),
    "Date of Contact": ("Contact Date",),
    "Contact Source": ("Source of Contact", "Source"),
    "Assessment Start Date": ("Early Help Assessment Start Date", "EH Assessment Start Date"),
    "Assessment Completion Date": (
        "Early Help Assessment Completion Date",
        "EH Assessment Completion Date",
    ),
    "Organisation Completing Assessment": ("Organisation", "Completed By"),
}
PERSON = {
    "Child Unique ID": "child_id",
    "Gender": "sex",
    "Ethnicity": "ethnicity",
    "Date of Birth": "date_of_birth",
    "Disability": "disability",
}
LOADED = {
    1: ("contacts", {"Date of Contact": "contact_date", "Contact Source": "contact_source"}),
    2: (
        "early_help_assessments",
        {
            "Assessment Start Date": "start_date",
            "Assessment Completion Date": "completion_date",
            "Organisation Completing Assessment": "organisation",
        },
    ),
    7: ("cp_visits", {"Date Child Was Last Seen": "visit_date"}),
}
# The same visit can stand on several rows (one per plan): the same fact, not a duplicate.
REPEATS_ARE_THE_SAME_FACT = frozenset({7})
_SEX = {
    "m": "1",
    "male": "1",
    "1": "1",
    "f": "2",
    "female": "2",
    "2": "2",
    "u": "0",
    "unknown": "0",
    "not known": "0",
    "0": "0",
    "not stated": "9",
    "not recorded": "9",
    "9": "9",
    "indeterminate": "9",
}
_ETHNIC_CODE = re.compile(r"\b([A-Z]{4})\b")
# "a) Male", "b) Female": the template's coded answers.
_OPTION_PREFIX = re.compile(r"^[a-z]\)\s*")
_SHEET_NUMBER = re.compile(r"^\s*l(?:ist)?\s*[-_.:#]?\s*(\d{1,2})(?!\d)", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case letters and digits only: 'Date of Birth ' and 'date-of-birth' agree."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def list_for_sheet(sheet: str) -> int | None:
    """The Annex A list number a sheet name refers to, if any."""
    m = _SHEET_NUMBER.match(sheet)
    if m and int(m.group(1)) in LISTS:
        return int(m.group(1))
    folded = fold(sheet)
    for number, spec in LISTS.items():
        topic = fold(spec.sheet.split(" - ", 1)[1])
        if folded == topic or folded.endswith(topic):
            return number
    return None


def match_header(cells: list[str], expected: tuple[str, ...]) -> dict[str, int]:
    """Expected column -> index in ``cells``, for every expected column found."""
    return dict(_match_header(tuple(cells), expected))


# Every row near the top of every sheet is tried against every list's header, by spelling
# distance (difflib): memoised, since the same rows are tried again when the file is read.
@lru_cache(maxsize=4096)
def _match_header(cells: tuple[str, ...], expected: tuple[str, ...]) -> dict[str, int]:
    folded = [fold(c) for c in cells]
    found: dict[str, int] = {}
    used: set[int] = set()
    for name in expected:
        candidates = [fold(name), *(fold(a) for a in ALIASES.get(name, ()))]
        index = next(
            (i for cand in candidates for i, f in enumerate(folded) if f == cand and i not in used),
            None,
        )
        if index is None:
            free = [f if i not in used else "" for i, f in enumerate(folded)]
            close = difflib.get_close_matches(fold(name), free, n=1, cutoff=SPELLING_CUTOFF)
            index = free.index(close[0]) if close and close[0] else None
        if index is not None:
            found[name] = index
            used.add(index)
    return found


def cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV would have held."""
    if value is None:
        return None
    if type(value) is str:  # most cells: tested first, as this runs for every cell
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


@dataclass
class Sheet:
    """One recognised list: its sheet, header row and column positions."""

    number: int
    name: str
    header_row: int
    columns: dict[str, int]
    rows: Sequence[Sequence[object]]


def _find_header(
    rows: Sequence[Sequence[object]], spec: formats.AnnexAList
) -> tuple[int, dict[str, int]]:
    best: tuple[int, dict[str, int]] = (-1, {})
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [str(c) if c is not None else "" for c in row]
        found = match_header(cells, spec.columns)
        if len(found) > len(best[1]):
            best = (i, found)
        if len(found) == len(spec.columns):
            break  # every column found: no later row can match better
    if len(best[1]) < max(2, MIN_HEADER_SHARE * len(spec.columns)):
        return -1, {}
    return best


def sheets(path: Path) -> tuple[list[Sheet], list[str]]:
    """Recognised lists of a workbook, and the names of sheets that are not lists."""
    found: list[Sheet] = []
    other: list[str] = []
    for name, rows in sheet_rows(path):
        number = list_for_sheet(name)
        candidates = [number] if number else list(LISTS)
        best: Sheet | None = None
        for n in candidates:
            header_row, columns = _find_header(rows, LISTS[n])
            usable = header_row >= 0 and ("Child Unique ID" in columns or n == 11)
            # Person columns are common to every list, so an unnamed sheet is the list whose
            # header it matches most completely.
            if usable and (best is None or len(columns) > len(best.columns)):
                best = Sheet(n, name, header_row, columns, rows)
        if best is None:
            other.append(name)
        else:
            found.append(best)
    return found, other


def _column(sheet: Sheet, name: str) -> list[str | None]:
    index = sheet.columns.get(name)
    if index is None:
        return [None] * (len(sheet.rows) - sheet.header_row - 1)
    return [
        cell_text(row[index]) if index < len(row) else None
        for row in sheet.rows[sheet.header_row + 1 :]
    ]


def _coded(values: list[str | None]) -> list[str | None]:
    return [_OPTION_PREFIX.sub("", v) if v else v for v in values]


def _sex(values: list[str | None]) -> list[str | None]:
    return [_SEX.get(v.strip().lower(), v) if v else v for v in _coded(values)]


def _ethnicity(values: list[str | None]) -> list[str | None]:
    out: list[str | None] = []
    for v in _coded(values):
        m = _ETHNIC_CODE.search(v) if v else None
        out.append(m.group(1) if m else v)
    return out


def read_sheet(sheet: Sheet) -> list[RawTable]:
    """Raw tables from one recognised list."""
    if sheet.number == 11:
        return []  # adopters are not children; nothing in the model holds them yet
    person = {PERSON[k]: _column(sheet, k) for k in PERSON if k in sheet.columns}
    # Rows with no cell filled at all are padding, not records.
    keep = [
        i
        for i, row in enumerate(sheet.rows[sheet.header_row + 1 :])
        if any(cell_text(c) for c in row)
    ]
    rows = [i + 1 for i in keep]

    def pick(values: list[str | None]) -> list[str | None]:
        return [values[i] for i in keep]

    person = {k: pick(v) for k, v in person.items()}
    if "sex" in person:
        person["sex"] = _sex(person["sex"])
    if "ethnicity" in person:
        person["ethnicity"] = _ethnicity(person["ethnicity"])
    if "disability" in person:
        person["disability"] = _coded(person["disability"])
    labels = {v: k for k, v in PERSON.items()}
    out: list[RawTable] = []
    if sheet.number in LOADED:
        target, mapping = LOADED[sheet.number]
        columns = {"child_id": person.get("child_id", [None] * len(keep))}
        for source, canonical in mapping.items():
            columns[canonical] = pick(_column(sheet, source))
            labels[canonical] = source
        if sheet.number == 1:
            columns["contact_source"] = _coded(columns["contact_source"])
        if sheet.number == 2:
            columns["assessment_id"] = _early_help_keys(columns["child_id"], columns["start_date"])
            labels["assessment_id"] = "Child Unique ID"
        data = string_table(columns, rows)
        keyed = ("assessment_id",) if sheet.number == 2 else ()
        out.append(
            RawTable(
                target,
                data,
                labels,
                keyed=keyed,
                dedupe=sheet.number not in REPEATS_ARE_THE_SAME_FACT,
            )
        )
    if "child_id" in person:
        children = children_per_child(string_table(person, rows))
        out.append(RawTable("children", children, labels, required=("child_id",), dedupe=False))
    return out


def _early_help_keys(children: list[str | None], dates: list[str | None]) -> list[str | None]:
    # Early help episodes have no identifier in Annex A: child + start date + ordinal is
    # stable when the same list is returned again next year.
    seen: dict[tuple[str, str], int] = {}
    keys: list[str | None] = []
    for child, day in zip(children, dates, strict=True):
        c, d = (child or "").strip(), (day or "").strip()
        n = seen.get((c, d), 0)
        seen[(c, d)] = n + 1
        keys.append(SEP.join(("early_help", c, d, str(n))) if c else None)
    return keys


def unloaded_reason(number: int) -> str:
    return (
        f"Annex A list {number} is recognised but not loaded: the CIN census and SSDA903 are "
        "the source for these records."
    )
