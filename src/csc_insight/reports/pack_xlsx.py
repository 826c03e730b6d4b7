"""The meeting pack as an xlsx workbook: no macros, styled, one sheet per area.

Sheets: Summary (what the pack covers), Scorecard, Concerns, Improvements, Actions, one
sheet per area of the service (its figures, then their monthly values), Data quality and
Definitions. The viewer edition carries the same suppression as the PDF ("c" for counts
from 1 to the threshold and for figures worked out from them) and no child-level rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter

from csc_insight.concerns import words
from csc_insight.concerns.detect import Finding

if TYPE_CHECKING:
    from csc_insight.reports.pack import Pack

BLUE = "#1d70b8"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


class _Book:
    """A workbook with the pack's formats."""

    def __init__(self, path: Path) -> None:
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        self.wb.set_properties(
            {"title": "Performance meeting pack", "author": "csc-insight", "comments": ""}
        )
        self.title = self.wb.add_format({"bold": True, "font_size": 16, "font_color": BLUE})
        self.subtitle = self.wb.add_format({"bold": True, "font_size": 12})
        self.header = self.wb.add_format(
            {
                "bold": True,
                "bg_color": BLUE,
                "font_color": "#ffffff",
                "text_wrap": True,
                "valign": "top",
                "border": 1,
            }
        )
        self.text = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self.plain = self.wb.add_format({"valign": "top"})
        self.number = self.wb.add_format({"num_format": "#,##0.0", "valign": "top"})
        self.whole = self.wb.add_format({"num_format": "#,##0", "valign": "top"})
        self.note = self.wb.add_format({"italic": True, "font_color": "#505a5f", "text_wrap": True})
        self.rag = {
            "red": self.wb.add_format(
                {"bg_color": "#f6d7d2", "font_color": "#942514", "bold": True}
            ),
            "amber": self.wb.add_format(
                {"bg_color": "#fff2cc", "font_color": "#594d00", "bold": True}
            ),
            "green": self.wb.add_format(
                {"bg_color": "#cce2d8", "font_color": "#005a30", "bold": True}
            ),
        }
        self.names: set[str] = set()

    def sheet(self, name: str) -> Any:
        clean = _BAD_SHEET_CHARS.sub(" ", name)[:31].strip() or "Sheet"
        base, n = clean, 2
        while clean.lower() in self.names:
            clean = f"{base[:28]} {n}"
            n += 1
        self.names.add(clean.lower())
        return self.wb.add_worksheet(clean)

    def table(
        self,
        ws: Any,
        row: int,
        headers: list[str],
        rows: list[list[Any]],
        widths: list[int] | None = None,
        formats: list[Any] | None = None,
    ) -> int:
        """Write a header and rows from ``row``; returns the next free row."""
        for c, h in enumerate(headers):
            ws.write(row, c, h, self.header)
            if widths:
                ws.set_column(c, c, widths[c])
        for r, values in enumerate(rows, start=row + 1):
            for c, value in enumerate(values):
                fmt = (formats[c] if formats else None) or self.text
                if isinstance(value, tuple):  # (text, format)
                    ws.write(r, c, value[0], value[1])
                elif value is None:
                    ws.write_blank(r, c, None, fmt)
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(r, c, value, fmt)
                else:
                    ws.write_string(r, c, str(value), fmt)
        return row + len(rows) + 2


def _value(value: float | None, suppressed: bool) -> Any:
    if suppressed:
        return "c"
    return value


def _findings_sheet(book: _Book, name: str, title: str, found: list[Finding]) -> None:
    ws = book.sheet(name)
    ws.write(0, 0, title, book.title)
    rows = [
        [
            i,
            f.title,
            f.area_title,
            f.severity,
            ", ".join(f.tags),
            f.sentence,
            "\n".join([*(e.detail for e in f.evidence), *f.caveats]),
            ", ".join(f.indicator_ids),
        ]
        for i, f in enumerate(found, start=1)
    ]
    book.table(
        ws,
        2,
        [
            "Rank",
            "Area of concern" if name == "Concerns" else "Area of improvement",
            "Service area",
            "Severity",
            "Signs",
            "In words",
            "Evidence",
            "Indicators",
        ],
        rows,
        [6, 34, 22, 9, 26, 70, 70, 26],
    )
    ws.freeze_panes(3, 2)


def write_xlsx(pack: Pack, path: Path) -> Path:
    """Write the workbook (no macros: a plain .xlsx)."""
    book = _Book(path)
    viewer = pack.audience == "viewer"

    ws = book.sheet("Summary")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 100)
    ws.write(0, 0, "Performance meeting pack", book.title)
    facts = [
        ("Authority", pack.authority + (f" ({pack.la_code})" if pack.la_code else "")),
        ("Period", f"{pack.period}: {pack.period_text}"),
        ("Compared with", pack.previous_period),
        ("Data loaded to", pack.data_to),
        ("Generated", pack.generated.strftime("%d %B %Y %H:%M") + f" (csc-insight {pack.version})"),
        ("Edition", pack.edition),
        ("Areas of concern", str(len(pack.concerns))),
        ("Areas of improvement", str(len(pack.improvements))),
        ("Actions", pack.actions_note),
    ]
    for r, (k, v) in enumerate(facts, start=2):
        ws.write_string(r, 0, k, book.subtitle)
        ws.write_string(r, 1, v, book.text)
    row = len(facts) + 3
    ws.write(row, 0, "What this pack covers", book.subtitle)
    book.table(
        ws,
        row + 1,
        ["Source", "Used", "Note"],
        [[c.title, "yes" if c.included else "no", c.note] for c in pack.findings.coverage],
    )

    ws = book.sheet("Scorecard")
    ws.write(0, 0, f"Headline scorecard, {pack.period}", book.title)
    headers = [
        "Id",
        "Indicator",
        "Area",
        "Value",
        "Numerator",
        "Denominator",
        "Unit",
        "Target",
        "RAG",
        pack.previous_period,
        "Trend",
        "Monthly chart",
        "England",
        "Neighbours (average)",
        "Owner",
    ]
    rows = []
    for s in pack.scorecard:
        rag = (s.rag_text, book.rag[s.rag]) if s.rag else s.rag_text
        rows.append(
            [
                s.id,
                s.title,
                dict((k, t) for k, t, _ in pack.areas).get(s.area, s.area),
                _value(s.value, s.suppressed),
                _value(s.numerator, s.suppressed),
                _value(s.denominator, s.suppressed),
                s.unit,
                s.target_text,
                rag,
                s.previous_text,
                s.trend_text,
                s.spc_text,
                s.england_text,
                s.sn_text,
                s.owner,
            ]
        )
    formats = [None, None, None, book.number, book.whole, book.whole] + [None] * 9
    book.table(
        ws, 2, headers, rows, [28, 44, 22, 10, 11, 12, 12, 10, 18, 10, 22, 16, 10, 12, 22], formats
    )
    ws.freeze_panes(3, 2)
    ws.autofilter(2, 0, 2 + len(rows), len(headers) - 1)

    _findings_sheet(
        book, "Concerns", f"Areas of concern, {pack.period} (most serious first)", pack.concerns
    )
    _findings_sheet(book, "Improvements", f"Areas of improvement, {pack.period}", pack.improvements)

    ws = book.sheet("Actions")
    ws.write(0, 0, "Action plan", book.title)
    ws.write(1, 0, pack.actions_note, book.note)
    rows = []
    for item in pack.actions:
        a = item.action
        rows.append(
            [
                a.id,
                a.title,
                a.description,
                a.owner,
                a.due_date.isoformat() if a.due_date else None,
                item.state,
                ", ".join(a.indicator_ids),
                a.concern,
                "\n".join(m.sentence for m in item.movements),
                "\n".join(f"{r.on.isoformat()} ({r.by}): {r.note}" for r in a.reviews),
            ]
        )
    book.table(
        ws,
        3,
        [
            "#",
            "Action",
            "Description",
            "Owner",
            "Due",
            "Status",
            "Indicators",
            "Concern",
            "Did its indicators move?",
            "Reviews",
        ],
        rows,
        [5, 34, 40, 20, 12, 12, 26, 26, 60, 50],
    )

    series = pack.findings.series
    for _key, title, area_rows in pack.areas:
        ws = book.sheet(title)
        ws.write(0, 0, f"{title}, {pack.period}", book.title)
        rows = [
            [
                s.id,
                s.title,
                _value(s.value, s.suppressed),
                _value(s.numerator, s.suppressed),
                _value(s.denominator, s.suppressed),
                s.target_text,
                (s.rag_text, book.rag[s.rag]) if s.rag else s.rag_text,
                s.previous_text,
                s.trend_text,
                s.england_text,
                s.sn_text,
            ]
            for s in area_rows
        ]
        next_row = book.table(
            ws,
            2,
            [
                "Id",
                "Indicator",
                "Value",
                "Numerator",
                "Denominator",
                "Target",
                "RAG",
                pack.previous_period,
                "Trend",
                "England",
                "Neighbours",
            ],
            rows,
            [28, 44, 10, 11, 12, 10, 18, 10, 22, 10, 12],
            [None, None, book.number, book.whole, book.whole] + [None] * 6,
        )
        monthly = [series[s.id] for s in area_rows if s.id in series and series[s.id].labels]
        if not monthly:
            continue
        labels = sorted({label for m in monthly for label in m.labels})
        ws.write(next_row, 0, "Monthly values (the control charts' data)", book.subtitle)
        month_rows = []
        for label in labels:
            line: list[Any] = [words.month_name(label)]
            for m in monthly:
                if label not in m.labels:
                    line.append(None)
                    continue
                i = m.labels.index(label)
                small = viewer and any(
                    v is not None and 0 < v <= pack.threshold
                    for v in (m.numerators[i], m.denominators[i])
                )
                line.append("c" if small else m.values[i])
            month_rows.append(line)
        book.table(
            ws,
            next_row + 1,
            ["Month", *[m.title for m in monthly]],
            month_rows,
            [16, *([18] * len(monthly))],
            [None, *([book.number] * len(monthly))],
        )

    ws = book.sheet("Data quality")
    dq = pack.findings.data_quality
    ws.write(0, 0, "Data quality", book.title)
    ws.write(1, 0, dq.note, book.note)
    nxt = book.table(
        ws,
        3,
        ["Table", "Rows", "Failing a rule", "Quarantined", "Share affected (%)"],
        [
            [t["table"], t["rows"], t["failing"], t["quarantined"], t["share_pct"]]
            for t in dq.tables
        ],
        [26, 12, 14, 12, 18],
        [None, book.whole, book.whole, book.whole, book.number],
    )
    nxt = book.table(
        ws,
        nxt,
        ["Rule", "Severity", "Table", "Message", "Rows"],
        [[r["code"], r["severity"], r["table"], r["message"], r["count"]] for r in dq.rules],
        [26, 12, 14, 80, 10],
    )
    if not viewer and dq.children:
        ws.write(
            nxt, 0, "Children with the most findings (pseudonymised; analysts only)", book.subtitle
        )
        book.table(
            ws,
            nxt + 1,
            ["Child (pseudonym)", "Findings"],
            [[c["child_id"], c["findings"]] for c in dq.children],
        )

    ws = book.sheet("Definitions")
    ws.write(0, 0, "Definitions", book.title)
    book.table(
        ws,
        2,
        ["Id", "Indicator", "Definition", "Unit", "Better", "Reads"],
        [
            [d["id"], d["title"], d["definition"], d["unit"], d["polarity"], d["source"]]
            for d in pack.definitions
        ],
        [28, 40, 100, 18, 22, 26],
    )
    book.wb.close()
    return path


__all__ = ["write_xlsx"]
