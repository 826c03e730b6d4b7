"""Reading delimited text files as strings, the way every CSV reader here needs them.

Files come from many systems, so the encoding (UTF-8 with or without a byte-order mark,
UTF-16, Windows-1252, latin-1) and the delimiter (comma, semicolon, tab, pipe) are sniffed
from the start of the file rather than assumed; ``sniff`` says what was found so the caller
can tell the user. Memory stays bounded whatever the file: only the first 64 KB is read to
sniff, the body is parsed in blocks, and a line longer than a block is refused with a message
rather than read whole.

Rows that cannot be split into the header's columns (more fields than columns) are kept and
handed on with a negative ``source_row`` (see ``conform.UNSPLIT_REASON``), so conform
quarantines them with their row number instead of the whole file failing. Rows with fewer
fields than the header are read with the missing trailing fields blank.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from csc_insight.datasets.conform import SOURCE_ROW
from csc_insight.errors import InputError

# Windows exports from case management systems are often cp1252, not UTF-8; latin-1 decodes
# any byte, so it is the last resort.
ENCODINGS = ("utf-8", "cp1252", "latin-1")
SNIFF_BYTES = 64 * 1024
# pyarrow parses in blocks of this size.
BLOCK_BYTES = 1 << 24
# No line of a real export comes near this (a 903 row is under 1 KB; free text with line
# breaks is split into lines). Longer lines are refused before parsing, so a damaged file of
# gigabytes without a line break is never read into memory.
MAX_LINE_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes (|)"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "latin-1",
}
_COLUMNS_MISMATCH = re.compile(r"Expected (\d+) columns, got (\d+)")


@dataclass(frozen=True)
class TextFormat:
    """How a delimited text file is encoded and separated."""

    encoding: str
    delimiter: str

    def notes(self) -> list[str]:
        """Plain-English notes for anything other than comma-separated UTF-8."""
        out: list[str] = []
        if self.encoding.startswith("utf-16"):
            out.append("This looks like a UTF-16 file; it was read as UTF-16.")
        elif self.encoding in ("cp1252", "latin-1"):
            out.append(
                f"This file is not UTF-8; it was read as {ENCODING_NAMES[self.encoding]}. "
                "Check that names with accents look right."
            )
        if self.delimiter != ",":
            out.append(
                f"This file is separated by {DELIMITER_NAMES[self.delimiter]}, not commas; "
                "it was read that way."
            )
        return out


def sniff_encoding(head: bytes) -> str:
    """The Python codec that reads ``head`` (the first bytes of a file)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    sample = head[:4096]
    if len(sample) >= 4:
        evens, odds = sample[0::2], sample[1::2]
        if odds.count(0) > 0.9 * len(odds) and not evens.count(0):
            return "utf-16-le"
        if evens.count(0) > 0.9 * len(evens) and not odds.count(0):
            return "utf-16-be"
    for encoding in ENCODINGS:
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            # The sniffed bytes may end part-way through a multi-byte character.
            if encoding == "utf-8" and exc.start >= len(head) - 3 and len(head) >= SNIFF_BYTES:
                return encoding
    return "latin-1"  # pragma: no cover - latin-1 decodes every byte


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc


def _first_line(path: Path, head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    end = min((i for i in (text.find("\n"), text.find("\r")) if i >= 0), default=-1)
    if end < 0:
        if len(head) >= SNIFF_BYTES:
            raise InputError(
                f"{path}: its first line is longer than {SNIFF_BYTES // 1024} KB. A CSV file "
                "starts with a short line of column names; this file may be damaged or not a "
                "CSV export. Export it again as CSV."
            )
        return text
    return text[:end]


def sniff_delimiter(line: str) -> str:
    """The delimiter a header line uses: the commonest of comma, semicolon, tab and pipe."""
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def sniff(path: Path) -> TextFormat:
    """Encoding and delimiter of a delimited text file, from its first 64 KB."""
    head = _head(path)
    encoding = sniff_encoding(head)
    return TextFormat(encoding, sniff_delimiter(_first_line(path, head, encoding)))


def read_header(path: Path) -> list[str]:
    """The first row of a delimited text file (BOM and surrounding spaces removed).

    Raises InputError when the file cannot be a delimited text file (a first line longer
    than 64 KB, or bytes the csv module refuses).
    """
    return [h.strip() for h in _header_cells(path)]


def _header_cells(path: Path) -> list[str]:
    head = _head(path)
    if not head:
        return []
    encoding = sniff_encoding(head)
    line = _first_line(path, head, encoding)
    try:
        return next(csv.reader(io.StringIO(line), delimiter=sniff_delimiter(line)), [])
    except csv.Error as exc:
        raise InputError(f"{path}: the first line cannot be read as CSV ({exc}).") from exc


def read_strings(path: Path) -> tuple[pa.Table, list[str]]:
    """Every column of a CSV as strings, plus source_row (1-based data row).

    Rows where every field is blank (spreadsheet exports pad with them) are dropped before
    counting: they hold nothing to load or to quarantine. The last few files read are kept
    while unchanged (same size and modification time): ingest reads a 903 episodes table once
    to learn the return's year, then again to load it.
    """
    stat = path.stat()
    table, header = _read_strings(path, stat.st_size, stat.st_mtime_ns)
    return table, list(header)


@lru_cache(maxsize=4)
def _read_strings(path: Path, _size: int, _mtime_ns: int) -> tuple[pa.Table, tuple[str, ...]]:
    cells = _header_cells(path)
    header = [h.strip() for h in cells]
    if not header or not any(header):
        raise InputError(f"{path}: the file is empty or has no header row.")
    # Spreadsheet exports leave unnamed columns ("CHILD,SEX,,"): named so they can be read,
    # then ignored by every reader.
    cells = [c if c.strip() else f"column {i + 1}" for i, c in enumerate(cells)]
    header = [c.strip() for c in cells]
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError(f"{path}: the header repeats the column(s) {', '.join(dupes)}.")
    fmt = sniff(path)
    _check_line_lengths(path)
    tried = [fmt.encoding, *(e for e in ENCODINGS if e != fmt.encoding)]
    table: pa.Table | None = None
    for encoding in tried:
        try:
            table = _read_arrow(path, cells, encoding, fmt.delimiter)
            break
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "utf8" in message.lower() or "decode" in message.lower():
                continue  # try the next encoding
            if "straddling" in message:
                raise _too_long(path) from exc
            if _COLUMNS_MISMATCH.search(message):
                table = _read_python(path, header, encoding, fmt.delimiter)
                break
            raise InputError(
                f"{path}: cannot be read as CSV ({_short(exc)}). Nothing from this file was "
                "loaded; export it again as CSV."
            ) from exc
        except UnicodeDecodeError:
            continue
    if table is None:
        raise InputError(f"{path}: the characters in this file cannot be read in any encoding.")
    return drop_blank_rows(table), tuple(header)


def _too_long(path: Path) -> InputError:
    return InputError(
        f"{path}: a line in this file is longer than {MAX_LINE_BYTES >> 20} MB, so it is not "
        "a table csc-insight can read (the file may be damaged). Nothing from this file was "
        "loaded; export it again."
    )


def _check_line_lengths(path: Path) -> None:
    """Refuse a file with a line longer than MAX_LINE_BYTES, reading it in 1 MB chunks."""
    since_newline = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if not len(ends):
                since_newline += len(chunk)
            else:
                first = since_newline + int(ends[0])
                inner = int(np.diff(ends).max()) if len(ends) > 1 else 0
                if max(first, inner) > MAX_LINE_BYTES:
                    raise _too_long(path)
                since_newline = len(chunk) - int(ends[-1]) - 1
            if since_newline > MAX_LINE_BYTES:
                raise _too_long(path)


def _read_arrow(path: Path, cells: list[str], encoding: str, delimiter: str) -> pa.Table:
    table = pv.read_csv(
        path,
        read_options=pv.ReadOptions(
            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            block_size=BLOCK_BYTES,
            column_names=cells,
            skip_rows=1,
        ),
        parse_options=pv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pv.ConvertOptions(
            column_types=dict.fromkeys(cells, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    table = table.rename_columns([c.strip() for c in table.column_names])
    return table.append_column(SOURCE_ROW, pa.array(np.arange(1, table.num_rows + 1)))


def _read_python(path: Path, header: list[str], encoding: str, delimiter: str) -> pa.Table:
    """The slow path for files with ragged rows: short rows padded, long rows set aside."""
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    rows: list[int] = []
    try:
        with path.open(encoding=encoding, newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            next(reader, None)
            for number, fields in enumerate(reader, start=1):
                if not any(x.strip() for x in fields):
                    continue
                if len(fields) > width:
                    rows.append(-number)  # conform quarantines it
                    for col in columns:
                        col.append(None)
                    continue
                rows.append(number)
                for i, col in enumerate(columns):
                    col.append(fields[i] if i < len(fields) else "")
    except csv.Error as exc:
        raise InputError(
            f"{path}: cannot be read as CSV ({exc}; often a double quote that is never "
            "closed, so the rest of the file reads as one value). Nothing from this file was "
            "loaded; fix the file or export it again."
        ) from exc
    arrays = {h: pa.array(col, pa.string()) for h, col in zip(header, columns, strict=True)}
    arrays[SOURCE_ROW] = pa.array(rows, pa.int64())
    return pa.table(arrays)


def drop_blank_rows(table: pa.Table) -> pa.Table:
    """Rows with at least one non-blank field (and rows that could not be split)."""
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
    if keep is None:
        return table
    if SOURCE_ROW in table.column_names:
        keep = pc.or_(keep, pc.less(table.column(SOURCE_ROW), 0))
    return table.filter(keep)


def normalise(name: str) -> str:
    """A header reduced to lower-case letters and digits joined by single underscores."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _short(exc: Exception | None) -> str:
    # pyarrow quotes the offending row after a colon; it may hold a child's identifier.
    text = str(exc).splitlines()[0] if exc else "unknown error"
    return text.split(": ", 2)[1] if text.startswith("CSV parse error: ") else text
