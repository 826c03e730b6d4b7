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

from lxml import etree

from csc_insight.datasets import formats
from csc_insight.datasets.conform import PARENT_ROW, RawTable, string_table
from csc_insight.errors import InputError

SEP = "\x1f"
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
    """Column lists for one target table, appended to row by row."""

    columns: tuple[str, ...]
    data: dict[str, list[str | None]] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = {c: [] for c in self.columns}

    def add(self, row: int, values: dict[str, str | None]) -> None:
        self.rows.append(row)
        for c in self.columns:
            self.data[c].append(values.get(c))


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
_RECORD_TAGS = {"CINdetails", "Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"}


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
        for size, el in enumerate(child.iter(etree.Element), start=1):
            tag = el.tag
            if tag[0] == "{":
                tag = _local(tag)
            number = first_number + size - 1
            if tag in _RECORD_TAGS:
                rec: tuple[int, dict[str, str | None], list[str]] = (number, {}, [])
                current[tag] = rec
                if tag == "CINdetails":
                    for inner in (
                        "Assessments",
                        "CINPlanDates",
                        "Section47",
                        "ChildProtectionPlans",
                    ):
                        current.pop(inner, None)
                records.append((tag, number, rec[1], rec[2]))
                continue
            text = el.text
            if tag in _CHILD_FIELDS:
                person[_CHILD_FIELDS[tag]] = text
            elif tag == "Disability":
                if text and text.strip():
                    disabilities.append(text.strip())
            elif tag in _REFERRAL_FIELDS and "CINdetails" in current:
                current["CINdetails"][1][_REFERRAL_FIELDS[tag]] = text
            elif tag in _ASSESSMENT_FIELDS and "Assessments" in current:
                current["Assessments"][1][_ASSESSMENT_FIELDS[tag]] = text
            elif tag == "AssessmentFactors" and "Assessments" in current:
                if text and text.strip():
                    current["Assessments"][2].append(text.strip())
            elif tag in _CIN_PLAN_FIELDS and "CINPlanDates" in current:
                current["CINPlanDates"][1][_CIN_PLAN_FIELDS[tag]] = text
            elif tag in _S47_FIELDS and "Section47" in current:
                current["Section47"][1][_S47_FIELDS[tag]] = text
            elif tag == "DateOfInitialCPC":
                parent = el.getparent()
                owner = _local(parent.tag) if parent is not None else ""
                if owner == "Section47" and "Section47" in current:
                    current["Section47"][1]["icpc_date"] = text
                elif "CINdetails" in current:
                    current["CINdetails"][1]["icpc_date"] = text
            elif tag in _CPP_FIELDS and "ChildProtectionPlans" in current:
                current["ChildProtectionPlans"][1][_CPP_FIELDS[tag]] = text
            elif tag == "CPPreviewDate" and "ChildProtectionPlans" in current:
                # A review is a record of its own: the tag is the whole record.
                records.append(("CPPreviewDate", number, {"review_date": text}, []))

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

    def raw_tables(self) -> list[RawTable]:
        out: list[RawTable] = []
        for name in RECORD_TABLES:
            rows = self.tables[name]
            data = string_table(rows.data, rows.rows)
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
        while item is not None:
            child, number = item
            size = parser.parse(child, number)
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
