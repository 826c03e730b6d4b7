"""What every view shares: the app's configuration, the warehouse and page rendering."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from csc_insight.warehouse.model import FACT_TABLES, TABLES
from csc_insight.warehouse.store import Warehouse
from csc_insight.web.formatting import Formatter

# The service navigation: (path, label).
NAVIGATION: tuple[tuple[str, str], ...] = (("/", "Overview"), ("/data", "Data loaded"))
FACT_TABLE_NAMES = frozenset(t.name for t in FACT_TABLES)


@dataclass(frozen=True)
class WebConfig:
    """Set once by ``create_app``."""

    warehouse_url: str
    formatter: Formatter


def config(request: Request) -> WebConfig:
    """The app's configuration."""
    cfg: WebConfig = request.app.state.config
    return cfg


@contextmanager
def open_warehouse(request: Request) -> Iterator[Warehouse]:
    """The warehouse, opened for one request (so loads can run between requests)."""
    with Warehouse.connect(config(request).warehouse_url) as warehouse:
        yield warehouse


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A page from ``template``, with the navigation and formatter every page uses."""
    templates: Jinja2Templates = request.app.state.templates
    path = request.url.path
    nav = [
        {"href": href, "text": text, "current": href == path, "active": href == path}
        for href, text in NAVIGATION
    ]
    fmt = config(request).formatter
    full = {"nav": nav, "fmt": fmt, **context}
    return templates.TemplateResponse(request, template, full, status_code=status_code)


@dataclass(frozen=True)
class TableCount:
    """Rows in one canonical table, with what the table holds."""

    name: str
    description: str
    rows: int
    about_children: bool


def table_counts(warehouse: Warehouse) -> list[TableCount]:
    """Rows in every canonical table, in the data model's order."""
    counts = warehouse.counts()
    return [
        TableCount(t.name, t.description, counts.get(t.name, 0), t.name in FACT_TABLE_NAMES)
        for t in TABLES
    ]


def is_empty(counts: list[TableCount]) -> bool:
    """True when no data about children has been loaded."""
    return not any(c.rows for c in counts if c.about_children)


@dataclass(frozen=True)
class LoadRow:
    """One entry of the loads log."""

    load_id: str
    started_at: datetime | None
    finished_at: datetime | None
    version: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


def loads(warehouse: Warehouse, limit: int | None = None) -> list[LoadRow]:
    """The loads log, newest first."""
    t = warehouse.table("loads")
    expr = t.order_by(t.finished_at.desc(), t.load_id.desc())
    if limit is not None:
        expr = expr.limit(limit)
    rows = expr.to_pyarrow().to_pylist()
    return [
        LoadRow(
            load_id=str(r["load_id"]),
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            version=str(r["csc_insight_version"] or ""),
            rows_read=int(r["rows_read"] or 0),
            rows_loaded=int(r["rows_loaded"] or 0),
            rows_quarantined=int(r["rows_quarantined"] or 0),
        )
        for r in rows
    ]


def la_codes(warehouse: Warehouse, counts: list[TableCount]) -> list[str]:
    """The authorities (ONS codes) whose data is loaded, sorted."""
    found: set[str] = set()
    for c in counts:
        if c.rows and c.about_children:
            t = warehouse.table(c.name)
            if "la_code" in t.columns:
                values = t.select("la_code").distinct().to_pyarrow().column(0).to_pylist()
                found.update(str(v) for v in values if v)
    return sorted(found)
