"""A themed page: chosen indicators with targets and trends, a trend chart and a breakdown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from csc_insight.appstate.users import User
from csc_insight.indicators import REGISTRY
from csc_insight.indicators.dimensions import DIMENSIONS_BY_NAME
from csc_insight.indicators.periods import parse
from csc_insight.web import context, scorecard
from csc_insight.web.charts import Chart, bar_chart, line_chart
from csc_insight.web.service import period_text
from csc_insight.web.tables import Cell, DataTable


@dataclass(frozen=True)
class Theme:
    """What a themed page shows."""

    path: str
    title: str
    intro: str
    ids: tuple[str, ...]
    trend_ids: tuple[str, ...]  # one trend chart each
    breakdowns: tuple[tuple[str, str], ...]  # (indicator id, dimension): one bar chart each


def render_theme(
    request: Request,
    user: User,
    theme: Theme,
    extra: dict[str, Any] | None = None,
    extra_tables: list[DataTable] | None = None,
) -> Response:
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    chosen = context.filters(request)
    label = context.period_or_latest(request, chosen)
    assert label is not None
    ids = [i for i in theme.ids if i in REGISTRY]
    results = svc.indicators(label, chosen, suppressed=fmt.suppresses, ids=ids)
    results.sort(key=lambda r: ids.index(r.id))
    trends = svc.trend(label, chosen, suppressed=fmt.suppresses, wait=False)
    if trends is None:
        context.dont_keep(request)
    slug = theme.path.strip("/").replace("/", "-")
    main = scorecard.headline_table(
        f"{slug}-indicators",
        f"{theme.title}, {period_text(parse(label))}",
        results,
        fmt,
        chosen,
        trends,
    )
    tables = [main]
    charts: list[Chart] = []
    blocks: list[tuple[Chart, DataTable]] = []
    authority = svc.authority()
    if trends is not None:
        for indicator_id in theme.trend_ids:
            indicator = REGISTRY[indicator_id]
            points = scorecard.trend_points(fmt, trends.get(indicator_id, []))
            t = DataTable(
                f"trend-{indicator_id.replace('.', '-')}-data",
                f"{indicator.title}, month by month",
                ["Month", "Value"],
                numeric={1},
            )
            for p in points:
                t.add(Cell(f"{p.period.start:%B %Y}"), Cell(p.text, p.value))
            target = authority.targets.get(indicator_id)
            c = line_chart(
                f"trend-{indicator_id.replace('.', '-')}",
                f"{indicator.title}: 12 months to {parse(label).end:%B %Y}",
                [(p.period.label, f"{p.period.start:%B %Y}", p.value) for p in points],
                str(indicator.unit),
                target.target if target else None,
            )
            charts.append(c)
            tables.append(t)
            blocks.append((c, t))
    for indicator_id, dim in theme.breakdowns:
        if dim in chosen.dims():
            continue
        indicator = REGISTRY[indicator_id]
        rows = svc.breakdown(indicator_id, label, dim, chosen, suppressed=fmt.suppresses)
        if not rows:
            continue
        title = DIMENSIONS_BY_NAME[dim].title
        t = DataTable(
            f"by-{dim}-{indicator_id.replace('.', '-')}-data",
            f"{indicator.title} by {title.lower()}, {period_text(parse(label))}",
            [title, "Value"],
            numeric={1},
        )
        bars = []
        for r in rows:
            cells = fmt.indicator(r)
            group = (r.breakdown or {}).get(dim, "")
            value = None if cells.suppressed else r.value
            t.add(Cell(group), Cell(cells.value, value))
            bars.append((group, value))
        c = bar_chart(t.id.removesuffix("-data"), t.caption, bars, str(indicator.unit))
        charts.append(c)
        tables.append(t)
        blocks.append((c, t))
    tables += extra_tables or []
    return context.render(
        request,
        "theme.html",
        {
            "title": theme.title,
            "theme": theme,
            "main": main,
            "blocks": blocks,
            "chosen": chosen,
            "choices": svc.choices(),
            "period_label": label,
            "trend_pending": trends is None,
            **(extra or {}),
        },
        tables=tables,
        charts=charts,
    )
