"""/admin/users (manage accounts) and /admin/audit (the audit log): admins only."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import users as user_store
from csc_insight.appstate.users import ADMIN, ROLES, UserError
from csc_insight.web import auth, context, pages
from csc_insight.web.auth import Admin
from csc_insight.web.formatting import format_datetime
from csc_insight.web.tables import Cell, DataTable

router = APIRouter(include_in_schema=False)
USERS = pages.register(pages.Page("/admin/users", "Users", pages.USERS, role=ADMIN))
AUDIT = pages.register(pages.Page("/admin/audit", "Audit log", pages.AUDIT, role=ADMIN))
AUDIT_PAGE_SIZE = 200


def _users_page(
    request: Request, message: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    everyone = user_store.all_users(context.appstate(request))
    table = DataTable("users", "Accounts", ["User", "Role", "Sign-in", "Status", "Added"])
    for u in everyone:
        table.add(
            u.name,
            u.role,
            "Password" if u.has_password else "Single sign-on only",
            "Disabled" if u.disabled else "Active",
            Cell(format_datetime(u.created_at), str(u.created_at or "")),
        )
    return context.render(
        request,
        "users.html",
        {
            "title": "Users",
            "table": table,
            "users": everyone,
            "roles": ROLES,
            "message": message,
            "error": error,
        },
        tables=[table],
        status_code=status,
    )


@router.get("/admin/users")
def users_page(request: Request, user: Admin) -> Response:
    return _users_page(request)


@router.post("/admin/users")
def change_users(
    request: Request,
    user: Admin,
    action: str = Form(...),
    username: str = Form(""),
    role: str = Form(""),
    password: str = Form(""),
) -> Response:
    st = context.appstate(request)
    name = username.strip()
    try:
        if action == "add":
            user_store.add(st, name, role, password or None)
            auth.audit(request, audit_log.USER_ADDED, target=name, detail=f"role {role}")
            message = f"Added {name} as {role}."
        elif action == "role":
            if name == user.name and role != ADMIN:
                raise UserError("You cannot take the admin role from yourself.")
            user_store.set_role(st, name, role)
            auth.audit(request, audit_log.USER_CHANGED, target=name, detail=f"role {role}")
            message = f"{name} is now {role}."
        elif action == "password":
            user_store.set_password(st, name, password)
            auth.audit(request, audit_log.USER_CHANGED, target=name, detail="password reset")
            message = f"Password of {name} changed; their sessions have ended."
        elif action in ("disable", "enable"):
            if name == user.name:
                raise UserError("You cannot disable yourself.")
            user_store.set_disabled(st, name, action == "disable")
            auth.audit(request, audit_log.USER_CHANGED, target=name, detail=action + "d")
            message = f"{name} is {action}d."
        elif action == "remove":
            if name == user.name:
                raise UserError("You cannot remove yourself.")
            user_store.remove(st, name)
            auth.audit(request, audit_log.USER_REMOVED, target=name)
            message = f"Removed {name}."
        else:
            raise UserError("Choose what to do.")
    except UserError as exc:
        return _users_page(request, error=str(exc), status=400)
    response = _users_page(request, message=message)
    return response


@router.get("/admin/audit")
def audit_page(
    request: Request,
    user: Admin,
    who: str | None = None,
    action: str | None = None,
    page: int = 1,
) -> Response:
    page = max(1, page)
    entries = audit_log.entries(
        context.appstate(request),
        user=who or None,
        action=action or None,
        limit=AUDIT_PAGE_SIZE + 1,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
    )
    table = DataTable(
        "audit",
        "Audit log, newest first",
        ["When", "Who", "Role", "What", "Of", "Detail", "From"],
        caption_size="s",
    )
    for e in entries[:AUDIT_PAGE_SIZE]:
        table.add(
            Cell(format_datetime(e.at), e.at.isoformat()),
            e.user_name or "–",
            e.role or "–",
            e.action,
            e.target or "",
            e.detail or "",
            e.ip or "",
        )
    actions = [
        audit_log.LOGIN,
        audit_log.LOGIN_FAILED,
        audit_log.LOGIN_REFUSED,
        audit_log.LOGOUT,
        audit_log.UPLOAD,
        audit_log.LOAD,
        audit_log.EXPORT,
        audit_log.CHILD_LEVEL_VIEW,
        audit_log.USER_ADDED,
        audit_log.USER_CHANGED,
        audit_log.USER_REMOVED,
        audit_log.ACCESS_REFUSED,
        audit_log.ACTION_ADDED,
        audit_log.ACTION_CHANGED,
    ]
    more = len(entries) > AUDIT_PAGE_SIZE
    return context.render(
        request,
        "audit.html",
        {
            "title": "Audit log",
            "table": table,
            "actions": actions,
            "who": who or "",
            "action": action or "",
            "page": page,
            "more": more,
        },
        tables=[table],
    )


@router.get("/admin")
def admin_home(user: Admin) -> Response:
    return RedirectResponse("/admin/users", status_code=303)
