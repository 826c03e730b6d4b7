"""Ofsted Annex A workbooks -> contacts, early help and children.

Authorities rename sheets and headers freely ("List 1", "list1 contacts", "L1 - Contacts";
"Child Unique ID", "Child ID", "child unique id."), so both are matched tolerantly: sheets by
list number or name, headers after folding case and punctuation, then by known aliases,
then by close spelling. Title rows above the header are skipped.

What loads (FEEDS): list 1 into contacts, 2 early_help_assessments, 3 referrals,
4 assessments, 5 section47, 6 cin_plans, 7 cp_plans and cp_visits, 9 care_leavers, 10
adoptions, and every list's person columns into children (list 8 only there, list 11 nowhere:
PARTLY_LOADED says why). Annex A rows give way to the statutory returns: in the warehouse
they only fill blanks in a CIN census or SSDA903 row with the same key, never replace its
values (see warehouse/upsert.py), so a list extract cannot overwrite richer return data.

Keys agree with the CIN census reader's, so that a referral in list 3 and in the CIN census
is one row: a referral is its child, date and order that day; an assessment, enquiry or plan
(lists 4 to 7) is its referral, date and order. Lists 4 to 7 do not say which referral a
record belongs to: it is the child's latest referral on or before the record's date, in list 3
or in a CIN census loaded in the same run (``Referrals``). A record whose referral is in
neither is quarantined with that reason.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.datasets import formats
from csc_insight.datasets.conform import (
    Check,
    RawTable,
    children_per_child,
    parse_dates,
    string_table,
)
from csc_insight.datasets.workbook import sheet_names, sheet_rows
from csc_insight.warehouse import model

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
    "UASC": "uasc",
}


@dataclass(frozen=True)
class Feed:
    """What one list feeds: a table, and which of the list's columns go where.

    ``record`` says how a row's identifier is made: "referral" (list 3: child, date, order
    that day, as the CIN census makes it), a CIN sub-record name ("assessments", ...: its
    referral, date and order), "early_help" (child, date, order), or "" (the key is columns).
    ``dated`` is the canonical column the identifier's date comes from. Rows with no value
    in ``dated`` are not records of this table (a child in need with no plan) when
    ``optional`` is set.
    """

    table: str
    columns: dict[str, str]
    record: str = ""
    id_column: str = ""
    dated: str = ""
    optional: bool = False
    coded: tuple[str, ...] = ()
    # The same fact can stand on several rows (a visit, once per plan): not a duplicate.
    dedupe: bool = True
    constants: dict[str, str] = field(default_factory=dict)


_TEAM = {"Allocated Team": "team"}
FEEDS: dict[int, tuple[Feed, ...]] = {
    1: (
        Feed(
            "contacts",
            {"Date of Contact": "contact_date", "Contact Source": "contact_source"},
            coded=("contact_source",),
        ),
    ),
    2: (
        Feed(
            "early_help_assessments",
            {
                "Assessment Start Date": "start_date",
                "Assessment Completion Date": "completion_date",
                "Organisation Completing Assessment": "organisation",
            },
            record="early_help",
            id_column="assessment_id",
            dated="start_date",
        ),
    ),
    3: (
        Feed(
            "referrals",
            {
                "Date of Referral": "referral_date",
                "Referral Source": "referral_source",
                "Referral NFA?": "referral_nfa",
                **_TEAM,
            },
            record="referral",
            id_column="referral_id",
            dated="referral_date",
            coded=("referral_source", "referral_nfa"),
        ),
    ),
    4: (
        Feed(
            "assessments",
            {
                "Continuous Assessment Start Date": "start_date",
                "Continuous Assessment Date of Authorisation": "authorised_date",
                **_TEAM,
            },
            record="assessments",
            id_column="assessment_id",
            dated="start_date",
        ),
    ),
    5: (
        Feed(
            "section47",
            {
                "Strategy discussion initiating Section 47 Enquiry Start Date": "strategy_date",
                "Was an Initial Child Protection Conference deemed unnecessary?": (
                    "icpc_not_required"
                ),
                "Date of Initial Child Protection Conference": "icpc_date",
            },
            record="section47",
            id_column="s47_id",
            dated="strategy_date",
            coded=("icpc_not_required",),
        ),
    ),
    6: (
        Feed(
            "cin_plans",
            {"CIN Plan Start Date": "start_date", "CIN Plan End Date": "end_date"},
            record="cin_plans",
            id_column="plan_id",
            dated="start_date",
            optional=True,
        ),
    ),
    7: (
        Feed("cp_visits", {"Date Child Was Last Seen": "visit_date"}, dedupe=False),
        Feed(
            "cp_plans",
            {
                "Child Protection Plan Start Date": "start_date",
                "Initial Category of Abuse": "initial_category",
                "Latest Category of Abuse": "latest_category",
                "Number of Previous Child Protection Plans": "previous_plans",
            },
            record="cp_plans",
            id_column="plan_id",
            dated="start_date",
            coded=("initial_category", "latest_category"),
        ),
    ),
    9: (
        Feed(
            "care_leavers",
            {
                "In Touch": "in_touch",
                "Type of Accommodation": "accommodation",
                "Activity Status": "activity",
            },
            coded=("in_touch", "accommodation", "activity"),
        ),
    ),
    10: (
        Feed(
            "adoptions",
            {
                "Date of Decision that Child Should be Placed for Adoption": (
                    "date_should_be_placed"
                ),
                "Date of Matching": "date_match",
                "Date of Decision that Child Should No Longer be Placed": "date_placed_ceased",
                "Reason No Longer Placed": "reason_placed_ceased",
            },
            coded=("reason_placed_ceased",),
        ),
    ),
}
# Lists that feed only the children table, and why.
PARTLY_LOADED = {
    8: (
        "Annex A list 8 (children in care) was loaded into children only (UASC, disability "
        "and the other person columns): it gives the start of the current placement, not of "
        "the current care episode (DECOM), so its rows cannot be matched to the SSDA903 "
        "episodes and would add open episodes that the return has closed. The SSDA903 "
        "return is the source of care episodes."
    ),
    11: (
        "Annex A list 11 (adopters) is recognised but not loaded: adopters are not children "
        "and the warehouse has no table for them yet."
    ),
}
# Lists 4 to 7 do not say which referral a record belongs to; see Referrals.
NO_REFERRAL = (
    "Annex A does not say which referral this record belongs to, and its child has no "
    "referral on or before its date in list 3 or in a CIN census loaded with this workbook; "
    "load the workbook together with the CIN census that holds the referral"
)
# Category words some authorities write instead of the CIN census codes.
_CATEGORY = {
    "neglect": "NEG",
    "physical abuse": "PHY",
    "physical": "PHY",
    "sexual abuse": "SAB",
    "sexual": "SAB",
    "emotional abuse": "EMO",
    "emotional": "EMO",
    "multiple": "MUL",
}
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


def _numbered_list(sheet: str) -> int | None:
    """The list a sheet name gives by number ("List 3 - Referrals", "L3"), if any."""
    m = _SHEET_NUMBER.match(sheet)
    return int(m.group(1)) if m and int(m.group(1)) in LISTS else None


def list_for_sheet(sheet: str) -> int | None:
    """The Annex A list number a sheet name refers to, if any."""
    number = _numbered_list(sheet)
    if number is not None:
        return number
    folded = fold(sheet)
    for number, spec in LISTS.items():
        topic = fold(spec.sheet.split(" - ", 1)[1])
        if folded == topic or folded.endswith(topic):
            return number
    return None


def named_as_lists(path: Path) -> bool:
    """Whether two or more sheets are named as Annex A lists ("List 3 - Referrals"): enough
    to recognise the workbook without reading its cells, which is most of reading it."""
    numbers = {_numbered_list(name) for name in sheet_names(path)} - {None}
    return len(numbers) >= 2


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


class Referrals:
    """Referrals by the authority's own child identifier, for linking lists 4 to 7.

    Holds the raw (not yet hashed) keys the CIN census reader and list 3 make, so a record
    linked here gets exactly the identifier the CIN census gives the same record.
    """

    def __init__(self) -> None:
        # child -> raw key -> (referral date, order that day, closure date or "")
        self._by_child: dict[str, dict[str, tuple[str, int, str]]] = {}

    def add(
        self,
        children: Sequence[object],
        days: Sequence[object],
        keys: Sequence[object],
        closures: Sequence[object] | None = None,
    ) -> None:
        ends = closures if closures is not None else [None] * len(keys)
        for child, day, key, end in zip(children, days, keys, ends, strict=True):
            if isinstance(child, str) and isinstance(day, str) and isinstance(key, str):
                order = key.rsplit(SEP, 1)[-1]
                known = self._by_child.setdefault(child.strip(), {})
                closed = end.strip() if isinstance(end, str) else known.get(key, ("", 0, ""))[2]
                known[key] = (day.strip(), int(order) if order.isdigit() else 0, closed)

    def add_cin(self, raw: RawTable) -> None:
        """The referrals of a CIN census file (its ``referrals`` raw table)."""
        data = raw.data

        def column(name: str) -> list[object]:
            return data.column(name).to_pylist() if name in data.column_names else []

        self.add(
            column("child_id"),
            column("referral_date"),
            column("referral_id"),
            column("closure_date") or None,
        )

    def find(self, child: str | None, day: str | None) -> str | None:
        """The raw key of the child's latest referral on or before ``day`` (yyyy-mm-dd) that
        was still open that day (if the CIN census says when it closed), if any."""
        if not child or not day:
            return None
        earlier = [
            (not closed or closed >= day, when, order, key)
            for key, (when, order, closed) in self._by_child.get(child.strip(), {}).items()
            if when <= day
        ]
        return max(earlier)[3] if earlier else None


def workbook_year(lists: Sequence[Sheet], today: date | None = None) -> int | None:
    """The collection year (ending 31 March) of a workbook's latest date, up to today.

    Annex A covers the months before an inspection and does not state a year; care leavers
    (list 9) are kept per collection year, like the SSDA903 OC3 table.
    """
    now = today or date.today()
    latest: date | None = None
    for sheet in lists:
        for row in sheet.rows[sheet.header_row + 1 :]:
            for value in row:
                day = value.date() if isinstance(value, datetime) else value
                if isinstance(day, date) and day <= now and (latest is None or day > latest):
                    latest = day
    if latest is None:
        return None
    return latest.year + (1 if latest.month > 3 else 0)


def read_sheet(
    sheet: Sheet, referrals: Referrals | None = None, year: int | None = None
) -> list[RawTable]:
    """Raw tables from one recognised list.

    ``referrals`` links lists 4 to 7 to their referral (list 3 adds to it, so read it
    first); ``year`` is the workbook's collection year, for care leavers.
    """
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
    for flag in ("disability", "uasc"):
        if flag in person:
            person[flag] = _coded(person[flag])
    labels = {v: k for k, v in PERSON.items()}
    out = [
        _feed(feed, sheet, pick, rows, person.get("child_id", [None] * len(keep)), referrals, year)
        for feed in FEEDS.get(sheet.number, ())
    ]
    if "child_id" in person:
        children = children_per_child(string_table(person, rows))
        out.append(RawTable("children", children, labels, required=("child_id",), dedupe=False))
    return out


def _feed(
    feed: Feed,
    sheet: Sheet,
    pick: Callable[[list[str | None]], list[str | None]],
    rows: list[int],
    children: list[str | None],
    referrals: Referrals | None,
    year: int | None,
) -> RawTable:
    labels = {v: k for k, v in PERSON.items()}
    columns: dict[str, list[str | None]] = {"child_id": children}
    for source, canonical in feed.columns.items():
        columns[canonical] = pick(_column(sheet, source))
        labels[canonical] = source
    for name in feed.coded:
        columns[name] = _coded(columns[name])
    for name in ("initial_category", "latest_category"):
        if name in columns:
            columns[name] = [_CATEGORY.get(v.lower(), v) if v else v for v in columns[name]]
    if feed.optional:
        # A row with no date for this table is not one of its records (a child in need
        # without a plan); the row still counts for children.
        present = [i for i, v in enumerate(columns[feed.dated]) if v]
        columns = {k: [v[i] for i in present] for k, v in columns.items()}
        rows = [rows[i] for i in present]
    keyed: tuple[str, ...] = ()
    required: tuple[str, ...] | None = None
    checks: tuple[Check, ...] = ()
    constants: dict[str, object] = {}
    if feed.record:
        # Early help keys keep the date as written (as they always have); the others must
        # agree with the CIN census, which writes yyyy-mm-dd.
        given = columns[feed.dated]
        days = given if feed.record == "early_help" else _iso_days(given)
        child_ids = columns["child_id"]
        if feed.record in ("referral", "early_help"):
            columns[feed.id_column] = _own_keys(feed.record, child_ids, days)
            labels[feed.id_column] = (
                labels[feed.dated] if feed.record == "referral" else ("Child Unique ID")
            )
            keyed = (feed.id_column,)
            if feed.record == "referral" and referrals is not None:
                referrals.add(child_ids, days, columns[feed.id_column])
        else:
            links = referrals or Referrals()
            parents = [links.find(c, d) for c, d in zip(child_ids, days, strict=True)]
            columns["referral_id"] = parents
            columns[feed.id_column] = _sub_keys(feed.record, parents, days)
            labels["referral_id"] = "referral"
            keyed = ("referral_id", feed.id_column)
            unlinked = {"referral_id", feed.id_column}
            required = tuple(
                c.name
                for c in model.table(feed.table).columns
                if c.required and c.name not in unlinked
            )
            checks = (_linked,)
    if feed.table == "care_leavers":
        labels["collection_year"] = "the workbook's collection year (give --collection-year)"
        if year is not None:
            constants["collection_year"] = year
    return RawTable(
        feed.table,
        string_table(columns, rows),
        labels,
        keyed=keyed,
        constants=constants,
        required=required,
        checks=checks,
        dedupe=feed.dedupe,
    )


def _linked(rows: pa.Table) -> tuple[pa.Array, str, str]:
    return pc.is_null(rows.column("referral_id")), "referral_id", NO_REFERRAL


def _iso_days(values: list[str | None]) -> list[str | None]:
    """Dates as the CIN census writes them (yyyy-mm-dd), for keys; unreadable ones as given
    (their rows are quarantined for the date anyway)."""
    days, invalid = parse_dates(pa.array(values, pa.string()))
    out: list[str | None] = []
    for given, day, bad in zip(values, days.to_pylist(), invalid.to_pylist(), strict=True):
        out.append(day.isoformat() if day is not None and not bad else given)
    return out


def _own_keys(kind: str, children: list[str | None], days: list[str | None]) -> list[str | None]:
    # Referrals (as the CIN census makes them) and early help episodes have no identifier
    # in Annex A: child + date + order that day is stable when a later return repeats them.
    seen: dict[tuple[str, str], int] = {}
    keys: list[str | None] = []
    for child, day in zip(children, days, strict=True):
        c, d = (child or "").strip(), (day or "").strip()
        n = seen.get((c, d), 0)
        seen[(c, d)] = n + 1
        keys.append(SEP.join((kind, c, d, str(n))) if c and (d or kind == "early_help") else None)
    return keys


def _sub_keys(name: str, parents: list[str | None], days: list[str | None]) -> list[str | None]:
    # As the CIN census reader: the referral's key, the record's kind, date and order.
    seen: dict[tuple[str, str], int] = {}
    keys: list[str | None] = []
    for parent, day in zip(parents, days, strict=True):
        if parent is None or not day:
            keys.append(None)
            continue
        n = seen.get((parent, day), 0)
        seen[(parent, day)] = n + 1
        keys.append(SEP.join((parent, name, day, str(n))))
    return keys
