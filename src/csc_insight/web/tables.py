"""Tables shown on pages, and the same tables as CSV or Excel downloads.

A view builds ``DataTable`` objects; the page shows them with ``_data_table.html`` and
``context.respond`` serves any of them as ``?download=ID&format=csv|xlsx``, so every table
on screen can be downloaded exactly as shown (suppressed figures stay "c").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup


@dataclass(frozen=True)
class Cell:
    """One cell: what is shown, and what goes in a download (a number where there is one)."""

    text: str
    value: Any = None
    href: str | None = None
    html: Markup | None = None

    @property
    def export(self) -> Any:
        return self.text if self.value is None else self.value


@dataclass
class DataTable:
    """A captioned table; the first column heads each row."""

    id: str
    caption: str
    columns: list[str]
    numeric: set[int] = field(default_factory=set)
    rows: list[list[Cell]] = field(default_factory=list)
    child_level: bool = False  # rows are about individual (pseudonymised) children
    caption_size: str = "m"
    note: str | None = None
    display_limit: int | None = None  # show only the first rows (downloads have them all)

    @property
    def shown(self) -> list[list[Cell]]:
        return self.rows if self.display_limit is None else self.rows[: self.display_limit]

    def add(self, *cells: Cell | str | None) -> None:
        self.rows.append(
            [c if isinstance(c, Cell) else Cell("" if c is None else str(c)) for c in cells]
        )


def to_csv(table: DataTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if c.export is None else c.export for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM tells Excel it is UTF-8


def to_xlsx(table: DataTable) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    try:
        sheet = workbook.add_worksheet(table.id[:31])
        bold = workbook.add_format({"bold": True})
        sheet.write(0, 0, table.caption, bold)
        sheet.write_row(2, 0, table.columns, bold)
        for i, row in enumerate(table.rows, start=3):
            for j, cell in enumerate(row):
                value = cell.export
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(i, j, value)
                else:
                    sheet.write_string(i, j, "" if value is None else str(value))
        if table.note:
            sheet.write(len(table.rows) + 4, 0, table.note)
        sheet.set_column(0, 0, 40)
        sheet.set_column(1, max(1, len(table.columns) - 1), 16)
    finally:
        workbook.close()
    return buffer.getvalue()
