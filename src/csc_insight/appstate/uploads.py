"""Uploads: a browser upload's progress and results, kept so any server process can show them."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csc_insight.appstate.store import AppState, iso, now, parse_iso

RECEIVED = "received"
CHECKING = "checking"
CHECKED = "checked"
LOADING = "loading"
LOADED = "loaded"
FAILED = "failed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Upload:
    id: str
    created_at: datetime
    updated_at: datetime
    user_name: str
    status: str
    stage: str
    progress: float
    files: list[dict[str, Any]]
    check_report: dict[str, Any] | None
    load_report: dict[str, Any] | None
    error: str | None

    @property
    def busy(self) -> bool:
        return self.status in (RECEIVED, CHECKING, LOADING)


def create(state: AppState, user: str, files: list[dict[str, Any]]) -> str:
    upload_id = now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(6)
    stamp = iso(now())
    with state.transaction() as tx:
        tx.execute(
            "INSERT INTO uploads (id, created_at, updated_at, user_name, status, stage, "
            "progress, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (upload_id, stamp, stamp, user, RECEIVED, "Received", 0.0, json.dumps(files)),
        )
    return upload_id


def update(state: AppState, upload_id: str, **fields: Any) -> None:
    """Set some of: status, stage, progress, check_report, load_report, error."""
    allowed = {"status", "stage", "progress", "check_report", "load_report", "error"}
    assert set(fields) <= allowed, set(fields) - allowed
    values = {
        k: json.dumps(v, default=str) if k.endswith("_report") and v is not None else v
        for k, v in fields.items()
    }
    sets = ", ".join(f"{k} = ?" for k in values)
    with state.transaction() as tx:
        tx.execute(
            f"UPDATE uploads SET {sets}, updated_at = ? WHERE id = ?",
            (*values.values(), iso(now()), upload_id),
        )


def get(state: AppState, upload_id: str) -> Upload | None:
    with state.transaction() as tx:
        row = tx.one("SELECT * FROM uploads WHERE id = ?", (upload_id,))
    return None if row is None else _upload(row)


def recent(state: AppState, limit: int = 20) -> list[Upload]:
    with state.transaction() as tx:
        rows = tx.rows("SELECT * FROM uploads ORDER BY created_at DESC LIMIT ?", (limit,))
    return [_upload(r) for r in rows]


def _upload(row: dict[str, Any]) -> Upload:
    def report(text: str | None) -> dict[str, Any] | None:
        return None if text is None else dict(json.loads(text))

    return Upload(
        id=str(row["id"]),
        created_at=parse_iso(row["created_at"]) or now(),
        updated_at=parse_iso(row["updated_at"]) or now(),
        user_name=str(row["user_name"]),
        status=str(row["status"]),
        stage=str(row["stage"]),
        progress=float(row["progress"]),
        files=list(json.loads(row["files"])),
        check_report=report(row["check_report"]),
        load_report=report(row["load_report"]),
        error=row["error"],
    )
