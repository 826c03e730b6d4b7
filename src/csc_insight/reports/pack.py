"""The monthly meeting pack: one command, a pack to put in front of a Director.

``gather`` works out everything the pack shows; ``write`` writes it as PDF (WeasyPrint,
charts drawn to SVG offline by vl-convert), self-contained HTML, or an xlsx workbook with no
macros (one sheet per area, styled). Sections: cover, what the pack covers, headline
scorecard (value, target, RAG, trend, England and neighbours), areas of concern and of
improvement with their charts, actions due and how their indicators moved, data quality,
and the definition of every figure shown.

Audience ``viewer`` applies disclosure control (counts from 1 to the threshold shown as
"c", as ``csc-insight indicators`` does for viewers) and leaves out child-level content;
``analyst`` shows every figure and lists the pseudonymised children with the most
data-quality findings, for correction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import jinja2

from csc_insight import __version__
from csc_insight.actions import effect
from csc_insight.actions.plan import Action, list_actions
from csc_insight.appstate.store import AppState
from csc_insight.concerns import detect, spc, words
from csc_insight.concerns.detect import AREAS, SOURCES, Finding, Findings
from csc_insight.concerns.series import ANNUAL_ONLY, DEFAULT_MONTHS, MonthlySeries
from csc_insight.errors import InputError
from csc_insight.indicators import REGISTRY, IndicatorResult, targets
from csc_insight.indicators.escalation import EscalationThresholds
from csc_insight.indicators.periods import parse
from csc_insight.indicators.registry import Polarity
from csc_insight.reports import charts, pdf
from csc_insight.warehouse.store import Warehouse

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = (".pdf", ".html", ".xlsx")
RAG = {
    targets.OFF_TARGET: ("red", "Red: off target"),
    targets.NEAR_TARGET: ("amber", "Amber: near target"),
    targets.ON_TARGET: ("green", "Green: on target"),
}
# Charts drawn per kind of finding (the rest are listed without one, to keep the pack short).
MAX_CHARTS = {detect.CONCERN: 12, detect.IMPROVEMENT: 6}
RECENTLY_CLOSED_DAYS = 92
DUE_SOON_DAYS = 31


@dataclass
class ScoreRow:
    """One headline figure on the scorecard."""

    id: str
    title: str
    area: str
    unit: str
    polarity: str
    value: float | None
    numerator: float | None
    denominator: float | None
    suppressed: bool
    value_text: str
    target_text: str
    rag: str | None
    rag_text: str
    previous_text: str
    trend_text: str
    spc_text: str
    england_text: str
    sn_text: str
    owner: str
    definition: str


@dataclass
class PackChart:
    """A chart of a finding: the SVG and what it shows, in words."""

    key: str
    title: str
    svg: str
    alt: str

    @property
    def uri(self) -> str:
        return charts.data_uri(self.svg)


@dataclass
class ActionItem:
    """An action with how its indicators moved."""

    action: Action
    movements: list[effect.Movement]
    overdue: bool
    due_soon: bool

    @property
    def state(self) -> str:
        if self.overdue:
            return "Overdue"
        if self.due_soon:
            return "Due soon"
        return self.action.status.capitalize()


@dataclass
class Pack:
    """Everything one meeting pack shows."""

    authority: str
    la_code: str | None
    period: str
    period_text: str
    previous_period: str
    data_to: str
    generated: datetime
    audience: str
    threshold: int
    findings: Findings
    scorecard: list[ScoreRow]
    actions: list[ActionItem]
    actions_note: str
    charts: dict[str, PackChart]
    definitions: list[dict[str, str]]
    version: str = __version__
    notes: list[str] = field(default_factory=list)

    @property
    def concerns(self) -> list[Finding]:
        return self.findings.concerns

    @property
    def improvements(self) -> list[Finding]:
        return self.findings.improvements

    @property
    def areas(self) -> list[tuple[str, str, list[ScoreRow]]]:
        """Scorecard rows grouped by area, in the catalogue's order."""
        out = []
        for key, title in AREAS:
            rows = [r for r in self.scorecard if r.area == key]
            if rows:
                out.append((key, title, rows))
        return out

    @property
    def edition(self) -> str:
        if self.audience == "viewer":
            return (
                f"Viewer edition: counts from 1 to {self.threshold} are shown as c (and figures "
                "worked out from them), and no child-level detail is included."
            )
        return (
            "Analyst edition: every figure is shown unsuppressed and the data-quality section "
            "lists pseudonymised children. Do not circulate: make a viewer edition "
            "(--audience viewer) for wider distribution."
        )


# --- gathering ---------------------------------------------------------------------------
def _trend(r: IndicatorResult, prev: IndicatorResult | None) -> tuple[str, str]:
    """('27.0%', 'Up 0.8 points (worse)') against the previous year."""
    if prev is None or prev.value is None or prev.suppressed:
        return ("c" if prev is not None and prev.suppressed else "-"), "-"
    prev_text = words.short(prev.value, r.unit)
    if r.value is None or r.suppressed:
        return prev_text, "-"
    change = r.value - prev.value
    if abs(change) < 1e-9:
        return prev_text, "No change"
    direction = "Up" if change > 0 else "Down"
    amount = words.gap(change, r.unit) if r.unit != "count" else f"{abs(change):,.0f}"
    if r.polarity == Polarity.NEITHER:
        return prev_text, f"{direction} {amount}"
    better = (change < 0) == (r.polarity == Polarity.LOWER_IS_BETTER)
    return prev_text, f"{direction} {amount} ({'better' if better else 'worse'})"


def _spc_text(indicator_id: str, f: Findings, recent_months: int = 3) -> str:
    """What the monthly control chart says now, for the scorecard."""
    s = f.series.get(indicator_id)
    if s is None:
        return "Annual measure" if indicator_id in ANNUAL_ONLY else "-"
    if not s.chart.enough:
        return "Too few months"
    kinds = {spc.judge(x, s.polarity) for x in spc.recent(s.chart, recent_months)}
    if "deterioration" in kinds and "improvement" in kinds:
        return "Mixed signals"
    if "deterioration" in kinds:
        return "Deteriorating"
    if "improvement" in kinds:
        return "Improving"
    return "No special cause"


def _scorecard(f: Findings, config: targets.AuthorityConfig) -> list[ScoreRow]:
    rows = []
    for indicator_id, r in f.results.items():
        t = config.targets.get(indicator_id)
        prev_text, trend_text = _trend(r, f.previous.get(indicator_id))
        c = f.comparisons.get(indicator_id)
        rag, rag_text = RAG.get(
            r.status or "", (None, "No target" if not t or t.target is None else "-")
        )
        target_text = "-"
        if t is not None and t.target is not None:
            target_text = words.short(t.target, r.unit).replace(".0%", "%")
            if t.tolerance:
                target_text += f" ± {words.number(t.tolerance)}"
        rows.append(
            ScoreRow(
                id=indicator_id,
                title=r.title,
                area=detect.area(indicator_id),
                unit=r.unit,
                polarity=r.polarity,
                value=r.value,
                numerator=r.numerator,
                denominator=r.denominator,
                suppressed=r.suppressed,
                value_text=words.short(r.value, r.unit, r.suppressed),
                target_text=target_text,
                rag=rag,
                rag_text=rag_text,
                previous_text=prev_text,
                trend_text=trend_text,
                spc_text=_spc_text(indicator_id, f),
                england_text="-" if c is None else words.short(c.england, r.unit),
                sn_text="-" if c is None else words.short(c.sn_mean, r.unit),
                owner=(t.owner if t is not None else None) or "-",
                definition=r.definition,
            )
        )
    return rows


def _hidden_months(s: MonthlySeries, audience: str, threshold: int) -> set[int]:
    if audience != "viewer":
        return set()
    out = set()
    for i, (num, den) in enumerate(zip(s.numerators, s.denominators, strict=True)):
        if any(v is not None and 0 < v <= threshold for v in (num, den)):
            out.add(i)
    return out


def _chart_for(finding: Finding, f: Findings, config: targets.AuthorityConfig) -> PackChart | None:
    if finding.indicator_ids and finding.key.startswith("indicator:"):
        indicator_id = finding.indicator_ids[0]
        s = f.series.get(indicator_id)
        t = config.targets.get(indicator_id)
        goal = t.target if t is not None else None
        if s is not None and s.chart.enough:
            hidden = _hidden_months(s, f.audience, f.threshold)
            spec = charts.spc_spec(finding.title, s.chart, s.unit, s.polarity, goal, hidden)
            alt = charts.spc_description(finding.title, s.chart, s.unit, s.polarity)
            return PackChart(finding.key, finding.title, charts.svg(spec), alt)
        c = f.comparisons.get(indicator_id)
        r = f.results.get(indicator_id)
        comparators = (c.england, c.region, c.sn_mean) if c is not None else ()
        if c is not None and r is not None and not r.suppressed and any(comparators):
            mine = c.la_name or "This authority"
            bars = [
                (mine, c.local),
                ("England", c.england),
                (c.region_name or "Region", c.region),
                ("Statistical neighbours (average)", c.sn_mean),
            ]
            spec = charts.comparison_spec(finding.title, c.unit, bars, mine)
            alt = f"{finding.title}: " + "; ".join(
                f"{who} {words.value(v, c.unit)}" for who, v in bars if v is not None
            )
            return PackChart(finding.key, finding.title, charts.svg(spec), alt)
        return None
    if finding.key.startswith("equity:"):
        rows = [
            {
                "stage": e.data.get("stage_title", e.data["stage"]),
                "ratio": e.data["ratio"],
                "ci_low": e.data.get("ci_low"),
                "ci_high": e.data.get("ci_high"),
            }
            for e in finding.evidence
            if "ratio" in e.data and e.data.get("ratio") is not None
        ]
        if rows:
            spec = charts.ratio_spec(finding.title, rows)
            alt = f"{finding.title}: " + "; ".join(
                f"{r['stage']} relative rate {r['ratio']:.2f}" for r in rows
            )
            return PackChart(finding.key, finding.title, charts.svg(spec), alt)
        return None
    if finding.key.startswith("impact:"):
        service = finding.key.split(":", 1)[1]
        est = next((i for i in f.impacts if i.service == service), None)
        if est is not None and est.means:
            spec = charts.before_after_spec(finding.title, est.means, "Attendance (%)")
            alt = f"{finding.title}: " + "; ".join(
                f"{group} {when} {value:.1f}"
                for group, by_when in est.means.items()
                for when, value in by_when.items()
                if value == value
            )
            return PackChart(finding.key, finding.title, charts.svg(spec), alt)
    return None


def _actions(state: AppState | None, f: Findings, today: date) -> tuple[list[ActionItem], str]:
    if state is None:
        return [], "No action plan store was given, so no actions are shown."
    found = list_actions(state)
    since = today - timedelta(days=RECENTLY_CLOSED_DAYS)
    items = []
    for a in found:
        if not a.active and a.updated_at.date() < since:
            continue
        moved = (
            effect.movement(a, f.figures, f.period, f.audience, f.threshold)
            if f.figures is not None
            else []
        )
        due_soon = (
            a.active
            and a.due_date is not None
            and today <= a.due_date <= today + timedelta(days=DUE_SOON_DAYS)
        )
        items.append(ActionItem(a, moved, a.overdue(today), due_soon))
    active = [i for i in items if i.action.active]
    closed = [i for i in items if not i.action.active]
    items = active + closed
    overdue = sum(1 for i in items if i.overdue)
    note = (
        f"{len(active)} open action(s), {overdue} overdue; {len(closed)} closed in the last "
        f"{RECENTLY_CLOSED_DAYS} days."
        if items
        else "The action plan is empty: agree actions at the meeting and record them in the "
        "dashboard or with `csc-insight actions add`."
    )
    return items, note


def _definitions(rows: list[ScoreRow]) -> list[dict[str, str]]:
    out = []
    for r in rows:
        ind = REGISTRY[r.id]
        better = {
            Polarity.HIGHER_IS_BETTER: "higher is better",
            Polarity.LOWER_IS_BETTER: "lower is better",
        }.get(Polarity(r.polarity), "neither direction is better")
        out.append(
            {
                "id": r.id,
                "title": r.title,
                "definition": r.definition,
                "unit": charts.UNIT_TITLES.get(r.unit, r.unit),
                "polarity": better,
                "source": ", ".join(ind.tables),
            }
        )
    return out


def _authority(f: Findings, config: targets.AuthorityConfig, la_code: str | None) -> str:
    named = (config.raw.get("authority") or {}).get("name")
    if named:
        return str(named)
    for c in f.comparisons.values():
        if c.la_name:
            return str(c.la_name)
    return f"Local authority {la_code}" if la_code else "Local authority"


def gather(
    warehouse: Warehouse,
    period: str | None = None,
    *,
    home: Path | None = None,
    state: AppState | None = None,
    audience: str = "analyst",
    la_code: str | None = None,
    sources: Sequence[str] = SOURCES,
    months: int = DEFAULT_MONTHS,
    today: date | None = None,
) -> Pack:
    """Everything the pack shows for a period (default: the latest loaded)."""
    config = (
        targets.load(home)
        if home is not None
        else targets.AuthorityConfig({}, EscalationThresholds(), {})
    )
    f = detect.find(
        warehouse,
        period,
        home=home,
        config=config,
        la_code=la_code,
        audience=audience,
        sources=sources,
        months=months,
    )
    day = today or date.today()
    code = None
    try:
        from csc_insight.benchmarks.compare import authority_code

        code = authority_code(warehouse, home, la_code)
    except Exception:  # several authorities loaded and none configured: no code on the cover
        code = None
    rows = _scorecard(f, config)
    chart_map: dict[str, PackChart] = {}
    for kind, found in ((detect.CONCERN, f.concerns), (detect.IMPROVEMENT, f.improvements)):
        for finding in found[: MAX_CHARTS[kind]]:
            try:
                chart = _chart_for(finding, f, config)
            except Exception as exc:  # a chart is never worth losing the pack for
                logging.getLogger(__name__).warning("chart %s: %s", finding.key, exc)
                chart = None
            if chart is not None:
                chart_map[finding.key] = chart
    items, note = _actions(state, f, day)
    p = parse(f.period)
    last_months = [s.labels[-1] for s in f.series.values() if s.labels]
    data_to = words.month_name(max(last_months)) if last_months else f"{p.end:%B %Y}"
    return Pack(
        authority=_authority(f, config, code),
        la_code=code,
        period=f.period,
        period_text=f"{p.start.day} {p.start:%B %Y} to {p.end.day} {p.end:%B %Y}",
        previous_period=f.previous_period,
        data_to=data_to,
        generated=datetime.now().replace(microsecond=0),
        audience=audience,
        threshold=f.threshold,
        findings=f,
        scorecard=rows,
        actions=items,
        actions_note=note,
        charts=chart_map,
        definitions=_definitions(rows),
    )


# --- writing -----------------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["month"] = words.month_name
    return env


def render_html(pack: Pack, for_print: bool = False) -> str:
    """The pack as one self-contained HTML page (charts inline as SVG data)."""
    template = _environment().get_template("pack.html")
    return template.render(
        pack=pack,
        for_print=for_print,
        spc_rules=spc.RULE_TITLES,
        shift_run=spc.SHIFT_RUN,
        trend_run=spc.TREND_RUN,
        min_points=spc.MIN_POINTS,
        dq_share=detect.DQ_SHARE_PCT,
    )


def write_html(pack: Pack, path: Path) -> Path:
    path.write_text(render_html(pack), encoding="utf-8")
    return path


def write_pdf(pack: Pack, path: Path) -> Path:
    """The pack as PDF through WeasyPrint (no network: everything is inline)."""
    return pdf.write_pdf(render_html(pack, for_print=True), path, TEMPLATES)


def write(pack: Pack, path: Path | str) -> Path:
    """Write the pack as .pdf, .html or .xlsx, chosen by the file's extension."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"Cannot write a meeting pack as {out.name}: use .pdf, .html or .xlsx.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        return write_pdf(pack, out)
    if suffix == ".html":
        return write_html(pack, out)
    from csc_insight.reports.pack_xlsx import write_xlsx

    return write_xlsx(pack, out)


__all__ = [
    "FORMATS",
    "ActionItem",
    "Pack",
    "PackChart",
    "ScoreRow",
    "gather",
    "render_html",
    "write",
    "write_html",
    "write_pdf",
]
