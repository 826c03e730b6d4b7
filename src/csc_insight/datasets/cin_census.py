"""CIN census XML -> children, referrals, assessments, section47, plans and reviews.

The file is streamed one Child element at a time and each element is cleared once read, so
a national file of hundreds of megabytes parses in bounded memory. Entities, DTDs and the
network are off: the file is untrusted input.

source_row is the element number (1-based, document order, elements only) of the record
element (Child, CINdetails, Assessments, ...), so every quarantined record can be found.

Identifiers of referrals and their sub-records are composite raw keys here (child
identifier, date, ordinal of same-day records) that conform replaces by keyed hashes: the
same referral gets the same referral_id in every yearly return that repeats it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from lxml import etree

from csc_insight.datasets import formats
from csc_insight.datasets.conform import PARENT_ROW, RawTable, string_table
from csc_insight.errors import InputError

SEP = "\x1f"
# Children read between moves of their rows from Python lists into Arrow (bounds memory).
FLUSH_EVERY = 50_000
RECORD_TABLES = (
    "children",
    "referrals",
    "assessments",
    "section47",
    "cin_plans",
    "cp_plans",
    "cp_reviews",
)
# Dependent records are set aside when the record they belong to is.
PARENTS = {
    "assessments": "referrals",
    "section47": "referrals",
    "cin_plans": "referrals",
    "cp_plans": "referrals",
    "cp_reviews": "cp_plans",
}


@dataclass
class CinHeader:
    """What the Header says about the return."""

    lea: str | None = None
    collection_year: int | None = None
    collection: str | None = None


def _local(tag: object) -> str:
    text = str(tag)
    return text[text.index("}") + 1 :] if text.startswith("{") else text


def _parser_args() -> dict[str, object]:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True}


def _header_from(element: etree._Element) -> CinHeader:
    header = CinHeader()
    for el in element.iter(etree.Element):
        tag, text = _local(el.tag), (el.text or "").strip()
        if tag == "LEA" and text:
            header.lea = text
        elif tag == "Year" and text.isdigit():
            header.collection_year = int(text)
        elif tag == "Collection" and text:
            header.collection = text
    return header


def root_and_header(path: Path) -> tuple[str, CinHeader]:
    """The root element's name and the Header, reading no further than the first Child."""
    root = ""
    try:
        events = etree.iterparse(str(path), events=("start", "end"), **_parser_args())
        for event, el in events:
            tag = _local(el.tag)
            if event == "start" and not root:
                root = tag
                if root != formats.CIN_ROOT:
                    break
            elif event == "end" and tag == "Header":
                return root, _header_from(el)
            elif event == "start" and tag == "Child":
                break
    except etree.XMLSyntaxError as exc:
        if not root:
            raise InputError(f"{path}: is not well-formed XML ({exc.msg}).") from exc
    return root, CinHeader()


@dataclass
class _Rows:
    """Rows for one target table: tuples appended one record at a time, moved into Arrow
    columns by ``flush`` so a large file never holds all its rows as Python strings."""

    columns: tuple[str, ...]
    pending: list[tuple[str | None, ...]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    done: list[pa.Table] = field(default_factory=list)

    def add(self, row: int, values: dict[str, str | None]) -> None:
        self.rows.append(row)
        self.pending.append(tuple(map(values.get, self.columns)))

    def flush(self) -> None:
        if not self.rows and self.done:
            return
        empty: list[tuple[()]] = [()] * len(self.columns)
        columns = list(zip(*self.pending, strict=True)) if self.pending else empty
        self.done.append(string_table(dict(zip(self.columns, columns, strict=True)), self.rows))
        self.pending, self.rows = [], []

    def table(self) -> pa.Table:
        self.flush()
        return self.done[0] if len(self.done) == 1 else pa.concat_tables(self.done)


_CHILD_FIELDS = {
    "LAchildID": "child_id",
    "PersonBirthDate": "date_of_birth",
    "ExpectedPersonBirthDate": "expected_date_of_birth",
    "GenderCurrent": "sex",
    "PersonDeathDate": "date_of_death",
    "Ethnicity": "ethnicity",
}
_REFERRAL_FIELDS = {
    "CINreferralDate": "referral_date",
    "ReferralSource": "referral_source",
    "PrimaryNeedCode": "primary_need",
    "CINclosureDate": "closure_date",
    "ReasonForClosure": "closure_reason",
    "ReferralNFA": "referral_nfa",
}
_ASSESSMENT_FIELDS = {
    "AssessmentActualStartDate": "start_date",
    "AssessmentAuthorisationDate": "authorised_date",
}
_CIN_PLAN_FIELDS = {"CINPlanStartDate": "start_date", "CINPlanEndDate": "end_date"}
_S47_FIELDS = {
    "S47ActualStartDate": "strategy_date",
    "ICPCnotRequired": "icpc_not_required",
}
_CPP_FIELDS = {
    "CPPstartDate": "start_date",
    "CPPendDate": "end_date",
    "InitialCategoryOfAbuse": "initial_category",
    "LatestCategoryOfAbuse": "latest_category",
    "NumberOfPreviousCPP": "previous_plans",
}
# Labels for quarantine messages: the CIN census element names.
LABELS: dict[str, dict[str, str]] = {
    "children": {v: k for k, v in _CHILD_FIELDS.items()} | {"disability": "Disability"},
    "referrals": {"child_id": "LAchildID"} | {v: k for k, v in _REFERRAL_FIELDS.items()},
    "assessments": {"child_id": "LAchildID"} | {v: k for k, v in _ASSESSMENT_FIELDS.items()},
    "cin_plans": {"child_id": "LAchildID"} | {v: k for k, v in _CIN_PLAN_FIELDS.items()},
    "section47": {"child_id": "LAchildID", "icpc_date": "DateOfInitialCPC"}
    | {v: k for k, v in _S47_FIELDS.items()},
    "cp_plans": {"child_id": "LAchildID"} | {v: k for k, v in _CPP_FIELDS.items()},
    "cp_reviews": {"child_id": "LAchildID", "review_date": "CPPreviewDate"},
}
_INNER_RECORDS = ("Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans")
_RECORD_TAGS = {"CINdetails", *_INNER_RECORDS}
# What each element feeds: (where, name). where is a record tag (a field of the record being
# read, if one is open), _PERSON (a field of the child), _RECORD (the element starts a
# record) or _SPECIAL; elements not listed are skipped without reading their text.
_RECORD, _PERSON, _SPECIAL = "record", "person", "special"
_SPEC: dict[str, tuple[str, str]] = {
    **{tag: (_RECORD, tag) for tag in _RECORD_TAGS},
    **{tag: (_PERSON, name) for tag, name in _CHILD_FIELDS.items()},
    **{tag: ("CINdetails", name) for tag, name in _REFERRAL_FIELDS.items()},
    **{tag: ("Assessments", name) for tag, name in _ASSESSMENT_FIELDS.items()},
    **{tag: ("CINPlanDates", name) for tag, name in _CIN_PLAN_FIELDS.items()},
    **{tag: ("Section47", name) for tag, name in _S47_FIELDS.items()},
    **{tag: ("ChildProtectionPlans", name) for tag, name in _CPP_FIELDS.items()},
    **{
        tag: (_SPECIAL, tag)
        for tag in ("Disability", "AssessmentFactors", "DateOfInitialCPC", "CPPreviewDate")
    },
}


def _ordinal(seen: dict[str, int], key: str) -> str:
    """0 for the first record with this key within its parent, 1 for the next, ..."""
    n = seen.get(key, 0)
    seen[key] = n + 1
    return str(n)


class _ChildParser:
    """Turns Child elements into rows of every table, keeping their element numbers."""

    def __init__(self) -> None:
        ref_cols = ("child_id", "referral_id", *_REFERRAL_FIELDS.values())
        sub = ("child_id", "referral_id", PARENT_ROW)
        self.tables: dict[str, _Rows] = {
            "children": _Rows((*_CHILD_FIELDS.values(), "disability", "disabilities")),
            "referrals": _Rows(ref_cols),
            "assessments": _Rows((*sub, "assessment_id", *_ASSESSMENT_FIELDS.values(), "factors")),
            "section47": _Rows((*sub, "s47_id", *_S47_FIELDS.values(), "icpc_date")),
            "cin_plans": _Rows((*sub, "plan_id", *_CIN_PLAN_FIELDS.values())),
            "cp_plans": _Rows((*sub, "plan_id", *_CPP_FIELDS.values())),
            "cp_reviews": _Rows(("child_id", "plan_id", PARENT_ROW, "review_date")),
        }

    def parse(self, child: etree._Element, first_number: int) -> int:
        """Rows from one Child element numbered from ``first_number``; returns its size."""
        person: dict[str, str | None] = {}
        disabilities: list[str] = []
        # Records are collected first: the child's identifier may follow them in odd files.
        records: list[tuple[str, int, dict[str, str | None], list[str]]] = []
        current: dict[str, tuple[int, dict[str, str | None], list[str]]] = {}
        size = 0
        for el in child.iter(etree.Element):
            size += 1
            tag = el.tag
            if tag[0] == "{":
                tag = _local(tag)
            spec = _SPEC.get(tag)
            if spec is None:
                continue
            where, name = spec
            if where == _RECORD:
                rec: tuple[int, dict[str, str | None], list[str]] = (
                    first_number + size - 1,
                    {},
                    [],
                )
                current[tag] = rec
                if tag == "CINdetails":
                    for inner in _INNER_RECORDS:
                        current.pop(inner, None)
                records.append((tag, rec[0], rec[1], rec[2]))
            elif where == _PERSON:
                person[name] = el.text
            elif where != _SPECIAL:
                found = current.get(where)
                if found is not None:
                    found[1][name] = el.text
            elif tag == "Disability":
                text = el.text
                if text and text.strip():
                    disabilities.append(text.strip())
            elif tag == "AssessmentFactors":
                text = el.text
                if "Assessments" in current and text and text.strip():
                    current["Assessments"][2].append(text.strip())
            elif tag == "DateOfInitialCPC":
                parent = el.getparent()
                owner = _local(parent.tag) if parent is not None else ""
                if owner == "Section47" and "Section47" in current:
                    current["Section47"][1]["icpc_date"] = el.text
                elif "CINdetails" in current:
                    current["CINdetails"][1]["icpc_date"] = el.text
            elif "ChildProtectionPlans" in current:  # CPPreviewDate
                # A review is a record of its own: the tag is the whole record.
                records.append(
                    ("CPPreviewDate", first_number + size - 1, {"review_date": el.text}, [])
                )

        raw_child = (person.get("child_id") or "").strip()
        person["child_id"] = raw_child
        if disabilities:
            person["disabilities"] = ",".join(disabilities)
            person["disability"] = "false" if disabilities == ["NONE"] else "true"
        self.tables["children"].add(first_number, person)
        self._records(raw_child, records)
        return size

    def _records(
        self, raw_child: str, records: list[tuple[str, int, dict[str, str | None], list[str]]]
    ) -> None:
        t = self.tables
        ref_key = ref_row = ""
        plan_key = plan_row = ""
        ref_seen: dict[str, int] = {}
        sub_seen: dict[str, int] = {}
        s47_icpc: list[dict[str, str | None]] = []
        ref_icpc: str | None = None
        for tag, number, values, codes in records:
            if tag == "CINdetails":
                _apply_referral_icpc(s47_icpc, ref_icpc)
                s47_icpc, sub_seen = [], {}
                date = (values.get("referral_date") or "").strip()
                ref_key = SEP.join(("referral", raw_child, date, _ordinal(ref_seen, date)))
                ref_row = str(number)
                ref_icpc = values.pop("icpc_date", None)
                t["referrals"].add(
                    number, {**values, "child_id": raw_child, "referral_id": ref_key}
                )
                continue
            common = {"child_id": raw_child, "referral_id": ref_key, PARENT_ROW: ref_row}
            if tag == "CPPreviewDate":
                t["cp_reviews"].add(
                    number,
                    {**values, "child_id": raw_child, "plan_id": plan_key, PARENT_ROW: plan_row},
                )
                continue
            name, id_col, date_col = _SUB_RECORDS[tag]
            date = (values.get(date_col) or "").strip()
            key = SEP.join((ref_key, name, date, _ordinal(sub_seen, f"{name}{SEP}{date}")))
            if tag == "Assessments":
                values["factors"] = ",".join(codes) if codes else None
            elif tag == "Section47":
                s47_icpc.append(values)
            elif tag == "ChildProtectionPlans":
                plan_key, plan_row = key, str(number)
            t[name].add(number, {**values, **common, id_col: key})
        _apply_referral_icpc(s47_icpc, ref_icpc)

    def flush(self) -> None:
        """Move the rows read so far into Arrow."""
        for rows in self.tables.values():
            rows.flush()

    def raw_tables(self) -> list[RawTable]:
        out: list[RawTable] = []
        for name in RECORD_TABLES:
            data = self.tables[name].table()
            if PARENT_ROW in data.column_names:
                idx = data.column_names.index(PARENT_ROW)
                data = data.set_column(idx, PARENT_ROW, data.column(PARENT_ROW).cast("int64"))
            keyed = tuple(
                c
                for c in ("referral_id", "assessment_id", "s47_id", "plan_id")
                if c in data.column_names
            )
            out.append(RawTable(name, data, LABELS[name], keyed=keyed))
        return out


_SUB_RECORDS = {
    "Assessments": ("assessments", "assessment_id", "start_date"),
    "CINPlanDates": ("cin_plans", "plan_id", "start_date"),
    "Section47": ("section47", "s47_id", "strategy_date"),
    "ChildProtectionPlans": ("cp_plans", "plan_id", "start_date"),
}


def _apply_referral_icpc(s47s: list[dict[str, str | None]], icpc: str | None) -> None:
    # Older returns hold DateOfInitialCPC on CINdetails; it belongs to the (last) enquiry.
    if icpc and s47s and not (s47s[-1].get("icpc_date") or "").strip():
        s47s[-1]["icpc_date"] = icpc


def _children(path: Path) -> Generator[tuple[etree._Element, int], int, None]:
    """Each Child element with its element number, clearing what has been read."""
    base: int | None = None
    events = etree.iterparse(str(path), events=("end",), tag="{*}Child", **_parser_args())
    for _, child in events:
        if base is None:
            root = child.getroottree().getroot()
            for i, el in enumerate(root.iter(etree.Element)):
                if el is child:
                    base = i
                    break
            else:  # pragma: no cover - the element is always in its own tree
                base = 0
        size = yield child, base + 1
        base += size or 0
        child.clear(keep_tail=False)
        parent = child.getparent()
        while child.getprevious() is not None and parent is not None:
            del parent[0]


def read(path: Path) -> tuple[list[RawTable], CinHeader]:
    """Every record of a CIN census file as raw tables, and its header."""
    root, header = root_and_header(path)
    if root != formats.CIN_ROOT:
        raise InputError(f"{path}: is not a CIN census file (root element <{root}>).")
    parser = _ChildParser()
    try:
        walker = _children(path)
        item = next(walker, None)
        read = 0
        while item is not None:
            child, number = item
            size = parser.parse(child, number)
            read += 1
            if read % FLUSH_EVERY == 0:
                parser.flush()
            try:
                item = walker.send(size)
            except StopIteration:
                item = None
    except etree.XMLSyntaxError as exc:
        raise InputError(
            f"{path}: the XML is malformed at line {exc.lineno} ({exc.msg}); nothing from this "
            "file was loaded."
        ) from exc
    return parser.raw_tables(), header
