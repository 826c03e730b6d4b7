"""The benchmarking view: tidy tables and Vega-Lite chart specs for the dashboard and reports.

Everything here takes the ``Comparison`` objects of ``compare`` and returns plain data:
pandas DataFrames in long (tidy) form, and chart specifications as JSON-able dicts (made
with Altair, rendered by any Vega-Lite renderer: vega-embed in the dashboard, vl-convert in
reports).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from csc_insight.benchmarks.compare import Comparison

AUTHORITY, NEIGHBOUR, ENGLAND_ROLE = "This authority", "Statistical neighbour", "England"
_HIGHLIGHT = "#1d70b8"  # GOV.UK blue
_MUTED = "#b1b4b6"  # GOV.UK mid grey
_ENGLAND = "#d4351c"  # GOV.UK red

SUMMARY_COLUMNS = (
    "id",
    "title",
    "unit",
    "polarity",
    "period",
    "local",
    "la_published",
    "england",
    "region",
    "sn_mean",
    "sn_median",
    "rank",
    "of",
    "quartile",
    "published_year",
    "local_newer",
)
COMPARATORS = ("la_published", "england", "region", "sn_mean", "sn_median")


def summary_table(comparisons: list[Comparison]) -> pd.DataFrame:
    """One row per indicator: the local value and every comparator."""
    rows = [{k: c.to_dict()[k] for k in SUMMARY_COLUMNS} for c in comparisons]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _label(c: Comparison, comparator: str) -> str:
    year = c.published_period or "-"
    return {
        "local": f"{c.la_name or c.la_code} ({c.period or 'no local data'}, local)",
        "la_published": f"{c.la_name or c.la_code} ({year}, published)",
        "england": f"England ({year})",
        "region": f"{c.region_name or 'Region'} ({year})",
        "sn_mean": f"Statistical neighbours, mean ({year})",
        "sn_median": f"Statistical neighbours, median ({year})",
    }[comparator]


def comparison_table(comparisons: list[Comparison]) -> pd.DataFrame:
    """Tidy: one row per indicator and comparator, with the local value's difference."""
    rows = []
    for c in comparisons:
        d = c.to_dict()
        rows.append(
            {
                "id": c.id,
                "title": c.title,
                "unit": c.unit,
                "comparator": "local",
                "label": _label(c, "local"),
                "value": d["local"],
                "difference": None,
            }
        )
        for comparator in COMPARATORS:
            rows.append(
                {
                    "id": c.id,
                    "title": c.title,
                    "unit": c.unit,
                    "comparator": comparator,
                    "label": _label(c, comparator),
                    "value": d[comparator],
                    "difference": d["differences"][comparator],
                }
            )
    return pd.DataFrame(rows)


def neighbour_table(c: Comparison) -> pd.DataFrame:
    """The authority and its neighbours for the published year (plus England), tidy."""
    rows: list[dict[str, Any]] = [
        {
            "area": f"{c.la_name or c.la_code} (local)" if c.local is not None else c.la_name,
            "code": c.la_code,
            "rank": 0,
            "closeness": None,
            "value": c.local if c.local is not None else c.la_published,
            "symbol": None,
            "role": AUTHORITY,
        }
    ]
    rows += [
        {
            "area": n.name or n.code,
            "code": n.code,
            "rank": n.rank,
            "closeness": n.closeness,
            "value": n.value,
            "symbol": n.symbol,
            "role": NEIGHBOUR,
        }
        for n in c.neighbours
    ]
    return pd.DataFrame(rows)


def trend_table(c: Comparison) -> pd.DataFrame:
    """The published years, tidy: year, series (authority, England, region, SN mean), value."""
    names = {
        "la": f"{c.la_name or c.la_code} (published)",
        "england": "England",
        "region": c.region_name or "Region",
        "sn_mean": "Statistical neighbours (mean)",
        "local": f"{c.la_name or c.la_code} (local)",
    }
    rows = [
        {"year": point["year"], "series": names[key], "value": point[key]}
        for point in c.trend
        for key in names
        if point.get(key) is not None
    ]
    return pd.DataFrame(rows, columns=["year", "series", "value"])


def _title(c: Comparison) -> str:
    unit = {"percent": "%", "rate_per_10k": "per 10,000 children"}.get(c.unit, c.unit)
    return f"{c.title} ({unit})"


def neighbour_chart(c: Comparison) -> dict[str, Any]:
    """Bar chart of the neighbours' values with the authority highlighted, England as a rule."""
    data = neighbour_table(c).dropna(subset=["value"])
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=_title(c)),
            y=alt.Y("area:N", sort="-x", title=None),
            color=alt.Color(
                "role:N",
                scale=alt.Scale(domain=[AUTHORITY, NEIGHBOUR], range=[_HIGHLIGHT, _MUTED]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["area:N", "value:Q", "closeness:N"],
        )
    )
    layers: list[Any] = [bars]
    if c.england is not None:
        england = pd.DataFrame([{"value": c.england, "label": f"England {c.england:,.1f}"}])
        layers.append(
            alt.Chart(england)
            .mark_rule(color=_ENGLAND, strokeDash=[4, 3])
            .encode(x="value:Q", tooltip=["label:N"])
        )
    title = f"{c.title}: {c.la_name or c.la_code} and its statistical neighbours"
    chart = alt.layer(*layers).properties(title=title, width=420)
    spec: dict[str, Any] = chart.to_dict()
    return spec


def trend_chart(c: Comparison) -> dict[str, Any]:
    """Line chart of the published years: the authority against England, region and SNs."""
    data = trend_table(c)
    chart = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title="Year to 31 March"),
            y=alt.Y("value:Q", title=_title(c)),
            color=alt.Color("series:N", legend=alt.Legend(title=None, orient="bottom")),
            tooltip=["series:N", "year:O", "value:Q"],
        )
        .properties(title=f"{c.title}: trend", width=420)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def chart_specs(c: Comparison) -> dict[str, dict[str, Any]]:
    """Both charts of one indicator, by name."""
    charts = {"trend": trend_chart(c)}
    if c.neighbours:
        charts["neighbours"] = neighbour_chart(c)
    return charts


__all__ = [
    "chart_specs",
    "comparison_table",
    "neighbour_chart",
    "neighbour_table",
    "summary_table",
    "trend_chart",
    "trend_table",
]
