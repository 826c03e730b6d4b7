"""Typing raw columns against the canonical model, with quarantine instead of failure.

Readers hand over strings exactly as the file held them, under canonical column names. This
module is the one place that decides what a valid date, boolean or number is, pseudonymises
child identifiers, and sets aside (with a plain-English reason) every row it cannot load.
Everything is vectorised with pyarrow/numpy so a national CIN census year types in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from csc_insight.privacy.pseudonymise import PSEUDONYM_HEX_CHARS, Pseudonymiser
from csc_insight.warehouse import model

SOURCE_ROW = "source_row"
# Helper column a reader may add: the source_row of the record this row belongs to (e.g. the
# referral of an assessment), so rows whose parent was quarantined follow it.
PARENT_ROW = "_parent_row"

# A date outside these years is a typing slip (0202, 2202), not a child's record.
MIN_YEAR, MAX_YEAR = 1900, 2100
ACCEPTED_DATES = "dd/mm/yyyy or yyyy-mm-dd"

TRUE_WORDS = ("y", "yes", "true", "t", "1")
FALSE_WORDS = ("n", "no", "false", "f", "0")

_ISO_DATE = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"
_UK_DATE = r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"
# Spreadsheets and some exports append a time to a date; the time carries no meaning here.
_TIME_SUFFIX = r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
_INTEGER = r"^[+-]?\d{1,18}(\.0*)?$"
# Excel's serial day numbers (a date cell exported as a number): 10000 is 1927-05-18 and
# 73050 is 2099-12-31; day 0 of the 1900 system is 1899-12-30 (25569 days before 1970).
_EXCEL_SERIAL = r"^\d{5}(\.0*)?$"
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 10000, 73050
_EXCEL_EPOCH_OFFSET = 25569
# Rows a reader could not split into columns carry -source_row (see tabular.py).
UNSPLIT_REASON = (
    "the row has more fields than the header has columns (often an unquoted comma), so it "
    "could not be split into columns"
)
# Columns whose dates may lie in the future (an unborn child's expected birth).
FUTURE_ALLOWED = frozenset({"expected_date_of_birth"})
_FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"

# (mask of rows failing the check, column the message names, reason)
Check = Callable[[pa.Table], tuple[pa.Array, str, str]]


@dataclass
class RawTable:
    """Rows of one file bound for one canonical table, still as the file's strings.

    ``data`` holds string columns named after model columns (any subset), ``source_row``
    (int64) and optionally ``_parent_row``. ``labels`` maps canonical names to the file's own
    names for messages. ``keyed`` columns hold composite raw keys (joined with \\x1f) that are
    replaced by keyed hashes, so derived identifiers never reveal a child identifier.
    """

    table: str
    data: pa.Table
    labels: dict[str, str] = field(default_factory=dict)
    keyed: tuple[str, ...] = ()
    constants: dict[str, object] = field(default_factory=dict)
    # Overrides the model's required columns, for sources that only add to a table
    # (a local extract may know a child's locality but not their sex).
    required: tuple[str, ...] | None = None
    checks: tuple[Check, ...] = ()
    # Natural-key duplicates within one file are quarantined (the last row is kept).
    dedupe: bool = True


@dataclass
class Conformed:
    """A RawTable after typing: loadable rows and quarantined rows."""

    table: str
    rows: pa.Table
    quarantine: pa.Table
    read: int

    @property
    def loaded(self) -> int:
        return self.rows.num_rows

    @property
    def quarantined(self) -> int:
        return self.quarantine.num_rows

    def quarantined_rows(self) -> pa.Array:
        """source_row of every quarantined row, for cascading to dependent records."""
        return self.quarantine.column(SOURCE_ROW).combine_chunks()


# --- parsers (public so property tests can exercise them) --------------------------------
def blank_to_null(values: pa.Array) -> pa.Array:
    """Strings stripped of surrounding whitespace; empty strings become null."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    stripped = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(stripped, ""), None, stripped)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    # Howard Hinnant's days_from_civil: proleptic Gregorian date -> days since 1970-01-01.
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return lengths[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)


def parse_dates(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse dd/mm/yyyy or yyyy-mm-dd (optionally followed by a time) into date32.

    An Excel serial day number (45382, or 45382.0) is read as the date it stands for.

    Returns (dates, invalid): ``invalid`` is True where a non-blank value is not a real date.
    """
    text = blank_to_null(values)
    text = pc.replace_substring_regex(text, _TIME_SUFFIX, "")
    n = len(text)
    ymd = np.zeros((3, n), dtype=np.int64)
    matched = np.zeros(n, dtype=bool)
    for pattern in (_ISO_DATE, _UK_DATE):
        parts = pc.extract_regex(text, pattern)
        ok = pc.fill_null(pc.is_valid(parts), False).to_numpy(zero_copy_only=False)
        if not ok.any():
            continue
        for i, name in enumerate(("y", "m", "d")):
            # Unmatched rows are null; "0" keeps the int cast happy and is masked out below.
            col = pc.fill_null(pc.struct_field(parts, name), "0")
            ymd[i] = np.where(ok & ~matched, pc.cast(col, pa.int64()).to_numpy(), ymd[i])
        matched |= ok
    y, m, d = ymd
    valid = (
        matched
        & (y >= MIN_YEAR)
        & (y <= MAX_YEAR)
        & (m >= 1)
        & (m <= 12)
        & (d >= 1)
        & (d <= _days_in_month(y, m))
    )
    days = np.where(valid, _days_from_civil(y, m, d), 0)
    serial_ok = pc.fill_null(pc.match_substring_regex(text, _EXCEL_SERIAL), False)
    serial_ok = serial_ok.to_numpy(zero_copy_only=False) & ~matched
    if serial_ok.any():
        picked = pc.if_else(pa.array(serial_ok), text, "0")
        whole = pc.replace_substring_regex(picked, r"\.0*$", "")
        serial = pc.cast(pc.fill_null(whole, "0"), pa.int64()).to_numpy()
        serial_ok &= (serial >= EXCEL_SERIAL_MIN) & (serial <= EXCEL_SERIAL_MAX)
        days = np.where(serial_ok, serial - _EXCEL_EPOCH_OFFSET, days)
        valid |= serial_ok
    days = days.astype(np.int32)
    dates = pa.array(days, type=pa.int32(), mask=~valid).cast(pa.date32())
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    return dates, pa.array(present & ~valid)


def parse_booleans(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse Y/N, yes/no, true/false, 1/0 (any case) into booleans; others are invalid."""
    text = pc.utf8_lower(blank_to_null(values))
    is_true = pc.is_in(text, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(text, value_set=pa.array(FALSE_WORDS))
    known = pc.or_(is_true, is_false)
    result = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    invalid = pc.and_(pc.is_valid(text), pc.invert(known))
    return result, pc.fill_null(invalid, False)


def parse_integers(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse whole numbers, accepting a trailing ".0" as spreadsheets write them."""
    text = blank_to_null(values)
    ok = pc.fill_null(pc.match_substring_regex(text, _INTEGER), False)
    whole = pc.replace_substring_regex(pc.if_else(ok, text, None), r"\.0*$", "")
    result = pc.cast(pc.replace_substring_regex(whole, r"^\+", ""), pa.int64())
    invalid = pc.and_(pc.is_valid(text), pc.invert(ok))
    return result, pc.fill_null(invalid, False)


def parse_floats(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse decimal numbers."""
    text = blank_to_null(values)
    ok = pc.fill_null(pc.match_substring_regex(text, _FLOAT), False)
    result = pc.cast(pc.if_else(ok, text, None), pa.float64())
    invalid = pc.and_(pc.is_valid(text), pc.invert(ok))
    return result, pc.fill_null(invalid, False)


_PARSERS: dict[str, Callable[[pa.Array], tuple[pa.Array, pa.Array]]] = {
    "date": parse_dates,
    "boolean": parse_booleans,
    "int64": parse_integers,
    "float64": parse_floats,
}
_EXPECTED: dict[str, str] = {
    "date": f"is not a date in a format we accept ({ACCEPTED_DATES})",
    "boolean": "is not a yes/no value (Y/N, 1/0, true/false)",
    "int64": "is not a whole number",
    "float64": "is not a number",
}


# --- keyed identifiers --------------------------------------------------------------------
def keyed_hashes(
    pseudonymiser: Pseudonymiser,
    la_code: str,
    values: pa.Array,
    memo: dict[tuple[bytes, str], dict[str, str]] | None = None,
) -> pa.Array:
    """Keyed hashes of a string column, computed once per distinct value; nulls stay null.

    Equal to ``pseudonymiser.child_id(la_code, value)`` for every value (a test holds them
    together), but the HMAC is keyed once rather than per value: at national scale this is
    the difference between seconds and tens of seconds. ``memo`` (one per file, dropped with
    it) keeps the hashes already computed, so a child identifier repeated in every table of a
    file is hashed once.
    """
    text = blank_to_null(values)
    distinct = pc.unique(text).drop_null()
    inner, outer = _hmac_states(pseudonymiser.key)
    inner.update(f"{la_code}\x1f".encode())

    def one(value: str) -> str:
        i = inner.copy()
        i.update(value.strip().encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:PSEUDONYM_HEX_CHARS]

    wanted = distinct.to_pylist()
    if memo is None:
        hashed = [one(v) for v in wanted]
    else:
        known = memo.setdefault((pseudonymiser.key, la_code), {})
        missing = [v for v in wanted if v not in known]
        known.update(zip(missing, map(one, missing), strict=True))
        hashed = list(map(known.__getitem__, wanted))
    return pc.take(pa.array(hashed, pa.string()), pc.index_in(text, value_set=distinct))


def _hmac_states(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the HMAC inner and outer pads (RFC 2104)."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


# --- conform ------------------------------------------------------------------------------
def _label(raw: RawTable, column: str) -> str:
    return raw.labels.get(column, column)


def _quoted_value(text: pa.Array, raw_child: pa.Array | None) -> pa.Array:
    """' "value"' for messages, or '' where the value is the row's child identifier."""
    shown = pc.utf8_slice_codeunits(text, 0, 40)
    quoted = pc.binary_join_element_wise(" '", shown, "'", "")
    if raw_child is not None:
        same = pc.fill_null(pc.equal(text, raw_child), False)
        quoted = pc.if_else(same, "", quoted)
    return pc.fill_null(quoted, "")


def _first_reason(
    reasons: pa.Array | None,
    columns: pa.Array | None,
    bad: pa.Array,
    reason: pa.Array | str,
    column: str,
) -> tuple[pa.Array, pa.Array]:
    """Record ``reason`` on rows that are bad and have no earlier reason."""
    n = len(bad)
    if reasons is None or columns is None:
        reasons = pa.nulls(n, pa.string())
        columns = pa.nulls(n, pa.string())
    fresh = pc.and_(pc.fill_null(bad, False), pc.is_null(reasons))
    reason_arr = reason if isinstance(reason, pa.Array) else pa.scalar(reason, pa.string())
    reasons = pc.if_else(fresh, reason_arr, reasons)
    columns = pc.if_else(fresh, pa.scalar(column, pa.string()), columns)
    return reasons, columns


def conform(
    raw: RawTable,
    *,
    la_code: str,
    load_id: str,
    source_file: str,
    pseudonymiser: Pseudonymiser,
    rejected_parents: pa.Array | None = None,
    parent_name: str = "record it belongs to",
    return_year: int | None = None,
    today: date | None = None,
    hash_memo: dict[tuple[bytes, str], dict[str, str]] | None = None,
) -> Conformed:
    """Type ``raw`` against its canonical table; rows that cannot be typed go to quarantine.

    ``return_year`` is the collection year of a return that states it (the CIN census
    header): a date after its 31 March is impossible in that return. A date after ``today``
    (default: the real today) is impossible in any file, except an expected date of birth.
    ``hash_memo`` is shared by the tables of one file (see ``keyed_hashes``).
    """
    target = model.table(raw.table)
    data = raw.data
    n = data.num_rows
    required = (
        set(raw.required)
        if raw.required is not None
        else {c.name for c in target.columns if c.required}
    )
    raw_child = (
        blank_to_null(data.column("child_id").combine_chunks())
        if "child_id" in data.column_names
        else None
    )
    out: dict[str, pa.Array] = {}
    reasons: pa.Array | None = None
    columns: pa.Array | None = None
    source_rows = data.column(SOURCE_ROW).combine_chunks().cast(pa.int64())
    if n and pc.any(pc.less(source_rows, 0)).as_py():
        reasons, columns = _first_reason(
            reasons, columns, pc.less(source_rows, 0), UNSPLIT_REASON, ""
        )
        source_rows = pc.abs(source_rows)
    latest = _latest_dates(return_year, today)

    if rejected_parents is not None and PARENT_ROW in data.column_names and n:
        orphan = pc.is_in(data.column(PARENT_ROW).combine_chunks(), value_set=rejected_parents)
        reasons, columns = _first_reason(
            reasons, columns, orphan, f"the {parent_name} was set aside", ""
        )

    for col in target.columns:
        name = col.name
        if name == "la_code" and "la_code" not in data.column_names:
            out[name] = pa.array([la_code] * n, pa.string())
            continue
        if name == "la_code":
            # Files covering many authorities (population estimates) name one per row.
            given = blank_to_null(data.column("la_code").combine_chunks())
            out[name] = pc.if_else(pc.is_null(given), la_code, pc.utf8_upper(given))
            continue
        if name in raw.constants:
            value = raw.constants[name]
            out[name] = pa.array([value] * n, target.arrow_schema().field(name).type)
        elif name not in data.column_names:
            out[name] = pa.nulls(n, target.arrow_schema().field(name).type)
        else:
            values = data.column(name).combine_chunks()
            if name in raw.keyed or (name == "child_id" and col.dtype == "string"):
                out[name] = keyed_hashes(pseudonymiser, la_code, values, hash_memo)
            elif col.dtype in _PARSERS:
                typed, invalid = _PARSERS[col.dtype](values)
                text = blank_to_null(values)
                message = pc.binary_join_element_wise(
                    f"{_label(raw, name)}",
                    _quoted_value(text, raw_child),
                    f" {_EXPECTED[col.dtype]}",
                    "",
                )
                reasons, columns = _first_reason(
                    reasons, columns, invalid, message, _label(raw, name)
                )
                if col.dtype == "date" and name not in FUTURE_ALLOWED:
                    for limit, why in latest:
                        late = pc.fill_null(pc.greater(typed, pa.scalar(limit)), False)
                        message = pc.binary_join_element_wise(
                            _label(raw, name), _quoted_value(text, raw_child), f" {why}", ""
                        )
                        reasons, columns = _first_reason(
                            reasons, columns, late, message, _label(raw, name)
                        )
                out[name] = typed
            else:
                out[name] = blank_to_null(values)
        if name in required and n:
            missing = pc.is_null(out[name])
            what = "the child identifier" if name == "child_id" else _label(raw, name)
            reasons, columns = _first_reason(
                reasons, columns, missing, f"{what} is blank but required", _label(raw, name)
            )

    typed_table = pa.table(out)
    for check in raw.checks:
        bad, column, reason = check(typed_table)
        reasons, columns = _first_reason(reasons, columns, bad, reason, _label(raw, column))

    if raw.dedupe and n and target.name != "children":
        later = _earlier_duplicates(typed_table, target.key)
        keys = ", ".join(_label(raw, k) for k in target.key if k != "la_code")
        reasons, columns = _first_reason(
            reasons,
            columns,
            later,
            f"a later row has the same {keys}; the later row was kept",
            "",
        )

    lineage = {
        "load_id": pa.array([load_id] * n, pa.string()),
        "source_file": pa.array([source_file] * n, pa.string()),
        "source_row": source_rows,
    }
    full = pa.table({**out, **lineage}, schema=target.arrow_schema())
    if reasons is None or columns is None:
        return Conformed(raw.table, full, empty_quarantine(), n)
    bad_rows = pc.is_valid(reasons)
    quarantine = pa.table(
        {
            "load_id": pa.array([load_id] * n, pa.string()),
            "source_file": pa.array([source_file] * n, pa.string()),
            "source_row": source_rows,
            "target_table": pa.array([raw.table] * n, pa.string()),
            "column_name": pc.if_else(pc.equal(columns, ""), None, columns),
            "reason": reasons,
        },
        schema=model.table("quarantine").arrow_schema(),
    ).filter(bad_rows)
    return Conformed(raw.table, full.filter(pc.invert(bad_rows)), quarantine, n)


def _latest_dates(return_year: int | None, today: date | None) -> list[tuple[date, str]]:
    """(latest possible date, why a later one is impossible), most specific first."""
    out: list[tuple[date, str]] = []
    if return_year is not None and MIN_YEAR < return_year <= MAX_YEAR:
        end = date(return_year, 3, 31)
        out.append(
            (
                end,
                f"is after the end of the {return_year - 1}-{return_year % 100:02d} return "
                f"({end:%d/%m/%Y}), so it cannot be right",
            )
        )
    now = today or date.today()
    out.append((now, f"is in the future (after {now:%d/%m/%Y}), so it cannot be right"))
    return out


def _earlier_duplicates(rows: pa.Table, key: Sequence[str]) -> pa.Array:
    """True for rows whose natural key appears again later in the same file."""
    n = rows.num_rows
    indexed = rows.select(list(key)).append_column("_i", pa.array(np.arange(n)))
    last = indexed.group_by(list(key), use_threads=False).aggregate([("_i", "max")])
    keep = np.zeros(n, dtype=bool)
    keep[last.column("_i_max").to_numpy()] = True
    return pa.array(~keep)


def empty_quarantine() -> pa.Table:
    return model.table("quarantine").arrow_schema().empty_table()


def string_table(
    columns: Mapping[str, Sequence[str | None]], source_rows: Sequence[int]
) -> pa.Table:
    """A raw table from Python lists, with source_row."""
    arrays = {k: pa.array(v, pa.string()) for k, v in columns.items()}
    arrays[SOURCE_ROW] = pa.array(source_rows, pa.int64())
    return pa.table(arrays)


def children_per_child(rows: pa.Table) -> pa.Table:
    """One row per child: the last non-blank value of each characteristic.

    A service extract repeats a child's characteristics on every request; a later row
    reflects the later recording. source_row is the child's last row.
    """
    cleaned = {
        c: blank_to_null(rows.column(c).combine_chunks()) if c != SOURCE_ROW else rows.column(c)
        for c in rows.column_names
    }
    table = pa.table(cleaned).filter(pc.is_valid(cleaned["child_id"]))
    others = [c for c in table.column_names if c != "child_id"]
    grouped = table.group_by("child_id", use_threads=False).aggregate(
        [(c, "last", pc.ScalarAggregateOptions(skip_nulls=c != SOURCE_ROW)) for c in others]
    )
    grouped = grouped.rename_columns([c.removesuffix("_last") for c in grouped.column_names])
    order = pc.sort_indices(grouped.column(SOURCE_ROW))
    return grouped.take(order)
