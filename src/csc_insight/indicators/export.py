"""Indicator results as rows, CSV and Excel workbooks (always after disclosure control)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from pathlib import Path
from typing import Any

import xlsxwriter

from csc_insight.errors import ConfigError
from csc_insight.indicators.registry import IndicatorResult

COLUMNS = (
    "id",
    "title",
    "period",
    "breakdown_dimension",
    "breakdown_value",
    "value",
    "numerator",
    "denominator",
    "unit",
    "polarity",
    "suppressed",
    "target",
    "status",
    "definition",
)


def as_json(results: list[IndicatorResult]) -> list[dict[str, Any]]:
    """The JSON interface: one object per figure (``breakdown`` null or {dimension: value})."""
    out = []
    for r in results:
        row = asdict(r)
        row.pop("extra", None)
        out.append(row)
    return out


def as_rows(results: list[IndicatorResult]) -> list[dict[str, Any]]:
    """Flat rows for CSV and spreadsheets, suppressed figures shown as 'c'."""
    rows = []
    for r in results:
        dims = r.breakdown or {}
        row: dict[str, Any] = {
            "id": r.id,
            "title": r.title,
            "period": r.period,
            "breakdown_dimension": ", ".join(dims) or None,
            "breakdown_value": ", ".join(dims.values()) or None,
            "value": "c" if r.suppressed else r.value,
            "numerator": "c" if r.suppressed else r.numerator,
            "denominator": "c" if r.suppressed else r.denominator,
            "unit": r.unit,
            "polarity": r.polarity,
            "suppressed": r.suppressed,
            "target": r.target,
            "status": r.status,
            "definition": r.definition,
        }
        rows.append(row)
    return rows


def to_csv(results: list[IndicatorResult]) -> str:
    """Results as CSV text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(as_rows(results))
    return buffer.getvalue()


def write(results: list[IndicatorResult], path: Path) -> None:
    """Write results to ``path``: .csv or .xlsx by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(to_csv(results), encoding="utf-8")
        return
    if suffix != ".xlsx":
        raise ConfigError(f"{path.name}: indicators can be written as .csv or .xlsx.")
    book = xlsxwriter.Workbook(str(path))
    try:
        sheet = book.add_worksheet("Indicators")
        bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        sheet.write_row(0, 0, COLUMNS, bold)
        for i, row in enumerate(as_rows(results), start=1):
            sheet.write_row(i, 0, [row[c] for c in COLUMNS])
        sheet.freeze_panes(1, 2)
        sheet.autofilter(0, 0, len(results), len(COLUMNS) - 1)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 1, 45)
        sheet.set_column(len(COLUMNS) - 1, len(COLUMNS) - 1, 80)
        notes = book.add_worksheet("About")
        notes.write(
            0,
            0,
            "Figures from csc-insight. 'c' marks a figure hidden because it "
            "counts, or is worked out from, 1 to 5 children (with the next "
            "smallest group hidden too where the total would reveal it).",
        )
    finally:
        book.close()
