"""Uploads from the browser: check the files on their own, then load them, in the background.

1. **Check** (starts as soon as the files arrive): the files are loaded into a scratch
   warehouse in the upload's folder and validated there, so the admin sees the
   reconciliation (every row read, loaded or set aside, and why) and the validation
   findings *before* anything touches the authority's warehouse; files already loaded are
   named.
2. **Load** (when the admin confirms): the same files go into the warehouse as one atomic
   load; the rules are run again over the whole warehouse; the page shows the load's
   reconciliation and the rows in each table before and after. Pages keep showing the
   previous data until the load commits, then the cache starts afresh.

Progress is written to the app state, so any server process can show it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from csc_insight.appstate import AppState
from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import uploads as upload_store
from csc_insight.warehouse.store import Warehouse
from csc_insight.web.service import DataService

log = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")
PROGRESS_EVERY_SECONDS = 0.5


def safe_name(name: str) -> str:
    """A file name without folders or odd characters (the content says what a file is)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip(" .") or "upload"
    return cleaned[:150]


def folder(upload_dir: Path, upload_id: str) -> Path:
    if not re.fullmatch(r"[0-9T]+-[0-9a-f]+", upload_id):
        raise ValueError("not an upload id")
    return upload_dir / upload_id


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Progress:
    """Ingest progress written to the app state at most twice a second."""

    def __init__(self, state: AppState, upload_id: str, low: float, high: float) -> None:
        self.state, self.upload_id, self.low, self.high = state, upload_id, low, high
        self.last = 0.0

    def __call__(self, label: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS and fraction < 1:
            return
        self.last = now
        value = self.low + (self.high - self.low) * min(max(fraction, 0.0), 1.0)
        upload_store.update(self.state, self.upload_id, stage=label, progress=value)


def _options(home: Path, la_code: str | None, year: int | None) -> dict[str, Any]:
    return {"la_code": la_code or None, "collection_year": year}


def check(
    state: AppState,
    upload_dir: Path,
    home: Path,
    warehouse_url: str,
    upload_id: str,
    la_code: str | None = None,
    collection_year: int | None = None,
) -> None:
    """Step 1, in the background: load into a scratch warehouse and validate there."""
    from csc_insight.ingest import ingest
    from csc_insight.privacy.options import PrivacyOptions
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
    from csc_insight.rules import run as run_rules

    where = folder(upload_dir, upload_id)
    files = where / "files"
    scratch = where / "check.duckdb"
    try:
        upload_store.update(
            state, upload_id, status=upload_store.CHECKING, stage="Reading the files", progress=0.02
        )
        hashes = {p.name: sha256(p) for p in sorted(files.iterdir()) if p.is_file()}
        with Warehouse.connect(warehouse_url) as live:
            earlier = live.loaded_files()
        already = [
            {"file": name, "load_id": earlier[h][0], "as": earlier[h][1]}
            for name, h in hashes.items()
            if h in earlier
        ]
        with Warehouse.connect(f"duckdb://{scratch}") as wh:
            report = ingest(
                [files],
                wh,
                Pseudonymiser(load_or_create_key(home)),
                progress=_Progress(state, upload_id, 0.05, 0.8),
                privacy=PrivacyOptions.from_settings(home, keep_lookup=False),
                **_options(home, la_code, collection_year),
            )
            upload_store.update(
                state, upload_id, stage="Checking the validation rules", progress=0.85
            )
            run = run_rules(wh, collection_year=collection_year)
        summary = run.to_dict()
        result = {
            "ingest": report.to_json(),
            "validation": {
                "findings": summary["findings"],
                "rules_checked": summary["rules_checked"],
                "by_rule": [r for r in summary["by_rule"] if r["count"]],
                "children": len(summary["by_child"]),
            },
            "already_in_warehouse": already,
            "options": {"la_code": la_code, "collection_year": collection_year},
        }
        upload_store.update(
            state,
            upload_id,
            status=upload_store.CHECKED,
            stage="Checked",
            progress=1.0,
            check_report=result,
        )
    except Exception as exc:  # shown on the upload's page; details in the server log
        log.exception("checking upload %s failed", upload_id)
        upload_store.update(
            state, upload_id, status=upload_store.FAILED, stage="Failed", error=_plain(exc)
        )
    finally:
        for leftover in (scratch, scratch.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)


_LOAD_LOCK = threading.Lock()  # one load at a time per server process


def load(
    state: AppState,
    upload_dir: Path,
    home: Path,
    warehouse_url: str,
    upload_id: str,
    service: DataService,
    user: str,
    role: str,
    ip: str | None,
) -> None:
    """Step 2, in the background: load into the warehouse, re-validate, reconcile."""
    from csc_insight.ingest import ingest
    from csc_insight.privacy.options import PrivacyOptions
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
    from csc_insight.rules import run as run_rules

    upload = upload_store.get(state, upload_id)
    assert upload is not None and upload.check_report is not None
    options = upload.check_report.get("options") or {}
    files = folder(upload_dir, upload_id) / "files"
    try:
        with _LOAD_LOCK:
            upload_store.update(
                state,
                upload_id,
                status=upload_store.LOADING,
                stage="Waiting to load",
                progress=0.02,
            )
            with Warehouse.connect(warehouse_url) as wh:
                before = wh.counts()
                report = ingest(
                    [files],
                    wh,
                    Pseudonymiser(load_or_create_key(home)),
                    progress=_Progress(state, upload_id, 0.05, 0.75),
                    privacy=PrivacyOptions.from_settings(home),
                    la_code=options.get("la_code"),
                    collection_year=options.get("collection_year"),
                )
                upload_store.update(
                    state, upload_id, stage="Validating the whole warehouse", progress=0.8
                )
                run = run_rules(wh, collection_year=options.get("collection_year"))
                after = wh.counts()
        service.invalidate()
        service.warm()
        payload = report.to_json()
        summary = run.to_dict()
        result = {
            "ingest": payload,
            "counts": [
                {"table": name, "before": before.get(name, 0), "after": after.get(name, 0)}
                for name in after
            ],
            "validation": {
                "findings": summary["findings"],
                "rules_checked": summary["rules_checked"],
                "by_rule": [r for r in summary["by_rule"] if r["count"]],
            },
        }
        upload_store.update(
            state,
            upload_id,
            status=upload_store.LOADED,
            stage="Loaded",
            progress=1.0,
            load_report=result,
        )
        audit_log.record(
            state,
            audit_log.LOAD,
            user=user,
            role=role,
            target=upload_id,
            detail=f"load {payload['load_id']}: {payload['totals']}",
            ip=ip,
        )
        shutil.rmtree(files, ignore_errors=True)  # the warehouse holds the data now
    except Exception as exc:
        log.exception("loading upload %s failed", upload_id)
        upload_store.update(
            state, upload_id, status=upload_store.FAILED, stage="Failed", error=_plain(exc)
        )


def _plain(exc: Exception) -> str:
    from csc_insight.errors import CscInsightError

    if isinstance(exc, CscInsightError):
        return str(exc)
    return (
        f"csc-insight stopped unexpectedly ({type(exc).__name__}); nothing was changed in "
        "the warehouse unless the page says the load finished. The details are in the "
        "server's log."
    )
