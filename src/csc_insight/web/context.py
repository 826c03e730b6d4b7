"""What every view shares: configuration, who is asking, filters, rendering and downloads."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from csc_insight.appstate import AppState
from csc_insight.appstate import audit as audit_log
from csc_insight.appstate.users import ADMIN, ANALYST, VIEWER, User
from csc_insight.errors import ConfigError
from csc_insight.indicators.periods import parse
from csc_insight.web import auth, pages
from csc_insight.web.charts import Chart, to_svg
from csc_insight.web.formatting import Formatter
from csc_insight.web.service import DataService, Filters
from csc_insight.web.tables import DataTable, to_csv, to_xlsx

_FILTER_VALUE = re.compile(r"^[^\x00-\x1f<>]{1,100}$")
# In a cached page, where the signed-in person's name and CSRF token go (see cached_page).
NAME_MARK = "\x1b[csc-user-name]"
CSRF_MARK = "\x1b[csc-csrf-token]"


@dataclass(frozen=True)
class WebConfig:
    """Set once by ``create_app``."""

    warehouse_url: str
    home: Path | None
    threshold: int
    upload_dir: Path
    upload_max_bytes: int


def config(request: Request) -> WebConfig:
    cfg: WebConfig = request.app.state.config
    return cfg


def service(request: Request) -> DataService:
    svc: DataService = request.app.state.service
    return svc


def appstate(request: Request) -> AppState:
    st: AppState = request.app.state.appstate
    return st


def formatter(request: Request, user: User | None) -> Formatter:
    """Viewers get small numbers suppressed; analysts and admins see every figure."""
    role = ANALYST if user is not None and user.can(ANALYST) else VIEWER
    return Formatter(role, config(request).threshold)


def filters(request: Request) -> Filters:
    """The filters in the URL (period, team, locality, service), checked."""
    q = request.query_params
    period = (q.get("period") or "").strip() or None
    if period is not None:
        period = parse(period).label  # a clear 400 for a period csc-insight cannot read
    values: dict[str, str | None] = {}
    for name in ("team", "locality", "service"):
        value = (q.get(name) or "").strip() or None
        if value is not None and not _FILTER_VALUE.match(value):
            raise ConfigError(f"The {name} filter {value!r} is not a name csc-insight can use.")
        values[name] = value
    return Filters(period=period, **values)


def period_or_latest(request: Request, chosen: Filters) -> str | None:
    return chosen.period or service(request).latest_period()


def url(path: str, **params: str | None) -> str:
    query = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(query) if query else "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    tables: list[DataTable] | None = None,
    charts: list[Chart] | None = None,
) -> Response:
    """A page from ``template``; or, for ``?download=`` / ``?chart=``, one of its tables or
    charts as a file (CSV, Excel or SVG), audited as an export."""
    user = auth.current_user(request)
    q = request.query_params
    if q.get("download") and tables is not None:
        return download(request, user, tables, q["download"], q.get("format", "csv"))
    if q.get("chart") and charts is not None:
        for chart in charts:
            if chart.id == q["chart"]:
                auth.audit(
                    request,
                    audit_log.EXPORT,
                    target=request.url.path,
                    detail=f"chart {chart.id} as svg",
                )
                return Response(
                    to_svg(chart.spec),
                    media_type="image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="{chart.id}.svg"'},
                )
        return Response("No such chart on this page.", status_code=404)
    templates: Jinja2Templates = request.app.state.templates
    path = request.url.path
    svc: DataService | None = request.app.state.service
    try:
        shown = pages.visible(user, svc)
    except Exception:  # an unopenable warehouse: the error page still gets a navigation
        shown = pages.visible(user, None)
    here = pages.current(path)
    nav = [
        {
            "href": p.path,
            "text": p.title,
            "current": here is not None and here.path == p.path and p.path == path,
            "active": here is not None and here.path == p.path,
        }
        for p in shown
    ]
    fresh_cookie = None
    csrf = getattr(request.state, "csrf", None) or request.cookies.get(auth.CSRF_COOKIE)
    if csrf is None:  # first visit: the form and the cookie get the same new token
        csrf = fresh_cookie = auth.new_csrf_cookie()
    caching = getattr(request.state, "caching_page", False)
    full = {
        "nav": nav,
        "user": user,
        "account_name": NAME_MARK if caching else (user.name if user else ""),
        "fmt": formatter(request, user),
        "csrf_token": CSRF_MARK if caching else csrf,
        "tables_by_id": {t.id: t for t in tables or []},
        "charts_by_id": {c.id: c for c in charts or []},
        "is_admin": user is not None and user.can(ADMIN),
        "is_analyst": user is not None and user.can(ANALYST),
        **context,
    }
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    if fresh_cookie is not None:
        set_csrf_cookie(request, response, fresh_cookie)
        request.state.caching_page = False  # a first visit: not one to keep
    return response


def set_csrf_cookie(request: Request, response: Response, value: str) -> None:
    """The pre-log-in CSRF cookie (only when the browser has none yet)."""
    response.set_cookie(
        auth.CSRF_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def download(
    request: Request, user: User | None, tables: list[DataTable], table_id: str, fmt: str
) -> Response:
    for table in tables:
        if table.id != table_id:
            continue
        if fmt not in ("csv", "xlsx"):
            raise ConfigError("Downloads are csv or xlsx.")
        auth.audit(
            request,
            audit_log.EXPORT,
            target=request.url.path,
            detail=json.dumps(
                {
                    "table": table.id,
                    "format": fmt,
                    "rows": len(table.rows),
                    "child_level": table.child_level,
                    "query": str(request.url.query),
                }
            ),
        )
        name = f"{table.id}.{fmt}"
        if fmt == "csv":
            body, media = to_csv(table), "text/csv; charset=utf-8"
        else:
            body = to_xlsx(table)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response("No such table on this page.", status_code=404, media_type="text/plain")


def download_links(request: Request, table_id: str) -> dict[str, str]:
    """The CSV and Excel links for one table on the current page."""
    base = {k: v for k, v in request.query_params.items() if k not in ("download", "format")}
    return {
        fmt: request.url.path + "?" + urlencode({**base, "download": table_id, "format": fmt})
        for fmt in ("csv", "xlsx")
    }


def chart_link(request: Request, chart_id: str) -> str:
    base = {k: v for k, v in request.query_params.items() if k not in ("chart", "download")}
    return request.url.path + "?" + urlencode({**base, "chart": chart_id})


def dont_keep(request: Request) -> None:
    """This page is not to be kept (it is still being worked out)."""
    request.state.caching_page = False


def cached_page(view: Callable[..., Response]) -> Callable[..., Response]:
    """Keep a page of aggregates once rendered, per data version, address and role.

    Pages of aggregates are the same for everyone with the same role and filters, so the
    rendered HTML is kept (with the signed-in name and CSRF token left as marks filled in on
    each request) until the next load. Downloads, chart exports and child-level pages (which
    are audited on every view) are never kept.
    """

    @functools.wraps(view)
    def wrapper(*args: object, **kwargs: object) -> Response:
        request = kwargs["request"]
        user = kwargs["user"]
        assert isinstance(request, Request) and isinstance(user, User)
        q = request.query_params
        if "download" in q or "chart" in q:
            return view(*args, **kwargs)
        svc = service(request)
        authority = config(request).home
        stamp = 0.0
        if authority is not None and (authority / "authority.toml").exists():
            stamp = (authority / "authority.toml").stat().st_mtime
        key = ("page", request.url.path, tuple(sorted(q.multi_items())), user.role, stamp)
        found, body = svc.peek(key)
        if not found:
            request.state.caching_page = True
            response = view(*args, **kwargs)
            keep = getattr(request.state, "caching_page", False)
            request.state.caching_page = False
            if not keep or response.status_code != 200 or not isinstance(response, HTMLResponse):
                return _personal(request, user, response)
            body = bytes(response.body).decode("utf-8")
            svc.store(key, body)
        text = (
            str(body)
            .replace(NAME_MARK, _escape(user.name))
            .replace(CSRF_MARK, _escape(getattr(request.state, "csrf", None) or ""))
        )
        return HTMLResponse(text)

    return wrapper


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _personal(request: Request, user: User, response: Response) -> Response:
    """A response rendered with marks but not kept: fill the marks in."""
    if isinstance(response, HTMLResponse):
        text = bytes(response.body).decode("utf-8")
        if NAME_MARK in text or CSRF_MARK in text:
            text = text.replace(NAME_MARK, _escape(user.name)).replace(
                CSRF_MARK, _escape(getattr(request.state, "csrf", None) or "")
            )
            fresh = HTMLResponse(text, status_code=response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "content-type"):
                    fresh.headers.append(name, value)
            return fresh
    return response
