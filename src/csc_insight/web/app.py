"""The csc-insight web app: GOV.UK-styled pages and a JSON API over one warehouse.

``create_app`` builds the app. Every module in ``csc_insight.web.views`` is a page (or a set
of routes) with a ``router``; pages register themselves in ``csc_insight.web.pages`` for the
navigation. Run it with, for example::

    uvicorn --factory 'csc_insight.web.app:app_from_settings'
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from csc_insight import __version__, settings
from csc_insight.appstate import AppState, default_url
from csc_insight.errors import ConfigError, CscInsightError, WarehouseError
from csc_insight.privacy.disclosure import suppression_threshold
from csc_insight.web import auth, context, formatting, views
from csc_insight.web.context import WebConfig
from csc_insight.web.security import BodyLimit, SecurityHeaders
from csc_insight.web.service import DataService

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SERVICE_NAME = "csc-insight"
_CREDENTIALS = re.compile(r"//[^/@\s]+@")


def make_templates() -> Jinja2Templates:
    """Jinja templates: ours first, then the GOV.UK Frontend macros under their own prefix."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(TEMPLATES),
            jinja2.PrefixLoader(
                {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
            ),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # the GOV.UK macros probe optional params
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["plain_date"] = formatting.format_date
    env.filters["plain_datetime"] = formatting.format_datetime
    env.filters["number"] = formatting.format_number
    env.globals["service_name"] = SERVICE_NAME
    env.globals["version"] = __version__
    env.globals["download_links"] = context.download_links
    env.globals["chart_link"] = context.chart_link
    return Jinja2Templates(env=env)


def view_modules() -> list[ModuleType]:
    """Every module in csc_insight.web.views (each a page or a set of routes)."""
    found = []
    for info in sorted(pkgutil.iter_modules(views.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            found.append(importlib.import_module(f"{views.__name__}.{info.name}"))
    return found


def create_app(
    warehouse_url: str,
    *,
    state: AppState | str | None = None,
    home: Path | None = None,
    auth_config: auth.AuthConfig | None = None,
    warm: bool = True,
) -> FastAPI:
    """The web app over the warehouse at ``warehouse_url``.

    ``state`` is the app state store (users, sessions, audit log): an ``AppState`` or its
    URL; by default the SQLite file in ``home`` (the workspace). ``home`` also holds
    ``authority.toml`` (owners and targets) and uploaded files. ``warm`` works the overview
    out in the background at start-up and after every load.
    """
    home_dir = home if home is not None else settings.home()
    if not isinstance(state, AppState):
        state = AppState(state or settings.get("state_url") or default_url(home_dir))
    threshold = suppression_threshold()
    try:
        upload_mb = int(settings.get("upload_max_mb"))
    except ValueError:
        raise ConfigError("Setting upload_max_mb must be a whole number.") from None
    config = WebConfig(
        warehouse_url=warehouse_url,
        home=home_dir,
        threshold=threshold,
        upload_dir=home_dir / "uploads",
        upload_max_bytes=upload_mb * 1024 * 1024,
    )
    service = DataService(warehouse_url, home_dir, threshold)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            service.warm()
        yield
        service.close()

    app = FastAPI(
        title=f"{SERVICE_NAME} API",
        version=__version__,
        description=(
            "Children's social care indicators, data quality and loads, as JSON, for Power BI, "
            "Excel or scripts. Sign in with HTTP Basic (a csc-insight account) or a browser "
            "session. Viewers get small numbers suppressed ('c' in pages, null with "
            "suppressed=true here); analysts get every figure and child-level lists "
            "(pseudonymised); admins can also read the audit log and users."
        ),
        docs_url=None,  # Swagger UI would load from a CDN: /api lists the routes instead
        redoc_url=None,
        openapi_url=None,  # served by views/api_docs.py, to signed-in users only
        dependencies=[Depends(auth.csrf_protect)],
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.appstate = state
    app.state.auth = auth_config or auth.AuthConfig.from_settings()
    app.state.service = service
    app.state.templates = make_templates()
    app.add_middleware(BodyLimit, max_bytes=config.upload_max_bytes)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in view_modules():
        app.include_router(module.router)
    _install_error_pages(app)
    return app


def _page(request: Request, title: str, message: str, status: int, **extra: Any) -> Response:
    return context.render(
        request, "error.html", {"title": title, "message": message, **extra}, status_code=status
    )


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(auth.NotSignedIn)
    def not_signed_in(request: Request, exc: auth.NotSignedIn) -> Response:
        if auth.is_api(request):
            return JSONResponse(
                {"detail": "Sign in: HTTP Basic with a csc-insight account, or a session."},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="csc-insight", charset="UTF-8"'},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(auth.Refused)
    def refused(request: Request, exc: auth.Refused) -> Response:
        message = exc.message or (
            f"This needs the {exc.needed} role; you are signed in as a "
            f"{exc.user.role if exc.user else 'visitor'}. Ask an administrator if you need it."
        )
        if auth.is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return _page(request, "You cannot see this page", message, 403)

    @app.exception_handler(auth.CsrfFailed)
    def csrf_failed(request: Request, exc: auth.CsrfFailed) -> Response:
        if auth.is_api(request):
            return JSONResponse({"detail": "Missing or wrong CSRF token."}, status_code=403)
        return _page(
            request,
            "This form has expired",
            "For your security, the form could not be accepted. Go back, reload the page and "
            "try again.",
            403,
        )

    @app.exception_handler(auth.TooManyAttempts)
    def too_many(request: Request, exc: auth.TooManyAttempts) -> Response:
        message = (
            "There have been too many failed attempts to sign in. Wait 15 minutes and try "
            "again, or ask an administrator to reset your password."
        )
        if auth.is_api(request):
            return JSONResponse({"detail": message}, status_code=429)
        return _page(request, "Too many attempts to sign in", message, 429)

    @app.exception_handler(CscInsightError)
    def plain_english_error(request: Request, exc: CscInsightError) -> Response:
        status = 400 if isinstance(exc, ConfigError) else 503
        title = (
            "The warehouse cannot be opened"
            if isinstance(exc, WarehouseError)
            else "Sorry, there is a problem with this request"
            if status == 400
            else "Sorry, there is a problem"
        )
        # A warehouse URL may carry a password (postgres://user:pass@host/db): never show it.
        message = _CREDENTIALS.sub("//", str(exc))
        if auth.is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return _page(request, title, message, status)

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if auth.is_api(request):
            return JSONResponse({"detail": "The request is not valid."}, status_code=422)
        return _page(
            request,
            "Sorry, there is a problem with this request",
            "Check the address or the form and try again.",
            400,
        )

    @app.exception_handler(404)
    def not_found(request: Request, exc: Exception) -> Response:
        if auth.is_api(request):
            return JSONResponse({"detail": "Not found."}, status_code=404)
        return _page(
            request, "Page not found", "If you typed the web address, check it is correct.", 404
        )


def app_from_settings() -> FastAPI:
    """The app over the warehouse the settings name (for ``uvicorn --factory``)."""
    home = settings.home()
    return create_app(settings.backend_url(home), home=home)


__all__ = ["app_from_settings", "create_app", "make_templates"]
