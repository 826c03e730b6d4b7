"""Reading delimited text files as strings, the way every CSV reader here needs them."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from csc_insight.datasets.conform import SOURCE_ROW
from csc_insight.errors import InputError

# Windows exports from case management systems are often cp1252, not UTF-8.
ENCODINGS = ("utf-8", "cp1252")
SNIFF_BYTES = 64 * 1024


def read_header(path: Path) -> list[str]:
    """The first row of a delimited text file (BOM and surrounding spaces removed)."""
    raw = path.read_bytes()[:SNIFF_BYTES] if path.stat().st_size else b""
    for encoding in ENCODINGS:
        try:
            text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
            break
        except UnicodeDecodeError:
            continue
    first = next(csv.reader(io.StringIO(text)), [])
    return [h.strip() for h in first]


def read_strings(path: Path) -> tuple[pa.Table, list[str]]:
    """Every column of a CSV as strings, plus source_row (1-based data row).

    Rows where every field is blank (spreadsheet exports pad with them) are dropped before
    counting: they hold nothing to load or to quarantine.
    """
    header = read_header(path)
    if not header or not any(header):
        raise InputError(f"{path}: the file is empty or has no header row.")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError(f"{path}: the header repeats the column(s) {', '.join(dupes)}.")
    last_error: Exception | None = None
    for encoding in ENCODINGS:
        try:
            table = pv.read_csv(
                path,
                read_options=pv.ReadOptions(encoding=encoding, block_size=1 << 24),
                parse_options=pv.ParseOptions(newlines_in_values=True),
                convert_options=pv.ConvertOptions(
                    column_types=dict.fromkeys(header, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            break
        except pa.ArrowInvalid as exc:
            last_error = exc
            if "UTF8" not in str(exc) and "utf8" not in str(exc).lower():
                raise InputError(f"{path}: cannot be read as CSV ({_short(exc)}).") from exc
    else:
        raise InputError(f"{path}: cannot be read as CSV ({_short(last_error)}).")
    table = table.rename_columns([c.strip() for c in table.column_names])
    table = table.append_column(SOURCE_ROW, pa.array(np.arange(1, table.num_rows + 1)))
    return drop_blank_rows(table), header


def drop_blank_rows(table: pa.Table) -> pa.Table:
    """Rows with at least one non-blank field."""
    if not table.num_rows:
        return table
    keep = None
    for name in table.column_names:
        if name == SOURCE_ROW:
            continue
        col = table.column(name)
        filled = pc.not_equal(pc.utf8_trim_whitespace(col), "")
        filled = pc.fill_null(filled, False)
        keep = filled if keep is None else pc.or_(keep, filled)
    return table if keep is None else table.filter(keep)


def normalise(name: str) -> str:
    """A header reduced to lower-case letters and digits joined by single underscores."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _short(exc: Exception | None) -> str:
    return str(exc).splitlines()[0] if exc else "unknown error"
