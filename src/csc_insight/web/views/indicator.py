"""/indicators/ID: one indicator's figure, trend and breakdown; and, for analysts, the
child-level records behind it (/indicators/ID/records), audited."""

from __future__ import annotations

import json
from datetime import date, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from csc_insight.appstate import audit as audit_log
from csc_insight.indicators import REGISTRY, Indicator
from csc_insight.indicators.compute import dimensions_for
from csc_insight.indicators.dimensions import DIMENSIONS_BY_NAME
from csc_insight.indicators.periods import parse
from csc_insight.web import auth, context, scorecard
from csc_insight.web.auth import Analyst, Viewer
from csc_insight.web.charts import bar_chart, line_chart
from csc_insight.web.formatting import format_value
from csc_insight.web.service import period_text
from csc_insight.web.tables import Cell, DataTable

router = APIRouter(include_in_schema=False)
RECORDS_SHOWN = 500
RECORDS_EXPORTED = 100_000


def indicator_or_404(indicator_id: str) -> Indicator:
    indicator = REGISTRY.get(indicator_id)
    if indicator is None or indicator.child_level:
        raise HTTPException(404)
    return indicator


@router.get("/indicators/{indicator_id}")
@context.cached_page
def indicator_page(
    request: Request, indicator_id: str, user: Viewer, by: str | None = None
) -> Response:
    indicator = indicator_or_404(indicator_id)
    svc = context.service(request)
    if svc.is_empty():
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    fmt = context.formatter(request, user)
    chosen = context.filters(request)
    label = context.period_or_latest(request, chosen)
    assert label is not None
    results = svc.indicators(label, chosen, suppressed=fmt.suppresses, ids=[indicator.id])
    result = results[0] if results else None
    row = fmt.indicator(result) if result else None
    target = svc.authority().targets.get(indicator.id)

    # Trend: 12 months to the period's end.
    trends = svc.trend(label, chosen, suppressed=fmt.suppresses, wait=False)
    if trends is None:
        context.dont_keep(request)
    charts, tables = [], []
    if trends is not None:
        points = scorecard.trend_points(fmt, trends.get(indicator.id, []))
        trend_table = DataTable(
            "trend-data", f"{indicator.title}, month by month", ["Month", "Value"], numeric={1}
        )
        for p in points:
            trend_table.add(Cell(f"{p.period.start:%B %Y}"), Cell(p.text, p.value))
        charts.append(
            line_chart(
                "trend",
                f"{indicator.title}: 12 months to {parse(label).end:%B %Y}",
                [(p.period.label, f"{p.period.start:%B %Y}", p.value) for p in points],
                str(indicator.unit),
                target.target if target else None,
            )
        )
        tables.append(trend_table)

    # Breakdown by one dimension.
    options = [d for d in dimensions_for(indicator) if d not in chosen.dims()]
    dim = by if by in options else (options[0] if options else None)
    if by is not None and by not in options:
        raise HTTPException(404)
    breakdown_rows = []
    if dim is not None:
        breakdown_rows = svc.breakdown(indicator.id, label, dim, chosen, suppressed=fmt.suppresses)
        title = DIMENSIONS_BY_NAME[dim].title
        bd_table = DataTable(
            "breakdown-data",
            f"{indicator.title} by {title.lower()}",
            [title, "Value", "Numerator", "Denominator"],
            numeric={1, 2, 3},
        )
        bars = []
        for r in breakdown_rows:
            cells = fmt.indicator(r)
            group = (r.breakdown or {}).get(dim, "")
            value = None if cells.suppressed else r.value
            bd_table.add(
                Cell(group),
                Cell(cells.value, value),
                Cell(cells.numerator, None if cells.numerator in ("c", "–") else r.numerator),
                Cell(cells.denominator, None if cells.denominator in ("c", "–") else r.denominator),
            )
            bars.append((group, value))
        charts.append(bar_chart("breakdown", bd_table.caption, bars, str(indicator.unit)))
        tables.append(bd_table)

    return context.render(
        request,
        "indicator.html",
        {
            "title": indicator.title,
            "indicator": indicator,
            "result": result,
            "row": row,
            "target": target,
            "target_text": format_value(target.target, str(indicator.unit))
            if target and target.target is not None
            else None,
            "status": scorecard.status_cell(result, row.suppressed) if result and row else None,
            "period_text": period_text(parse(label)),
            "period_label": label,
            "chosen": chosen,
            "choices": svc.choices(),
            "dims": [(d, DIMENSIONS_BY_NAME[d].title) for d in options],
            "dim": dim,
            "trend_pending": trends is None,
            "charts": charts,
            "records_url": context.url(
                f"/indicators/{indicator.id}/records", **chosen.query(period=label)
            ),
        },
        tables=tables,
        charts=charts,
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@router.get("/indicators/{indicator_id}/records")
def records_page(request: Request, indicator_id: str, user: Analyst) -> Response:
    indicator = indicator_or_404(indicator_id)
    svc = context.service(request)
    chosen = context.filters(request)
    label = context.period_or_latest(request, chosen)
    if label is None:
        return context.render(request, "empty.html", {"title": "No data loaded yet"})
    records = svc.records(indicator.id, label, chosen)
    auth.audit(
        request,
        audit_log.CHILD_LEVEL_VIEW,
        target=request.url.path,
        detail=json.dumps(
            {
                "indicator": indicator.id,
                "period": label,
                **chosen.values(),
                "rows": records.num_rows,
            }
        ),
    )
    columns = [c for c in records.column_names if c not in ("load_id", "source_row")]
    table = DataTable(
        "records",
        f"Records behind “{indicator.title}”, {period_text(parse(label))}",
        columns,
        child_level=True,
        caption_size="s",
        display_limit=RECORDS_SHOWN,
    )
    for rec in records.select(columns).slice(0, RECORDS_EXPORTED).to_pylist():
        table.add(
            *[
                Cell(_text(rec[c]), rec[c] if isinstance(rec[c], int | float) else None)
                for c in columns
            ]
        )
    if records.num_rows > RECORDS_EXPORTED:
        table.note = f"Downloads hold the first {RECORDS_EXPORTED:,} of {records.num_rows:,}."
    return context.render(
        request,
        "records.html",
        {
            "title": f"Records behind {indicator.title}",
            "indicator": indicator,
            "count": records.num_rows,
            "period_text": period_text(parse(label)),
            "back": context.url(f"/indicators/{indicator.id}", **chosen.query()),
            "table": table,
        },
        tables=[table],
    )
