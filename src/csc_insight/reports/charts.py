"""Charts for printed reports: Vega-Lite specs drawn to SVG offline by vl-convert.

Colours follow the GOV.UK palette the dashboard uses; every chart has a plain-text
description for its ``alt`` text, so the pack reads without the pictures.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from csc_insight.concerns import spc, words

BLUE = "#1d70b8"
DARK = "#0b0c0c"
GREY = "#505a5f"
LIGHT = "#b1b4b6"
RED = "#d4351c"
ORANGE = "#f47738"
GREEN = "#00703c"
FONT = "DejaVu Sans, Arial, sans-serif"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

UNIT_TITLES = {
    "percent": "Per cent",
    "rate_per_10k": "Per 10,000 children",
    "days": "Days",
    "working_days": "Working days",
    "count": "Number",
    "score": "Score",
}


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelColor": DARK, "titleColor": DARK},
        "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
        "title": {"fontSize": 13, "anchor": "start", "color": DARK},
        "view": {"stroke": None},
    }


_POINT_COLOURS = {
    "Common cause": GREY,
    "Deterioration": ORANGE,
    "Improvement": BLUE,
    "Special cause": DARK,
}


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def spc_spec(
    title: str,
    chart: spc.ControlChart,
    unit: str,
    polarity: str,
    target: float | None = None,
    hidden: set[int] | None = None,
) -> dict[str, Any]:
    """A control chart: monthly values, average, 3-sigma limits, signals coloured.

    Points in ``hidden`` (small numbers, for viewers) are left out with their limits.
    """
    hidden = hidden or set()
    rows = []
    for i, label in enumerate(chart.labels):
        if i in hidden:
            continue
        kinds = {spc.judge(s, polarity) for s in chart.signals_at(i)}
        point = (
            "Deterioration"
            if "deterioration" in kinds
            else "Improvement"
            if "improvement" in kinds
            else "Special cause"
            if "change" in kinds
            else "Common cause"
        )
        rows.append(
            {
                "month": f"{label}-01",
                "value": _num(chart.values[i]),
                "lower": _num(chart.lower[i]),
                "upper": _num(chart.upper[i]),
                "centre": _num(chart.centre),
                "point": point,
            }
        )
    present = {r["point"] for r in rows}
    x = {
        "field": "month",
        "type": "temporal",
        "timeUnit": "yearmonth",
        "title": None,
        "axis": {"format": "%b %y", "labelAngle": -45, "tickCount": 12},
    }
    y_title = UNIT_TITLES.get(unit, "")
    interpolate = "step-after" if chart.kind is spc.ChartType.P else "linear"
    layers: list[dict[str, Any]] = [
        {
            "mark": {
                "type": "line",
                "color": LIGHT,
                "strokeDash": [4, 3],
                "interpolate": interpolate,
            },
            "encoding": {"x": x, "y": {"field": "upper", "type": "quantitative"}},
        },
        {
            "mark": {
                "type": "line",
                "color": LIGHT,
                "strokeDash": [4, 3],
                "interpolate": interpolate,
            },
            "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": GREY, "strokeWidth": 1},
            "encoding": {"x": x, "y": {"field": "centre", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": BLUE, "strokeWidth": 2},
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative", "title": y_title},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 45, "opacity": 1},
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative"},
                "color": {
                    "field": "point",
                    "type": "nominal",
                    "title": None,
                    "scale": {
                        "domain": [k for k in _POINT_COLOURS if k in present],
                        "range": [c for k, c in _POINT_COLOURS.items() if k in present],
                    },
                },
            },
        },
    ]
    if target is not None:
        layers.append(
            {
                "mark": {"type": "rule", "color": RED, "strokeDash": [8, 4], "strokeWidth": 1.5},
                "encoding": {"y": {"datum": target}},
            }
        )
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "subtitle": _spc_subtitle(chart, unit, target)},
        "width": 560,
        "height": 200,
        "data": {"values": rows},
        "layer": layers,
        "config": _config(),
    }


def _spc_subtitle(chart: spc.ControlChart, unit: str, target: float | None) -> str:
    kind = "p-chart" if chart.kind is spc.ChartType.P else "XmR chart"
    text = f"{kind}: average (grey) and 3-sigma limits (dashed)"
    if chart.centre is not None:
        text += f"; average {words.value(chart.centre, unit)}"
    if target is not None:
        text += f"; target {words.value(target, unit, exact=True)} (red)"
    return text


def spc_description(title: str, chart: spc.ControlChart, unit: str, polarity: str) -> str:
    """The chart in words (alt text)."""
    if not chart.labels:
        return f"{title}: no monthly data."
    first, last = words.month_name(chart.labels[0]), words.month_name(chart.labels[-1])
    text = f"Control chart of {title.lower()}, {first} to {last}"
    if chart.centre is not None:
        text += f", average {words.value(chart.centre, unit)}"
    signals = [f"{spc.judge(s, polarity)}: {s.describe()}" for s in chart.signals]
    text += "; signals: " + "; ".join(signals) if signals else "; no signals of special cause"
    return text + "."


def comparison_spec(
    title: str, unit: str, bars: list[tuple[str, float | None]], highlight: str
) -> dict[str, Any]:
    """Horizontal bars: the authority beside England, its region and its neighbours."""
    rows = [
        {"who": who, "value": _num(v), "mine": who == highlight} for who, v in bars if v is not None
    ]
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "subtitle": "Published figures for the same year"},
        "width": 420,
        "height": {"step": 22},
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "who", "type": "nominal", "sort": None, "title": None},
            "x": {"field": "value", "type": "quantitative", "title": UNIT_TITLES.get(unit, "")},
            "color": {
                "field": "mine",
                "type": "nominal",
                "legend": None,
                "scale": {"domain": [True, False], "range": [BLUE, LIGHT]},
            },
        },
        "config": _config(),
    }


def ratio_spec(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Relative rates with 95% intervals, one row per stage; 1 = the same as the reference."""
    data = [
        {
            "stage": r["stage"],
            "ratio": _num(r.get("ratio")),
            "low": _num(r.get("ci_low")),
            "high": _num(r.get("ci_high")),
        }
        for r in rows
    ]
    y = {
        "field": "stage",
        "type": "nominal",
        "title": None,
        "sort": None,
        "axis": {"labelLimit": 320},
    }
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "subtitle": "Relative rate with 95% interval; 1 = the same"},
        "width": 420,
        "height": {"step": 24},
        "data": {"values": data},
        "layer": [
            {
                "mark": {"type": "rule", "color": GREY},
                "encoding": {
                    "y": y,
                    "x": {"field": "low", "type": "quantitative", "title": "Relative rate"},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "color": ORANGE, "size": 60},
                "encoding": {"y": y, "x": {"field": "ratio", "type": "quantitative"}},
            },
            {
                "mark": {"type": "rule", "color": DARK, "strokeDash": [4, 3]},
                "encoding": {"x": {"datum": 1}},
            },
        ],
        "config": _config(),
    }


def before_after_spec(title: str, means: dict[str, dict[str, float]], unit: str) -> dict[str, Any]:
    """Served children against the comparison group, before and after the start."""
    rows = [
        {"group": group.capitalize(), "when": when.capitalize(), "value": _num(value)}
        for group, by_when in means.items()
        for when, value in by_when.items()
    ]
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "subtitle": "Average before and after the start of the service"},
        "width": 300,
        "height": 180,
        "data": {"values": rows},
        "mark": {"type": "line", "point": True, "strokeWidth": 2},
        "encoding": {
            "x": {
                "field": "when",
                "type": "nominal",
                "sort": ["Before", "After"],
                "title": None,
                "axis": {"labelAngle": 0},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": unit,
                "scale": {"zero": False},
            },
            "color": {
                "field": "group",
                "type": "nominal",
                "title": None,
                "scale": {"domain": ["Served", "Comparison"], "range": [BLUE, GREY]},
            },
        },
        "config": _config(),
    }


def svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec drawn as SVG, offline."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(spec))


def data_uri(svg_text: str) -> str:
    """An SVG as a data: URI for <img>, so the HTML stays one self-contained file."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode()


__all__ = [
    "before_after_spec",
    "comparison_spec",
    "data_uri",
    "ratio_spec",
    "spc_description",
    "spc_spec",
    "svg",
]
