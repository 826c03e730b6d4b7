"""Spreadsheets read once: every sheet's cells, kept while the same file is asked for again.

Recognising a workbook (local extract or Annex A?) and then reading it used to parse every
sheet two or three times; parsing is most of the cost of an Annex A workbook.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import cast

from python_calamine import CalamineWorkbook

from csc_insight.errors import InputError

SheetRows = list[list[object]]


def open_workbook(path: Path) -> CalamineWorkbook:
    """The workbook at ``path``, or a clear error if it is not a spreadsheet."""
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for every kind of bad file
        raise InputError(f"{path}: cannot be opened as a spreadsheet ({exc}).") from exc


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, without reading any sheet's cells."""
    book = open_workbook(path)
    try:
        return list(book.sheet_names)
    finally:
        book.close()


def sheet_rows(path: Path) -> list[tuple[str, SheetRows]]:
    """(sheet name, rows of cells) for every sheet, in workbook order.

    The result is shared between callers while the file is unchanged (same path, size and
    modification time): treat it as read-only.
    """
    stat = path.stat()
    return _sheet_rows(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _sheet_rows(path: str, _size: int, _mtime_ns: int) -> list[tuple[str, SheetRows]]:
    book = open_workbook(Path(path))
    out: list[tuple[str, SheetRows]] = []
    for name in book.sheet_names:
        try:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:  # a damaged sheet is reported, not guessed around
            raise InputError(f"{path}: sheet {name!r} cannot be read ({exc}).") from exc
        out.append((name, cast(SheetRows, rows)))  # already a list of lists: not copied
    return out
