"""The audit log: who did what, when, from where. Append-only; admins read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from csc_insight.appstate.store import AppState, iso, now, parse_iso

# The actions recorded (docs/security.md lists what each one means).
LOGIN = "login"
LOGIN_FAILED = "login failed"
LOGIN_REFUSED = "login refused (too many attempts)"
LOGOUT = "logout"
UPLOAD = "upload"
LOAD = "load"
EXPORT = "export"
CHILD_LEVEL_VIEW = "child-level view"
USER_ADDED = "user added"
USER_CHANGED = "user changed"
USER_REMOVED = "user removed"
ACCESS_REFUSED = "access refused"
ACTION_ADDED = "action added"
ACTION_CHANGED = "action changed"


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    user_name: str | None
    role: str | None
    action: str
    target: str | None
    detail: str | None
    ip: str | None


def record(
    state: AppState,
    action: str,
    *,
    user: str | None,
    role: str | None = None,
    target: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> None:
    """Append one entry."""
    with state.transaction() as tx:
        tx.execute(
            "INSERT INTO audit_log (at, user_name, role, action, target, detail, ip) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (iso(now()), user, role, action, target, detail, ip),
        )


def entries(
    state: AppState,
    *,
    user: str | None = None,
    action: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Entry]:
    """Newest first, optionally only one user's or one action's."""
    where, params = [], []
    if user:
        where.append("user_name = ?")
        params.append(user)
    if action:
        where.append("action = ?")
        params.append(action)
    sql = "SELECT * FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
    with state.transaction() as tx:
        rows = tx.rows(sql, (*params, limit, offset))
    return [
        Entry(
            id=int(r["id"]),
            at=parse_iso(str(r["at"])) or now(),
            user_name=r["user_name"],
            role=r["role"],
            action=str(r["action"]),
            target=r["target"],
            detail=r["detail"],
            ip=r["ip"],
        )
        for r in rows
    ]


# --- log-in rate limiting --------------------------------------------------------------------
def failed_login(state: AppState, user: str, ip: str | None) -> None:
    with state.transaction() as tx:
        tx.execute(
            "INSERT INTO login_failures (at, user_name, ip) VALUES (?, ?, ?)",
            (iso(now()), user, ip),
        )


def recent_failures(
    state: AppState, user: str, ip: str | None, window: timedelta
) -> tuple[int, int]:
    """Failed log-ins within ``window``: (for this user name, from this address)."""
    since = iso(now() - window)
    with state.transaction() as tx:
        tx.execute("DELETE FROM login_failures WHERE at < ?", (iso(now() - 4 * window),))
        by_user = tx.one(
            "SELECT COUNT(*) AS n FROM login_failures WHERE user_name = ? AND at >= ?",
            (user, since),
        )
        by_ip = tx.one(
            "SELECT COUNT(*) AS n FROM login_failures WHERE ip = ? AND at >= ?", (ip, since)
        )
    return int(by_user["n"] if by_user else 0), int(by_ip["n"] if by_ip else 0)


def clear_failures(state: AppState, user: str) -> None:
    with state.transaction() as tx:
        tx.execute("DELETE FROM login_failures WHERE user_name = ?", (user,))
