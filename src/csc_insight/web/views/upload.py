"""/upload: admins upload returns and extracts, see them checked, then load them."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import uploads as upload_store
from csc_insight.appstate.users import ADMIN
from csc_insight.web import auth, context, pages, uploads
from csc_insight.web.auth import Admin
from csc_insight.web.formatting import format_datetime, format_number
from csc_insight.web.tables import Cell, DataTable

router = APIRouter(include_in_schema=False)
PAGE = pages.register(pages.Page("/upload", "Upload", pages.UPLOAD, role=ADMIN))
CHUNK = 1 << 20


@router.get("/upload")
def upload_page(request: Request, user: Admin) -> Response:
    recent = upload_store.recent(context.appstate(request))
    table = DataTable("uploads", "Recent uploads", ["Upload", "When", "By", "Files", "Status"])
    for u in recent:
        table.add(
            Cell(u.id, href=f"/upload/{u.id}"),
            Cell(format_datetime(u.created_at), u.created_at.isoformat()),
            u.user_name,
            ", ".join(f["name"] for f in u.files),
            u.status,
        )
    return context.render(
        request,
        "upload.html",
        {"title": "Upload data", "table": table, "error": None},
        tables=[table],
    )


@router.post("/upload")
async def receive(
    request: Request,
    user: Admin,
    files: list[UploadFile] = File(...),
    la_code: str = Form(""),
    collection_year: str = Form(""),
) -> Response:
    cfg = context.config(request)
    year: int | None = None
    if collection_year.strip():
        if not collection_year.strip().isdigit() or len(collection_year.strip()) != 4:
            return _form_error(request, "Enter the collection year as 4 digits, like 2025")
        year = int(collection_year.strip())
    chosen = [f for f in files if f.filename]
    if not chosen:
        return _form_error(request, "Select at least one file")
    state = context.appstate(request)
    names = []
    for f in chosen:
        name = uploads.safe_name(f.filename or "upload")
        while name in names:
            name = "copy-" + name
        names.append(name)
    upload_id = upload_store.create(state, user.name, [{"name": n} for n in names])
    target = uploads.folder(cfg.upload_dir, upload_id) / "files"
    target.mkdir(parents=True, exist_ok=True)
    sizes = []
    for f, name in zip(chosen, names, strict=True):
        size = 0
        with (target / name).open("wb") as out:
            while chunk := await f.read(CHUNK):
                size += len(chunk)
                out.write(chunk)
        sizes.append({"name": name, "bytes": size})
    auth.audit(
        request,
        audit_log.UPLOAD,
        target=upload_id,
        detail=", ".join(f"{s['name']} ({s['bytes']:,} bytes)" for s in sizes),
    )
    assert cfg.home is not None
    threading.Thread(
        target=uploads.check,
        args=(
            state,
            cfg.upload_dir,
            cfg.home,
            cfg.warehouse_url,
            upload_id,
            la_code.strip() or None,
            year,
        ),
        name=f"csc-check-{upload_id}",
        daemon=True,
    ).start()
    return RedirectResponse(f"/upload/{upload_id}", status_code=303)


def _form_error(request: Request, message: str) -> Response:
    return context.render(
        request,
        "upload.html",
        {"title": "Upload data", "table": None, "error": message},
        status_code=400,
    )


def _get(request: Request, upload_id: str) -> upload_store.Upload:
    try:
        uploads.folder(context.config(request).upload_dir, upload_id)
    except ValueError:
        raise HTTPException(404) from None
    found = upload_store.get(context.appstate(request), upload_id)
    if found is None:
        raise HTTPException(404)
    return found


def _reconciliation(report: dict[str, Any], table_id: str, caption: str) -> DataTable:
    table = DataTable(
        table_id,
        caption,
        ["File", "Dataset", "Table", "Read", "Loaded", "Quarantined"],
        numeric={3, 4, 5},
    )
    for f in report.get("files", []):
        for t in f["tables"]:
            table.add(
                Cell(f["source_file"]),
                f["dataset"],
                t["table"],
                Cell(format_number(t["read"]), t["read"]),
                Cell(format_number(t["loaded"]), t["loaded"]),
                Cell(format_number(t["quarantined"]), t["quarantined"]),
            )
    totals = report.get("totals") or {}
    if table.rows:
        table.add(
            Cell("Total"),
            "",
            "",
            Cell(format_number(totals.get("read", 0)), totals.get("read")),
            Cell(format_number(totals.get("loaded", 0)), totals.get("loaded")),
            Cell(format_number(totals.get("quarantined", 0)), totals.get("quarantined")),
        )
    return table


def _rules(validation: dict[str, Any], table_id: str, caption: str) -> DataTable:
    table = DataTable(
        table_id, caption, ["Rule", "Severity", "Table", "Message", "Rows"], numeric={4}
    )
    for r in validation.get("by_rule", []):
        table.add(
            r["code"],
            r["severity"],
            r["table"],
            r["message"],
            Cell(format_number(r["count"]), r["count"]),
        )
    return table


@router.get("/upload/{upload_id}")
def upload_status_page(request: Request, upload_id: str, user: Admin) -> Response:
    upload = _get(request, upload_id)
    tables: list[DataTable] = []
    ctx: dict[str, Any] = {"title": "Upload " + upload.id, "upload": upload}
    if upload.check_report:
        ingest = upload.check_report["ingest"]
        ctx["check"] = upload.check_report
        ctx["check_files"] = _reconciliation(
            ingest, "check-reconciliation", "Before loading: what would be loaded"
        )
        ctx["check_rules"] = _rules(
            upload.check_report["validation"],
            "check-validation",
            "Before loading: validation findings in these files",
        )
        reasons = DataTable(
            "check-quarantine", "Why rows would be set aside", ["Reason", "Rows"], numeric={1}
        )
        for reason, n in sorted(
            ingest.get("quarantine_reasons", {}).items(), key=lambda kv: -kv[1]
        ):
            reasons.add(reason, Cell(format_number(n), n))
        ctx["check_reasons"] = reasons
        tables += [ctx["check_files"], ctx["check_rules"], reasons]
    if upload.load_report:
        ctx["load"] = upload.load_report
        ctx["load_files"] = _reconciliation(
            upload.load_report["ingest"], "load-reconciliation", "After loading: what was loaded"
        )
        counts = DataTable(
            "load-counts",
            "Rows in each table, before and after the load",
            ["Table", "Before", "After", "Change"],
            numeric={1, 2, 3},
        )
        for c in upload.load_report["counts"]:
            change = c["after"] - c["before"]
            if c["before"] or c["after"]:
                counts.add(
                    c["table"],
                    Cell(format_number(c["before"]), c["before"]),
                    Cell(format_number(c["after"]), c["after"]),
                    Cell(("+" if change > 0 else "") + format_number(change), change),
                )
        ctx["load_counts"] = counts
        ctx["load_rules"] = _rules(
            upload.load_report["validation"],
            "load-validation",
            "After loading: validation findings in the whole warehouse",
        )
        tables += [ctx["load_files"], counts, ctx["load_rules"]]
    return context.render(request, "upload_status.html", ctx, tables=tables)


@router.get("/upload/{upload_id}/status")
def upload_status(request: Request, upload_id: str, user: Admin) -> Response:
    upload = _get(request, upload_id)
    return JSONResponse(
        {
            "status": upload.status,
            "stage": upload.stage,
            "progress": upload.progress,
            "busy": upload.busy,
        }
    )


@router.post("/upload/{upload_id}/load")
def confirm_load(request: Request, upload_id: str, user: Admin) -> Response:
    upload = _get(request, upload_id)
    if upload.status != upload_store.CHECKED:
        return RedirectResponse(f"/upload/{upload_id}", status_code=303)
    cfg = context.config(request)
    assert cfg.home is not None
    upload_store.update(
        context.appstate(request),
        upload_id,
        status=upload_store.LOADING,
        stage="Starting the load",
        progress=0.01,
    )
    threading.Thread(
        target=uploads.load,
        args=(
            context.appstate(request),
            cfg.upload_dir,
            cfg.home,
            cfg.warehouse_url,
            upload_id,
            context.service(request),
            user.name,
            user.role,
            auth.client_ip(request),
        ),
        name=f"csc-load-{upload_id}",
        daemon=True,
    ).start()
    return RedirectResponse(f"/upload/{upload_id}", status_code=303)


@router.post("/upload/{upload_id}/cancel")
def cancel(request: Request, upload_id: str, user: Admin) -> Response:
    upload = _get(request, upload_id)
    if upload.status == upload_store.CHECKED:
        upload_store.update(
            context.appstate(request), upload_id, status=upload_store.CANCELLED, stage="Cancelled"
        )
        import shutil

        shutil.rmtree(
            uploads.folder(context.config(request).upload_dir, upload_id), ignore_errors=True
        )
    return RedirectResponse(f"/upload/{upload_id}", status_code=303)
