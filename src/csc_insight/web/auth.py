"""Who is asking: sessions, the single-sign-on header, HTTP Basic for the API; roles; CSRF.

Every route says which role it needs with a dependency (``Viewer``, ``Analyst``, ``Admin``).
Someone not signed in is sent to /login (pages) or gets 401 (API); someone signed in without
the role gets 403, and the refusal is audited. Every POST must carry the CSRF token (see
``csrf_protect``), which ``create_app`` installs on every route.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from csc_insight import settings
from csc_insight.appstate import AppState
from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import sessions as session_store
from csc_insight.appstate import users as user_store
from csc_insight.appstate.users import ADMIN, ANALYST, VIEWER, User
from csc_insight.errors import ConfigError

SESSION_COOKIE = "csc_insight_session"
CSRF_COOKIE = "csc_insight_csrf"  # for forms shown before log-in (the log-in form itself)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
RATE_WINDOW = timedelta(minutes=15)
BASIC_CACHE_SECONDS = 300
SSO_LOGIN_EVERY_SECONDS = 8 * 3600


def _int_setting(name: str, override: int | None) -> int:
    if override is not None:
        return override
    raw = settings.get(name)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"Setting {name} must be a whole number, not {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"Setting {name} must be more than 0.")
    return value


@dataclass
class AuthConfig:
    """How people sign in; read from the settings unless given."""

    idle: timedelta
    absolute: timedelta
    attempts: int
    header: str | None
    trusted_proxies: frozenset[str]
    # Recently verified API (Basic) credentials, so argon2 is not run on every request.
    _basic_ok: dict[str, tuple[str, float]] = field(default_factory=dict)
    _sso_seen: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(
        cls,
        *,
        idle_minutes: int | None = None,
        max_hours: int | None = None,
        attempts: int | None = None,
        header: str | None = None,
        trusted_proxies: str | None = None,
    ) -> AuthConfig:
        header_name = header if header is not None else settings.get("auth_header")
        proxies = (
            trusted_proxies if trusted_proxies is not None else settings.get("trusted_proxies")
        )
        return cls(
            idle=timedelta(minutes=_int_setting("session_idle_minutes", idle_minutes)),
            absolute=timedelta(hours=_int_setting("session_max_hours", max_hours)),
            attempts=_int_setting("login_attempts", attempts),
            header=header_name.strip().lower() or None,
            trusted_proxies=frozenset(p.strip() for p in proxies.split(",") if p.strip()),
        )


class NotSignedIn(Exception):
    """No one is signed in."""


class Refused(Exception):
    """Signed in, but without the role this needs."""

    def __init__(self, user: User | None, needed: str, message: str | None = None) -> None:
        super().__init__(needed)
        self.user = user
        self.needed = needed
        self.message = message


class CsrfFailed(Exception):
    """A form came back without the right CSRF token."""


class TooManyAttempts(Exception):
    """Log-in refused: too many recent failures."""


def state(request: Request) -> AppState:
    st: AppState = request.app.state.appstate
    return st


def auth_config(request: Request) -> AuthConfig:
    cfg: AuthConfig = request.app.state.auth
    return cfg


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def audit(
    request: Request,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    user: User | None = None,
) -> None:
    """Record an action by whoever is asking."""
    who = user or getattr(request.state, "user", None)
    audit_log.record(
        state(request),
        action,
        user=who.name if who else None,
        role=who.role if who else None,
        target=target,
        detail=detail,
        ip=client_ip(request),
    )


# --- log-in -----------------------------------------------------------------------------------
def check_rate(request: Request, name: str) -> None:
    """Raise TooManyAttempts when this name or this address has failed too often lately."""
    cfg = auth_config(request)
    by_user, by_ip = audit_log.recent_failures(
        state(request), name, client_ip(request), RATE_WINDOW
    )
    if by_user >= cfg.attempts or by_ip >= 4 * cfg.attempts:
        audit(request, audit_log.LOGIN_REFUSED, target=name)
        raise TooManyAttempts()


def log_in(request: Request, name: str, password: str, *, how: str = "form") -> User | None:
    """Check a name and password (rate-limited, audited); the user, or None."""
    check_rate(request, name)
    user = user_store.authenticate(state(request), name, password)
    if user is None:
        audit_log.failed_login(state(request), name, client_ip(request))
        audit(request, audit_log.LOGIN_FAILED, target=name, detail=how)
        return None
    audit_log.clear_failures(state(request), name)
    audit(request, audit_log.LOGIN, target=name, detail=how, user=user)
    return user


def start_session(request: Request, user: User) -> str:
    return session_store.create(state(request), user, client_ip(request))


# --- who is asking ----------------------------------------------------------------------------
def _from_header(request: Request, cfg: AuthConfig) -> User | None:
    if cfg.header is None or client_ip(request) not in cfg.trusted_proxies:
        return None
    name = request.headers.get(cfg.header, "").strip()
    if not name:
        return None
    user = user_store.get(state(request), name)
    if user is None or user.disabled:
        raise Refused(
            None,
            VIEWER,
            f"You signed in as {name}, but csc-insight has no account for that name. "
            "Ask an administrator to add you.",
        )
    now = time.monotonic()
    with cfg._lock:
        first = now - cfg._sso_seen.get(name, -1e9) > SSO_LOGIN_EVERY_SECONDS
        if first:
            cfg._sso_seen[name] = now
    if first:
        audit(request, audit_log.LOGIN, target=name, detail="single sign-on header", user=user)
    return user


def _from_basic(request: Request, cfg: AuthConfig) -> User | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        name, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise NotSignedIn() from None
    key = hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()
    now = time.monotonic()
    with cfg._lock:
        cached = cfg._basic_ok.get(key)
    if cached is not None and now - cached[1] < BASIC_CACHE_SECONDS:
        user = user_store.get(state(request), cached[0])
        if user is not None and not user.disabled:
            return user
    try:
        user = log_in(request, name, password, how="api (HTTP Basic)")
    except TooManyAttempts:
        raise NotSignedIn() from None
    if user is None:
        raise NotSignedIn()
    with cfg._lock:
        cfg._basic_ok[key] = (user.name, now)
    return user


def current_user(request: Request) -> User | None:
    """The signed-in user, or None. Also sets ``request.state.csrf`` for forms."""
    if hasattr(request.state, "user"):
        found: User | None = request.state.user
        return found
    cfg = auth_config(request)
    request.state.user, request.state.csrf = None, None  # what an error page sees if refused
    user = _from_header(request, cfg)
    csrf = None
    if user is None and is_api(request):
        user = _from_basic(request, cfg)
    if user is None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            session = session_store.lookup(state(request), token, cfg.idle, cfg.absolute)
            if session is not None:
                user, csrf = session.user, session.csrf_token
    if user is not None and csrf is None:
        # Header or Basic sign-in: forms are still protected, by the pre-log-in cookie.
        csrf = request.cookies.get(CSRF_COOKIE)
    request.state.user = user
    request.state.csrf = csrf
    return user


def require(role: str):  # type: ignore[no-untyped-def]
    """A dependency: the signed-in user, who must have ``role`` (or a more powerful one)."""

    def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise NotSignedIn()
        if not user.can(role):
            audit(
                request, audit_log.ACCESS_REFUSED, target=request.url.path, detail=f"needs {role}"
            )
            raise Refused(user, role)
        return user

    return dependency


Viewer = Annotated[User, Depends(require(VIEWER))]
Analyst = Annotated[User, Depends(require(ANALYST))]
Admin = Annotated[User, Depends(require(ADMIN))]


# --- CSRF ---------------------------------------------------------------------------------------
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


async def csrf_protect(request: Request) -> None:
    """Every POST (PUT, PATCH, DELETE) must send back the token its form was given.

    Signed in with a session, the token is the session's; before log-in (or signed in by the
    single-sign-on header) it is the value of a cookie the form was served with. The token
    comes in the form field ``csrf_token`` or the ``X-CSRF-Token`` header.
    """
    if request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    current_user(request)
    expected = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfFailed()
