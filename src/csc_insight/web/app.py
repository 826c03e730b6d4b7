"""The csc-insight web app: GOV.UK-styled pages over one warehouse.

``create_app`` builds the app; each page is a view module in ``csc_insight.web.views``.
Run it with, for example::

    uvicorn --factory 'csc_insight.web.app:app_from_settings'
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from csc_insight import __version__, settings
from csc_insight.errors import ConfigError, CscInsightError, WarehouseError
from csc_insight.privacy.disclosure import suppression_threshold
from csc_insight.web import formatting
from csc_insight.web.context import WebConfig
from csc_insight.web.views import data, health, home

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
    return Jinja2Templates(env=env)


def create_app(warehouse_url: str, *, role: str = "viewer") -> FastAPI:
    """The web app over the warehouse at ``warehouse_url``, for viewers or analysts."""
    config = WebConfig(
        warehouse_url=warehouse_url,
        formatter=formatting.Formatter(role, suppression_threshold()),
    )
    app = FastAPI(
        title=SERVICE_NAME,
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.config = config
    app.state.templates = make_templates()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(health.router)
    app.include_router(home.router)
    app.include_router(data.router)

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
        templates: Jinja2Templates = request.app.state.templates
        # A warehouse URL may carry a password (postgres://user:pass@host/db): never show it.
        message = _CREDENTIALS.sub("//", str(exc))
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": title, "message": message, "nav": None},
            status_code=status,
        )

    @app.exception_handler(404)
    def not_found(request: Request, exc: Exception) -> Response:
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": "Page not found",
                "message": "If you typed the web address, check it is correct.",
                "nav": None,
            },
            status_code=404,
        )

    return app


def app_from_settings() -> FastAPI:
    """The app over the warehouse the settings name (for ``uvicorn --factory``)."""
    return create_app(settings.backend_url(settings.home()))


__all__ = ["app_from_settings", "create_app", "make_templates"]
