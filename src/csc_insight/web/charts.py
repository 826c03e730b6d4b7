"""Charts: Vega-Lite specs (rendered in the browser by the vendored vega-embed, and as SVG
for reports by vl-convert) and small server-drawn sparklines.

Every chart on a page comes with its data as a table (``DataTable``), for people who cannot
see the chart and for copying the figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

BLUE = "#1d70b8"
DARK = "#0b0c0c"
GREY = "#505a5f"
FONT = "arial, sans-serif"
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

UNIT_TITLES = {
    "percent": "Per cent",
    "rate_per_10k": "Per 10,000 children",
    "days": "Days",
    "working_days": "Working days",
    "count": "Number",
    "score": "Score",
}


@dataclass(frozen=True)
class Chart:
    """A chart on a page: its id (for the SVG download), title and Vega-Lite spec."""

    id: str
    title: str
    spec: dict[str, Any]
    table_id: str


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "axis": {"labelFontSize": 14, "titleFontSize": 14, "labelColor": DARK, "titleColor": DARK},
        "legend": {"labelFontSize": 14, "titleFontSize": 14},
        "title": {"fontSize": 16, "anchor": "start", "color": DARK},
        "view": {"stroke": None},
    }


def _clean(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def line_chart(
    chart_id: str,
    title: str,
    points: list[tuple[str, str, float | None]],
    unit: str,
    target: float | None = None,
) -> Chart:
    """Monthly values: points are (month label '2024-06', month text, value or None)."""
    values = [{"month": f"{m}-01", "label": text, "value": _clean(v)} for m, text, v in points]
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "line", "color": BLUE, "strokeWidth": 3, "point": {"size": 60}},
            "encoding": {
                "x": {
                    "field": "month",
                    "type": "temporal",
                    "timeUnit": "yearmonth",
                    "title": None,
                    "axis": {"format": "%b %Y", "labelAngle": -45},
                },
                "y": {"field": "value", "type": "quantitative", "title": UNIT_TITLES.get(unit, "")},
            },
        }
    ]
    data: dict[str, Any] = {"values": values}
    if target is not None:
        layers.append(
            {
                "mark": {"type": "rule", "color": DARK, "strokeDash": [6, 4], "strokeWidth": 2},
                "encoding": {"y": {"datum": target}},
            }
        )
        layers.append(
            {
                "mark": {
                    "type": "text",
                    "align": "left",
                    "dx": 4,
                    "dy": -8,
                    "color": DARK,
                    "fontSize": 14,
                },
                "encoding": {
                    "y": {"datum": target},
                    "x": {"value": 0},
                    "text": {"value": f"Target {target:g}"},
                },
            }
        )
    spec = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "width": "container",
        "height": 260,
        "data": data,
        "layer": layers,
        "config": _config(),
    }
    return Chart(chart_id, title, spec, f"{chart_id}-data")


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float | None]], unit: str) -> Chart:
    """One bar per group (a horizontal bar chart, largest labels readable)."""
    values = [{"group": g, "value": _clean(v)} for g, v in bars]
    spec = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "width": "container",
        "height": {"step": 28},
        "data": {"values": values},
        "mark": {"type": "bar", "color": BLUE},
        "encoding": {
            "y": {
                "field": "group",
                "type": "nominal",
                "title": None,
                "sort": None,
                "axis": {"labelLimit": 260},
            },
            "x": {"field": "value", "type": "quantitative", "title": UNIT_TITLES.get(unit, "")},
        },
        "config": _config(),
    }
    return Chart(chart_id, title, spec, f"{chart_id}-data")


def _temporal_x(field: str, fmt: str = "%b %Y") -> dict[str, Any]:
    return {
        "field": field,
        "type": "temporal",
        "title": None,
        "axis": {"format": fmt, "labelAngle": -45},
    }


def forecast_chart(
    chart_id: str,
    title: str,
    counts: Sequence[tuple[str, float | None]],
    forecast: Sequence[dict[str, Any]],
    y_title: str = "Number",
) -> Chart:
    """Counts over time (ISO dates) with a forecast line and its 80% and 95% bands."""
    values: list[dict[str, Any]] = [
        {"date": d, "series": "Recorded", "value": _clean(v)} for d, v in counts
    ]
    for f in forecast:
        values.append(
            {
                "date": f["period"],
                "series": "Forecast",
                "value": _clean(f["mean"]),
                "lower80": _clean(f["lower80"]),
                "upper80": _clean(f["upper80"]),
                "lower95": _clean(f["lower95"]),
                "upper95": _clean(f["upper95"]),
            }
        )
    x = _temporal_x("date")
    forecast_only = {"filter": "datum.series === 'Forecast'"}
    layers: list[dict[str, Any]] = [
        {
            "transform": [forecast_only],
            "mark": {"type": "area", "color": BLUE, "opacity": 0.15},
            "encoding": {
                "x": x,
                "y": {"field": "lower95", "type": "quantitative"},
                "y2": {"field": "upper95"},
            },
        },
        {
            "transform": [forecast_only],
            "mark": {"type": "area", "color": BLUE, "opacity": 0.3},
            "encoding": {
                "x": x,
                "y": {"field": "lower80", "type": "quantitative"},
                "y2": {"field": "upper80"},
            },
        },
        {
            "mark": {"type": "line", "strokeWidth": 2},
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative", "title": y_title},
                "color": {
                    "field": "series",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": ["Recorded", "Forecast"], "range": [DARK, BLUE]},
                    "legend": {"orient": "bottom"},
                },
                "strokeDash": {
                    "field": "series",
                    "type": "nominal",
                    "scale": {"domain": ["Recorded", "Forecast"], "range": [[1, 0], [6, 4]]},
                    "legend": None,
                },
            },
        },
    ]
    spec = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "width": "container",
        "height": 280,
        "data": {"values": values},
        "layer": layers,
        "config": _config(),
    }
    return Chart(chart_id, title, spec, f"{chart_id}-data")


def multi_line_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, str, float | None]],
    y_title: str = "Number",
    time_format: str = "%b %Y",
) -> Chart:
    """One line per group: points are (ISO date, group, value)."""
    values = [{"date": d, "group": g, "value": _clean(v)} for d, g, v in points]
    spec = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "width": "container",
        "height": 280,
        "data": {"values": values},
        "mark": {"type": "line", "strokeWidth": 2},
        "encoding": {
            "x": _temporal_x("date", time_format),
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "color": {
                "field": "group",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom", "columns": 3},
            },
        },
        "config": _config(),
    }
    return Chart(chart_id, title, spec, f"{chart_id}-data")


def interval_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    x_title: str,
    reference: float | None = 1.0,
) -> Chart:
    """An estimate and its interval per group (rows: group, estimate, low, high), with a
    reference line (1 for ratios, 0 for differences)."""
    values = [
        {"group": g, "value": _clean(v), "low": _clean(lo), "high": _clean(hi)}
        for g, v, lo, hi in rows
    ]
    y = {
        "field": "group",
        "type": "nominal",
        "title": None,
        "sort": None,
        "axis": {"labelLimit": 260},
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "rule", "color": GREY, "strokeWidth": 2},
            "encoding": {
                "y": y,
                "x": {"field": "low", "type": "quantitative", "title": x_title},
                "x2": {"field": "high"},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "color": BLUE, "size": 80},
            "encoding": {"y": y, "x": {"field": "value", "type": "quantitative"}},
        },
    ]
    if reference is not None:
        layers.append(
            {
                "mark": {"type": "rule", "color": DARK, "strokeDash": [6, 4]},
                "encoding": {"x": {"datum": reference}},
            }
        )
    spec = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "width": "container",
        "height": {"step": 26},
        "data": {"values": values},
        "layer": layers,
        "config": _config(),
    }
    return Chart(chart_id, title, spec, f"{chart_id}-data")


def from_spec(chart_id: str, title: str, spec: dict[str, Any]) -> Chart:
    """A chart from a ready-made Vega-Lite spec (e.g. Altair's), in the page's style."""
    full = dict(spec)
    full.setdefault("$schema", VEGA_LITE_SCHEMA)
    full["config"] = {**(full.get("config") or {}), **_config()}
    if "width" in full:
        full["width"] = "container"
    return Chart(chart_id, title, full, f"{chart_id}-data")


def to_svg(spec: dict[str, Any]) -> str:
    """The chart as a standalone SVG (for reports), drawn by vl-convert without a browser."""
    import vl_convert

    fixed = dict(spec)
    if fixed.get("width") == "container":
        fixed["width"] = 640
    return str(vl_convert.vegalite_to_svg(fixed))


def sparkline(values: list[float | None], label: str) -> Markup:
    """A small line of up to 12 monthly values, drawn on the server as inline SVG."""
    width, height, pad = 120, 32, 3
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return Markup('<span class="govuk-body-s app-muted">Not enough months</span>')
    low = min(v for _, v in known)
    high = max(v for _, v in known)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(1, len(values) - 1)

    def xy(i: int, v: float) -> str:
        x = pad + i * step
        y = height - pad - (v - low) / span * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    points = " ".join(xy(i, v) for i, v in known)
    last_i, last_v = known[-1]
    last = xy(last_i, last_v).split(",")
    return Markup(
        f'<svg class="app-sparkline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'focusable="false"><polyline fill="none" stroke="{BLUE}" stroke-width="2" '
        f'points="{points}"/><circle cx="{last[0]}" cy="{last[1]}" r="3" fill="{DARK}"/></svg>'
    )
