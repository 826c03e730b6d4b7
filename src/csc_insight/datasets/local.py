"""Local extracts (csc-insight's own contract, CSV or xlsx) -> services, attendance, feedback.

Headers are matched case- and punctuation-insensitively (``Date Requested`` is
``date_requested``). Dates may be ISO or dd/mm/yyyy. A service extract that also carries
child characteristics feeds the children table, so children who never reached social care
still count in equal-access analysis.

A workbook is read from the first sheet whose header row (within the first rows, below any
title) meets a contract; source_row is then the 1-based row below that header.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.datasets import formats
from csc_insight.datasets.annex_a import cell_text
from csc_insight.datasets.conform import SOURCE_ROW, RawTable, blank_to_null, children_per_child
from csc_insight.datasets.tabular import drop_blank_rows, normalise, read_strings
from csc_insight.datasets.workbook import sheet_rows
from csc_insight.errors import InputError

CHILD_COLUMNS = formats.CHILD_OPTIONAL


def match(header: list[str]) -> tuple[str | None, str | None]:
    """(contract name, None) for the local contract a header meets, or (None, why not)."""
    names = {normalise(h) for h in header}
    best: tuple[int, str] | None = None
    near: tuple[float, str, list[str]] | None = None
    for name, contract in formats.LOCAL_CONTRACTS.items():
        missing = [c for c in contract.required if c not in names]
        if not missing:
            if best is None or len(contract.required) > best[0]:
                best = (len(contract.required), name)
            continue
        share = 1 - len(missing) / len(contract.required)
        if share >= 0.5 and (near is None or share > near[0]):
            near = (share, name, missing)
    if best is not None:
        return best[1], None
    if near is not None:
        return None, (
            f"looks like a local {near[1]} extract but has no {', '.join(near[2])} column"
        )
    return None, None


HEADER_SEARCH_ROWS = 20
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def sheet_match(path: Path) -> tuple[str | None, str | None, str | None]:
    """(contract, sheet, None) for the first sheet of a workbook that meets a local contract,
    else (None, None, why not) when a sheet comes close."""
    near: str | None = None
    for sheet, header_row, rows in _sheets(path, nrows=HEADER_SEARCH_ROWS):
        contract, why = match(_cells(rows[header_row]))
        if contract is not None:
            return contract, sheet, None
        near = near or why
    return None, None, near


def _sheets(path: Path, nrows: int | None = None) -> list[tuple[str, int, list[list[object]]]]:
    """(sheet name, index of its likeliest header row, rows) for every sheet with rows;
    only the first ``nrows`` rows when given (enough to recognise a header)."""
    out: list[tuple[str, int, list[list[object]]]] = []
    for name, all_rows in sheet_rows(path):
        rows = all_rows if nrows is None else all_rows[:nrows]
        if not rows:
            continue
        scored = [
            (_header_score(_cells(row)), i) for i, row in enumerate(rows[:HEADER_SEARCH_ROWS])
        ]
        best = max(scored, key=lambda t: (t[0], -t[1]))
        out.append((name, best[1], rows))
    return out


def _cells(row: Sequence[object]) -> list[str]:
    return [cell_text(c) or "" for c in row]


def _header_score(cells: list[str]) -> int:
    names = {normalise(c) for c in cells if c}
    return max(len(names & set(c.required)) for c in formats.LOCAL_CONTRACTS.values())


def _read_workbook(path: Path, contract: str) -> pa.Table:
    """The first sheet of a workbook meeting ``contract``: string columns plus source_row."""
    for name, header_row, rows in _sheets(path):
        if match(_cells(rows[header_row]))[0] != contract:
            continue
        header = [c.strip() for c in _cells(rows[header_row])]
        named = [h for h in header if h]
        if len(set(named)) != len(named):
            dupes = sorted({h for h in named if named.count(h) > 1})
            raise InputError(f"{path}: sheet {name!r} repeats the column(s) {', '.join(dupes)}.")
        body = [_cells(r) for r in rows[header_row + 1 :]]
        columns = {
            h: pa.array([r[i] if i < len(r) else "" for r in body], pa.string())
            for i, h in enumerate(header)
            if h
        }
        columns[SOURCE_ROW] = pa.array(np.arange(1, len(body) + 1), pa.int64())
        return drop_blank_rows(pa.table(columns))
    raise InputError(f"{path}: no sheet has the columns of a local {contract} extract.")


def _is_workbook(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4).startswith(_SPREADSHEET_MAGIC)


def _by_contract_name(data: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    """Columns renamed to contract names, with the file's own names kept for messages."""
    labels = {normalise(c): c for c in data.column_names if c != SOURCE_ROW}
    renamed = [normalise(c) if c != SOURCE_ROW else c for c in data.column_names]
    return data.rename_columns(renamed), labels


def read(path: Path, contract: str) -> list[RawTable]:
    """Raw rows of one local extract (CSV or workbook), bound for their canonical tables."""
    data = _read_workbook(path, contract) if _is_workbook(path) else read_strings(path)[0]
    data, labels = _by_contract_name(data)
    if contract == "service_involvements":
        return _service_involvements(data, labels)
    if contract == "attendance":
        return [_attendance(data, labels), _children_seen(data, labels)]
    # child_id is optional in a feedback extract: anonymous surveys name no child.
    seen = [_children_seen(data, labels)] if "child_id" in data.column_names else []
    return [*_feedback(data, labels), *seen]


def _children_seen(data: pa.Table, labels: dict[str, str]) -> RawTable:
    # Every child named in any dataset is a child known to the authority, even when this
    # extract says nothing else about them.
    rows = children_per_child(_select(data, ("child_id",)))
    return RawTable("children", rows, labels, required=("child_id",), dedupe=False)


def _select(data: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    present = [c for c in columns if c in data.column_names]
    return data.select([*present, SOURCE_ROW])


def _service_involvements(data: pa.Table, labels: dict[str, str]) -> list[RawTable]:
    out = [
        RawTable(
            "service_involvements",
            _select(
                data,
                (
                    "involvement_id",
                    "child_id",
                    "service",
                    "team",
                    "date_requested",
                    "date_started",
                    "date_ended",
                    "outcome",
                ),
            ),
            labels,
        )
    ]
    if any(c in data.column_names for c in CHILD_COLUMNS):
        out.append(
            RawTable(
                "children",
                children_per_child(_select(data, ("child_id", *CHILD_COLUMNS))),
                labels,
                required=("child_id",),
                dedupe=False,
            )
        )
    return out


def _attendance(data: pa.Table, labels: dict[str, str]) -> RawTable:
    def attended_within_possible(t: pa.Table) -> tuple[pa.Array, str, str]:
        over = pc.greater(t.column("sessions_attended"), t.column("sessions_possible"))
        return over, "sessions_attended", "more sessions attended than were possible"

    def period_in_order(t: pa.Table) -> tuple[pa.Array, str, str]:
        backwards = pc.less(t.column("period_end"), t.column("period_start"))
        return backwards, "period_end", "the period ends before it starts"

    def not_negative(t: pa.Table) -> tuple[pa.Array, str, str]:
        neg = pc.or_(
            pc.less(t.column("sessions_possible"), 0), pc.less(t.column("sessions_attended"), 0)
        )
        return neg, "sessions_possible", "a session count is negative"

    columns = formats.LOCAL_CONTRACTS["attendance"].required
    return RawTable(
        "attendance",
        _select(data, columns),
        labels,
        checks=(not_negative, attended_within_possible, period_in_order),
    )


def _feedback(data: pa.Table, labels: dict[str, str]) -> list[RawTable]:
    feedback = RawTable(
        "feedback",
        _select(
            data,
            ("response_id", "service", "response_date", "respondent_type", "child_id", "free_text"),
        ),
        labels,
    )
    items = [c for c in data.column_names if c.startswith(formats.LIKERT_PREFIX)]
    items += [c for c in formats.FEEDBACK_RATINGS if c in data.column_names]
    parts: list[pa.Table] = []
    for item in items:
        answers = blank_to_null(data.column(item).combine_chunks())
        answered = pc.is_valid(answers)
        label = labels[item]
        # The survey's own wording, without the contract's q_ marker; an overall rating is
        # named with its scale so the analysis knows it.
        shown = (
            formats.FEEDBACK_RATINGS[item][0]
            if item in formats.FEEDBACK_RATINGS
            else label[len(formats.LIKERT_PREFIX) :]
            if label.lower().startswith(formats.LIKERT_PREFIX)
            else label
        )
        parts.append(
            pa.table(
                {
                    "response_id": data.column("response_id").filter(answered),
                    "item": pa.array(
                        np.full(pc.sum(answered).as_py() or 0, shown, dtype=object), pa.string()
                    ),
                    "score": answers.filter(answered),
                    SOURCE_ROW: data.column(SOURCE_ROW).filter(answered),
                }
            )
        )

    ten = pa.array(
        [label for label, top in formats.FEEDBACK_RATINGS.values() if top == 10], pa.string()
    )

    def out_of(t: pa.Table, top: int) -> pa.Array:
        on_scale = pc.is_in(t.column("item"), ten)
        if top == 5:
            on_scale = pc.invert(on_scale)
        score = t.column("score")
        return pc.and_(on_scale, pc.or_(pc.less(score, 1), pc.greater(score, top)))

    def score_in_range(t: pa.Table) -> tuple[pa.Array, str, str]:
        return out_of(t, 5), "score", "the score is not between 1 and 5"

    def rating_in_range(t: pa.Table) -> tuple[pa.Array, str, str]:
        return out_of(t, 10), "score", "the 1-10 rating is not between 1 and 10"

    schema = pa.schema(
        [
            ("response_id", pa.string()),
            ("item", pa.string()),
            ("score", pa.string()),
            (SOURCE_ROW, pa.int64()),
        ]
    )
    scores = pa.concat_tables([p.cast(schema) for p in parts]) if parts else schema.empty_table()
    return [
        feedback,
        RawTable(
            "feedback_scores",
            scores,
            {"score": "score"},
            checks=(score_in_range, rating_in_range),
        ),
    ]
