"""Indicator tables shared by the Overview, Timeliness and Repeat use pages."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from csc_insight.indicators import REGISTRY, IndicatorResult, targets
from csc_insight.indicators.periods import Period
from csc_insight.web.charts import sparkline
from csc_insight.web.context import url
from csc_insight.web.formatting import Formatter, format_value
from csc_insight.web.service import Filters
from csc_insight.web.tables import Cell, DataTable

AREAS: tuple[tuple[str, str], ...] = (
    ("referrals", "Referrals"),
    ("assessments", "Assessments and enquiries"),
    ("cin", "Children in need"),
    ("cp", "Child protection plans"),
    ("cla", "Children looked after"),
    ("adoption", "Adoption"),
    ("leavers", "Care leavers"),
    ("svc", "Local services and early help"),
    ("other", "Other measures"),
)
_REFERRALS = {"cin.referrals", "cin.referral_rate", "cin.rereferral_pct", "cin.nfa_pct"}
_CHILDREN_IN_NEED = {"cin.children_in_need_31mar", "cin.cin_rate_31mar"}

STATUS_TAGS = {
    targets.ON_TARGET: ("On target", "govuk-tag--green"),
    targets.NEAR_TARGET: ("Near target", "govuk-tag--yellow"),
    targets.OFF_TARGET: ("Off target", "govuk-tag--red"),
}


def area(indicator_id: str) -> str:
    family = indicator_id.split(".", 1)[0]
    if indicator_id in _REFERRALS:
        return "referrals"
    if indicator_id in _CHILDREN_IN_NEED:
        return "cin"
    if family == "cin":
        return "assessments"
    return family if family in dict(AREAS) else "other"


def status_cell(result: IndicatorResult, hidden: bool) -> Cell:
    if hidden:
        return Cell("Not shown", "c")
    if result.status is None:
        text = "No target" if result.target is None else "Not available"
        return Cell(text, "", html=Markup(f'<span class="govuk-body-s app-muted">{text}</span>'))
    label, colour = STATUS_TAGS[result.status]
    return Cell(label, label, html=Markup(f'<strong class="govuk-tag {colour}">{label}</strong>'))


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    value: float | None
    text: str


def trend_points(
    fmt: Formatter, months: list[tuple[Period, IndicatorResult | None]]
) -> list[TrendPoint]:
    """Monthly values as this audience may see them (suppressed months have no value)."""
    out = []
    for period, result in months:
        if result is None:
            out.append(TrendPoint(period, None, "Not available"))
            continue
        row = fmt.indicator(result)
        value = None if row.suppressed else result.value
        out.append(TrendPoint(period, value, row.value))
    return out


def trend_cell(points: list[TrendPoint] | None, unit: str) -> Cell:
    if points is None:
        return Cell(
            "Being worked out",
            "",
            html=Markup(
                '<span class="govuk-body-s app-muted">Being worked out: refresh soon</span>'
            ),
        )
    known = [p for p in points if p.value is not None]
    if len(known) < 2:
        return Cell("Not enough months", "")
    first, last = known[0], known[-1]
    label = (
        f"Monthly trend: {format_value(first.value, unit)} in {first.period.start:%B %Y}, "
        f"{format_value(last.value, unit)} in {last.period.start:%B %Y}"
    )
    return Cell(label, label, html=sparkline([p.value for p in points], label))


def headline_table(
    table_id: str,
    caption: str,
    results: list[IndicatorResult],
    fmt: Formatter,
    chosen: Filters,
    trends: dict[str, list[tuple[Period, IndicatorResult | None]]] | None,
    *,
    trend_column: bool = True,
) -> DataTable:
    """Indicator, value, target, status against tolerance and the 12-month trend."""
    columns = ["Indicator", "Value", "Target", "Status"]
    if trend_column:
        columns.append("Last 12 months")
    table = DataTable(table_id, caption, columns, numeric={1, 2})
    for r in results:
        row = fmt.indicator(r)
        target = "–" if r.target is None else format_value(r.target, r.unit)
        link = url(f"/indicators/{r.id}", **chosen.query())
        cells = [
            Cell(r.title, r.title, href=link),
            Cell(row.value, None if row.suppressed else r.value),
            Cell(target, r.target),
            status_cell(r, row.suppressed),
        ]
        if trend_column:
            points = None if trends is None else trend_points(fmt, trends.get(r.id, []))
            cells.append(trend_cell(points, r.unit))
        table.add(*cells)
    return table


def grouped(results: list[IndicatorResult]) -> list[tuple[str, str, list[IndicatorResult]]]:
    """Results by area, in the areas' order: (area key, title, results)."""
    out = []
    for key, title in AREAS:
        members = [r for r in results if area(r.id) == key]
        if members:
            out.append((key, title, members))
    return out


def summary(results: list[IndicatorResult], fmt: Formatter) -> dict[str, int]:
    counts = {targets.ON_TARGET: 0, targets.NEAR_TARGET: 0, targets.OFF_TARGET: 0}
    for r in results:
        if r.status in counts and not fmt.indicator(r).suppressed:
            counts[r.status] += 1
    return counts


def unit_of(indicator_id: str) -> str:
    return str(REGISTRY[indicator_id].unit)


def describe_filters(chosen: Filters) -> str:
    parts = [f"{k} {escape(v)}" for k, v in chosen.values().items()]
    return ", ".join(parts)
