"""/data-quality: validation findings by rule, and the reconciliation of every load.

The child-level findings behind a rule (/data-quality/findings) are for analysts only, and
each view is audited. /data (the earlier "Data loaded" page) now leads here.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from csc_insight.appstate import audit as audit_log
from csc_insight.web import auth, context, pages
from csc_insight.web.auth import Analyst, Viewer
from csc_insight.web.formatting import format_datetime, format_number
from csc_insight.web.tables import Cell, DataTable

router = APIRouter(include_in_schema=False)
PAGE = pages.register(pages.Page("/data-quality", "Data quality", pages.DATA_QUALITY))
LOADS_SHOWN = 100


def _n(value: Any) -> Cell:
    number = int(value or 0)
    return Cell(format_number(number), number)


@router.get("/data")
def data_loaded() -> Response:
    return RedirectResponse("/data-quality", status_code=301)


@router.get("/data-quality")
@context.cached_page
def data_quality(request: Request, user: Viewer) -> Response:
    svc = context.service(request)
    fmt = context.formatter(request, user)
    counts = svc.counts()

    tables_table = DataTable(
        "tables", "Rows in each table", ["Table", "Rows", "What it holds"], numeric={1}
    )
    for c in counts:
        shown = fmt.count(c.rows) if c.about_children else format_number(c.rows)
        tables_table.add(Cell(c.name), Cell(shown, None if shown == "c" else c.rows), c.description)

    rules = svc.findings_by_rule()
    findings_table = DataTable(
        "findings",
        "Validation findings by rule",
        ["Rule", "Source", "Severity", "Table", "Message", "Rows", "Children"],
        numeric={5, 6},
    )
    for r in rules:
        rows_text = fmt.count(r["findings"])
        children_text = fmt.count(r["children"])
        link = f"/data-quality/findings?rule={r['rule_code']}" if fmt.role != "viewer" else None
        findings_table.add(
            Cell(str(r["rule_code"]), href=link),
            str(r.get("source") or ""),
            str(r["severity"]),
            str(r["target_table"]),
            str(r["message"]),
            Cell(rows_text, None if rows_text == "c" else r["findings"]),
            Cell(children_text, None if children_text == "c" else r["children"]),
        )

    loads = svc.loads()
    loads_table = DataTable(
        "loads",
        "Loads, newest first",
        ["Load", "Finished", "Version", "Rows read", "Rows loaded", "Rows quarantined"],
        numeric={3, 4, 5},
    )
    for load in loads[:LOADS_SHOWN]:
        loads_table.add(
            Cell(str(load["load_id"])),
            Cell(format_datetime(load["finished_at"]), str(load["finished_at"] or "")),
            str(load["csc_insight_version"] or ""),
            _n(load["rows_read"]),
            _n(load["rows_loaded"]),
            _n(load["rows_quarantined"]),
        )
    if len(loads) > LOADS_SHOWN:
        loads_table.note = f"Only the newest {LOADS_SHOWN} loads are shown."

    files_table = DataTable(
        "reconciliation",
        "Reconciliation of every load: each file's rows read, loaded and set aside",
        [
            "File",
            "Load",
            "Dataset",
            "Table",
            "Year",
            "Read",
            "Loaded",
            "Quarantined",
            "Accounted for",
        ],
        numeric={5, 6, 7},
    )
    for f in svc.load_files():
        read, loaded, quarantined = (
            int(f[k] or 0) for k in ("rows_read", "rows_loaded", "rows_quarantined")
        )
        files_table.add(
            Cell(str(f["source_file"])),
            str(f["load_id"]),
            str(f["dataset"]),
            str(f["target_table"]),
            "" if f["collection_year"] is None else str(f["collection_year"]),
            _n(read),
            _n(loaded),
            _n(quarantined),
            "Yes" if read == loaded + quarantined else "No: check the load report",
        )

    reasons_table = DataTable(
        "quarantine",
        "Why rows were set aside (quarantined)",
        ["Reason", "Load", "Table", "Rows"],
        numeric={3},
    )
    for q in svc.quarantine_reasons():
        reasons_table.add(
            str(q["reason"]), str(q["load_id"]), str(q["target_table"]), _n(q["rows"])
        )

    tables = [findings_table, files_table, reasons_table, loads_table, tables_table]
    return context.render(
        request,
        "data_quality.html",
        {
            "title": "Data quality",
            "run": svc.validation_run(),
            "total_findings": sum(int(r["findings"]) for r in rules),
            "findings_table": findings_table,
            "files_table": files_table,
            "reasons_table": reasons_table,
            "loads_table": loads_table,
            "tables_table": tables_table,
            "empty": svc.is_empty(),
        },
        tables=tables,
    )


@router.get("/data-quality/findings")
def findings(request: Request, user: Analyst, rule: str | None = None) -> Response:
    svc = context.service(request)
    found = svc.findings(rule)
    auth.audit(
        request,
        audit_log.CHILD_LEVEL_VIEW,
        target=request.url.path,
        detail=json.dumps({"list": "validation findings", "rule": rule, "rows": found.num_rows}),
    )
    columns = [
        "rule_code",
        "severity",
        "target_table",
        "child_id",
        "source_file",
        "source_row",
        "message",
    ]
    table = DataTable(
        "child-findings",
        f"Findings for rule {rule}" if rule else "Every finding",
        ["Rule", "Severity", "Table", "Child (pseudonym)", "File", "Row", "Message"],
        numeric={5},
        child_level=True,
        caption_size="s",
        display_limit=500,
    )
    for row in found.select(columns).to_pylist():
        table.add(
            *[
                Cell("" if row[c] is None else str(row[c]), row[c] if c == "source_row" else None)
                for c in columns
            ]
        )
    return context.render(
        request,
        "findings.html",
        {"title": table.caption, "table": table, "count": found.num_rows},
        tables=[table],
    )
