"""/login and /logout: local accounts (argon2), rate-limited, audited."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import sessions as session_store
from csc_insight.web import auth, context

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another site: no open redirect)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if auth.current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return context.render(
        request, "login.html", {"title": "Sign in", "next": _safe_next(next), "error": None}
    )


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    name = username.strip()
    user = auth.log_in(request, name, password) if name and password else None
    if user is None:
        return context.render(
            request,
            "login.html",
            {
                "title": "Sign in",
                "next": _safe_next(next),
                "username": name,
                "error": "Enter a correct user name and password",
            },
            status_code=401,
        )
    token = auth.start_session(request, user)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    user = auth.current_user(request)
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        session_store.end(context.appstate(request), token)
    if user is not None:
        auth.audit(request, audit_log.LOGOUT, target=user.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
