"""Areas of concern and of improvement, found automatically, ranked and said in words.

Six sources of evidence, each used only where its data is there (``Findings.coverage`` says
which were used and why any was not):

* **targets**: a headline figure off (or near) its target, or on it, from authority.toml;
* **spc**: special-cause variation on the monthly control chart (``spc``): a recent
  deterioration or improvement, given which direction is better;
* **benchmarks**: significantly worse (or better) than England or the statistical
  neighbours' average (exact binomial test of the local numerator and denominator against
  the published percentage, Holm-corrected over every comparison made), or in the worst
  (best) quarter of authorities where no test is possible;
* **equity**: a group of children significantly over- or under-represented at a stage of
  the journey, or getting significantly worse service (``analysis.equity``, Holm-corrected);
* **impact**: a local service whose impact estimate is "no measurable change" (or a clear
  effect either way) (``analysis.impact``);
* **data_quality**: a table with enough rows failing validation or quarantined at load to
  distort the figures built on it.

Evidence about one indicator is gathered into one finding, so a figure that is off target,
deteriorating and worse than its comparators is one area of concern with three reasons, and
ranks above one with a single reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csc_insight.concerns import spc, words
from csc_insight.concerns.series import (
    DEFAULT_MONTHS,
    Figures,
    MonthlySeries,
    monthly_ids,
    previous_year,
)
from csc_insight.errors import ConfigError, CscInsightError
from csc_insight.indicators import REGISTRY, IndicatorResult, latest_period, targets
from csc_insight.indicators.escalation import EscalationThresholds
from csc_insight.indicators.periods import financial_year_of, parse
from csc_insight.indicators.registry import Polarity
from csc_insight.warehouse.store import Warehouse

CONCERN = "concern"
IMPROVEMENT = "improvement"
SOURCES = ("targets", "spc", "benchmarks", "equity", "impact", "data_quality")
SOURCE_TITLES = {
    "targets": "Targets and tolerances (authority.toml)",
    "spc": "Monthly control charts (statistical process control)",
    "benchmarks": "England and statistical neighbours (DfE's published tables)",
    "equity": "Disproportionality and equal service across groups of children",
    "impact": "Impact of local services",
    "data_quality": "Data quality (validation rules and quarantined rows)",
}
AUDIENCES = ("viewer", "analyst")
ALPHA = 0.05
EQUITY_BREAKDOWNS = ("ethnic_group", "sex", "disability")
# A table with at least this share of rows failing validation or quarantined is flagged.
DQ_SHARE_PCT = 5.0
DQ_SEVERITIES = ("error", "query")

AREAS: tuple[tuple[str, str], ...] = (
    ("referrals", "Referrals"),
    ("assessments", "Assessments and enquiries"),
    ("cin", "Children in need"),
    ("cp", "Child protection plans"),
    ("cla", "Children looked after"),
    ("adoption", "Adoption"),
    ("leavers", "Care leavers"),
    ("svc", "Local services and early help"),
    ("equity", "Equal access"),
    ("data", "Data quality"),
    ("other", "Other measures"),
)
AREA_TITLES = dict(AREAS)
_REFERRALS = {"cin.referrals", "cin.referral_rate", "cin.rereferral_pct", "cin.nfa_pct"}
_CHILDREN_IN_NEED = {"cin.children_in_need_31mar", "cin.cin_rate_31mar"}

# Equal-service measures where a higher value is the better service.
_SERVICE_HIGHER_IS_BETTER = frozenset({"assessment_45wd", "service_needs_met", "attendance_pct"})

TAGS = {
    ("targets", CONCERN): "Off target",
    ("targets", IMPROVEMENT): "On target",
    ("spc", CONCERN): "Deteriorating",
    ("spc", IMPROVEMENT): "Improving",
    ("benchmarks", CONCERN): "Worse than comparators",
    ("benchmarks", IMPROVEMENT): "Better than comparators",
    ("equity", CONCERN): "Unequal",
    ("impact", CONCERN): "No measurable impact",
    ("impact", IMPROVEMENT): "Measurable impact",
    ("data_quality", CONCERN): "Data quality",
}


def area(indicator_id: str) -> str:
    """The area of the service an indicator belongs to (one sheet of the pack's workbook)."""
    if indicator_id in _REFERRALS:
        return "referrals"
    if indicator_id in _CHILDREN_IN_NEED:
        return "cin"
    family = indicator_id.split(".", 1)[0]
    if family == "cin":
        return "assessments"
    return family if family in AREA_TITLES else "other"


@dataclass
class Evidence:
    """One reason behind a finding: its source, its words, how much it weighs."""

    source: str
    kind: str  # concern or improvement
    text: str
    weight: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        """The numbers behind the words: limits, tests, p-values, counts."""
        return _detail(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "text": self.text,
            "detail": self.detail,
            "weight": self.weight,
            "data": _plain(self.data),
        }


@dataclass
class Finding:
    """An area of concern or of improvement, with the sentence and evidence behind it."""

    key: str
    kind: str
    title: str
    sentence: str
    severity: int
    area: str
    indicator_ids: list[str]
    evidence: list[Evidence]
    tags: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    @property
    def area_title(self) -> str:
        return AREA_TITLES.get(self.area, self.area)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "sentence": self.sentence,
            "severity": self.severity,
            "area": self.area,
            "area_title": self.area_title,
            "indicator_ids": self.indicator_ids,
            "tags": self.tags,
            "caveats": self.caveats,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class Coverage:
    """Whether a source of evidence was used, and why not if it was not."""

    source: str
    included: bool
    note: str

    @property
    def title(self) -> str:
        return SOURCE_TITLES.get(self.source, self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "included": self.included,
            "note": self.note,
        }


@dataclass
class DataQuality:
    """Rows failing validation or quarantined, per table, and the commonest problems."""

    tables: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)  # analysts only
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "rules": self.rules,
            "children": self.children,
            "note": self.note,
        }


@dataclass
class Findings:
    """Everything found for one period, and the figures it was found in."""

    period: str
    previous_period: str
    audience: str
    threshold: int
    results: dict[str, IndicatorResult]
    previous: dict[str, IndicatorResult]
    series: dict[str, MonthlySeries]
    comparisons: dict[str, Any]
    concerns: list[Finding]
    improvements: list[Finding]
    coverage: list[Coverage]
    data_quality: DataQuality
    impacts: list[Any] = field(default_factory=list)
    config: targets.AuthorityConfig | None = None
    figures: Figures | None = None

    def finding(self, key: str) -> Finding | None:
        return next((f for f in [*self.concerns, *self.improvements] if f.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "previous_period": self.previous_period,
            "audience": self.audience,
            "concerns": [f.to_dict() for f in self.concerns],
            "improvements": [f.to_dict() for f in self.improvements],
            "coverage": [c.to_dict() for c in self.coverage],
            "data_quality": self.data_quality.to_dict(),
        }


def _p(value: Any) -> str:
    if value is None:
        return "p not available"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _detail(e: Evidence) -> str:
    d = e.data
    unit = str(d.get("unit", ""))
    if e.source == "targets":
        tol = f" ± {words.gap(d['tolerance'], unit)}" if d.get("tolerance") else ""
        goal = words.value(d["target"], unit, exact=True)
        return f"Target {goal}{tol} (authority.toml): {d['status']}."
    if e.source == "spc":
        signals = "; ".join(
            f"{spc.RULE_TITLES[s['rule']]}, {words.month_name(s['months'][0])} to "
            f"{words.month_name(s['months'][-1])}"
            for s in d.get("signals", [])
        )
        return (
            f"{'p-chart' if d.get('chart') == 'p' else 'XmR chart'} of {d.get('months')} months, "
            f"average {words.value(d.get('centre'), unit)}: {signals}."
        )
    if e.source == "benchmarks":
        if "quartile" in d:
            rank = f", rank {d['rank']}" if d.get("rank") else ""
            return f"Quartile band {d['quartile']} among all authorities{rank} (no test possible)."
        parts = [
            f"{'England' if k == 'england' else 'statistical neighbours'} "
            f"{words.value(v['value'], unit)} (Holm-adjusted {_p(v['p_adjusted'])})"
            for k, v in d.items()
            if k in ("england", "sn_mean")
        ]
        return (
            f"Published year to March {d.get('published_year')}: "
            + "; ".join(parts)
            + ("; exact binomial test of the local numerator and denominator.")
        )
    if e.source == "equity":
        if "ratio" in d:
            ci = (
                f" (95% CI {d['ci_low']:.2f} to {d['ci_high']:.2f})"
                if d.get("ci_low") is not None and d.get("ci_high") is not None
                else ""
            )
            return (
                f"{d.get('stage_title', d['stage'])}: relative rate {d['ratio']:.2f}{ci}, "
                f"Holm-adjusted {_p(d.get('p_adjusted'))}."
            )
        return (
            f"{d.get('title', d.get('measure'))}: difference {d.get('difference'):+.1f} from the "
            f"reference group, Holm-adjusted {_p(d.get('p_adjusted'))}."
        )
    if e.source == "impact":
        if d.get("effect") is None:
            return e.text
        return (
            f"Effect {d['effect']:+.1f} (95% CI {d['ci_low']:.1f} to {d['ci_high']:.1f}), "
            f"{_p(d.get('p_value'))}, {d.get('n_treated')} served children."
        )
    if e.source == "data_quality":
        return (
            f"{d['failing']:,} rows failing a rule and {d['quarantined']:,} quarantined, of "
            f"{d['rows'] + d['quarantined']:,}."
        )
    return e.text


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- per-indicator evidence --------------------------------------------------------------
def _worse_word(polarity: str) -> tuple[str, str]:
    """('above', 'below'): how a worse and a better value sit against a reference."""
    if polarity == Polarity.LOWER_IS_BETTER:
        return "above", "below"
    return "below", "above"


def _target_evidence(r: IndicatorResult, target: targets.Target) -> Evidence | None:
    if r.status is None or target.target is None or r.value is None:
        return None
    worse, better = _worse_word(r.polarity)
    goal = words.value(target.target, r.unit, exact=True)
    tol = f" (tolerance {words.gap(target.tolerance, r.unit)})" if target.tolerance else ""
    data = {
        "target": target.target,
        "tolerance": target.tolerance,
        "status": r.status,
        "unit": r.unit,
    }
    if r.status == targets.OFF_TARGET:
        return Evidence("targets", CONCERN, f"{worse} the {goal} target{tol}", 3, data)
    if r.status == targets.NEAR_TARGET:
        within = words.gap(target.tolerance, r.unit)
        text = f"just {worse} the {goal} target, within its tolerance of {within}"
        return Evidence("targets", CONCERN, text, 1, data)
    if math.isclose(r.value, target.target):
        return Evidence("targets", IMPROVEMENT, f"meeting the {goal} target", 2, data)
    return Evidence("targets", IMPROVEMENT, f"{better} the {goal} target", 2, data)


_RULE_WEIGHT = {spc.BEYOND_LIMITS: 3, spc.SHIFT: 3, spc.TREND: 2}


def _spc_evidence(s: MonthlySeries, recent_months: int) -> list[Evidence]:
    chart = s.chart
    if not chart.enough:
        return []
    out: list[Evidence] = []
    by_kind: dict[str, list[spc.Signal]] = {}
    for signal in spc.recent(chart, recent_months):
        kind = spc.judge(signal, s.polarity)
        if kind == "change":
            continue
        by_kind.setdefault(CONCERN if kind == "deterioration" else IMPROVEMENT, []).append(signal)
    assert chart.centre is not None
    average = words.value(chart.centre, s.unit)
    chart_name = "p-chart" if chart.kind is spc.ChartType.P else "XmR chart"
    for kind, signals in by_kind.items():
        signals.sort(key=lambda x: (-_RULE_WEIGHT[x.rule], -x.last))
        rules = sorted({x.rule for x in signals}, key=lambda r: -_RULE_WEIGHT[r])
        weight = min(5, _RULE_WEIGHT[rules[0]] + len(rules) - 1)
        described = words.join([x.describe() for x in signals[:2]])
        last = max(x.last for x in signals)
        word = "deterioration" if kind == CONCERN else "improvement"
        text = (
            f"monthly figures show a significant {word}: {described}, to "
            f"{words.month_name(chart.labels[last])} (average {average}, {chart_name})"
        )
        data = {
            "chart": str(chart.kind),
            "centre": chart.centre,
            "unit": s.unit,
            "months": sum(1 for v in chart.values if v is not None),
            "rules": rules,
            "signals": [
                {
                    "rule": x.rule,
                    "direction": x.direction,
                    "months": [chart.labels[i] for i in x.indices],
                }
                for x in signals
            ],
        }
        out.append(Evidence("spc", kind, text, weight, data))
    return out


def _binomial_p(successes: float, trials: float, pct: float) -> float | None:
    if not trials or pct is None or not 0 < pct < 100:
        return None
    from scipy.stats import binomtest

    return float(binomtest(round(successes), round(trials), pct / 100).pvalue)


@dataclass
class _Test:
    indicator: str
    comparator: str  # england or sn_mean
    label: str
    reference: float
    p: float | None
    worse: bool


def _benchmark_tests(
    comparisons: dict[str, Any], results: dict[str, IndicatorResult]
) -> list[_Test]:
    tests = []
    for c in comparisons.values():
        r = results.get(c.id)
        if r is None or r.suppressed or c.local is None or c.polarity == Polarity.NEITHER:
            continue
        same = r.value is not None and math.isclose(r.value, c.local, rel_tol=1e-9)
        testable = same and r.unit == "percent" and r.numerator is not None and r.denominator
        for comparator, label in (
            ("england", "England"),
            ("sn_mean", "the statistical neighbours"),
        ):
            ref = getattr(c, comparator)
            if ref is None or math.isclose(ref, c.local):
                continue
            worse = (c.local > ref) == (c.polarity == Polarity.LOWER_IS_BETTER)
            p = _binomial_p(r.numerator or 0.0, r.denominator or 0.0, ref) if testable else None
            tests.append(_Test(c.id, comparator, label, ref, p, worse))
    return tests


def _benchmark_evidence(
    comparisons: dict[str, Any], results: dict[str, IndicatorResult]
) -> dict[str, list[Evidence]]:
    from csc_insight.analysis.equity_stats import holm

    tests = _benchmark_tests(comparisons, results)
    adjusted = holm([t.p for t in tests])
    out: dict[str, list[Evidence]] = {}
    for kind, worse in ((CONCERN, True), (IMPROVEMENT, False)):
        grouped: dict[str, list[tuple[_Test, float]]] = {}
        for t, p in zip(tests, adjusted, strict=True):
            if p is not None and p < ALPHA and t.worse == worse:
                grouped.setdefault(t.indicator, []).append((t, p))
        for indicator, found in grouped.items():
            c = comparisons[indicator]
            direction = "higher" if c.local > found[0][0].reference else "lower"
            named = words.join(
                [f"{t.label} ({words.value(t.reference, c.unit)})" for t, _ in found]
            )
            text = f"{direction} than {named}"
            data = {t.comparator: {"value": t.reference, "p_adjusted": p} for t, p in found} | {
                "published_year": c.published_year,
                "test": "exact binomial, Holm-corrected",
                "unit": c.unit,
            }
            out.setdefault(indicator, []).append(
                Evidence("benchmarks", kind, text, 2 * len(found), data)
            )
    # Where no test is possible (days, means, counts): the quartile band says it.
    tested = {t.indicator for t in tests if t.p is not None}
    for c in comparisons.values():
        r = results.get(c.id)
        if c.id in tested or c.quartile not in ("A", "D") or c.polarity == Polarity.NEITHER:
            continue
        if r is None or r.suppressed or c.local is None:
            continue
        if c.quartile == "D":
            text = "in the quarter of authorities with the worst values (band D)"
            out.setdefault(c.id, []).append(
                Evidence("benchmarks", CONCERN, text, 1, {"quartile": "D", "rank": c.rank})
            )
        else:
            text = "in the quarter of authorities with the best values (band A)"
            out.setdefault(c.id, []).append(
                Evidence("benchmarks", IMPROVEMENT, text, 1, {"quartile": "A", "rank": c.rank})
            )
    return out


def _tag(e: Evidence) -> str:
    if e.source == "targets" and e.data.get("status") == targets.NEAR_TARGET:
        return "Near target"
    return TAGS[(e.source, e.kind)]


def _indicator_finding(
    indicator_id: str,
    r: IndicatorResult | None,
    prev: IndicatorResult | None,
    evidence: list[Evidence],
    caveats: list[str],
) -> Finding | None:
    concerns = [e for e in evidence if e.kind == CONCERN]
    improvements = [e for e in evidence if e.kind == IMPROVEMENT]
    kind = CONCERN if concerns else IMPROVEMENT if improvements else None
    if kind is None:
        return None
    main = concerns if kind == CONCERN else improvements
    other = improvements if kind == CONCERN else concerns
    ind = REGISTRY[indicator_id]
    unit = str(ind.unit)
    lead = ind.title
    if r is not None and (r.value is not None or r.suppressed):
        lead += f" stood at {words.value(r.value, unit, r.suppressed)} in {r.period}"
        if prev is not None and prev.value is not None and not r.suppressed and not prev.suppressed:
            lead += f" ({words.value(prev.value, unit)} in {prev.period})"
    clauses = [e.text for e in main if e.source in ("targets", "benchmarks")]
    parts = [lead + (", " + words.join(clauses) if clauses else "")]
    parts += [e.text for e in main if e.source not in ("targets", "benchmarks")]
    if other:
        parts.append("On the other hand, " + words.join([e.text for e in other]))
    sentence = " ".join(words.sentence(p) for p in parts)
    severity = sum(e.weight for e in main)
    tags = list(dict.fromkeys(_tag(e) for e in main if (e.source, e.kind) in TAGS))
    return Finding(
        key=f"indicator:{indicator_id}",
        kind=kind,
        title=ind.title,
        sentence=sentence + ("" if not caveats else " " + " ".join(caveats)),
        severity=severity,
        area=area(indicator_id),
        indicator_ids=[indicator_id],
        evidence=main + other,
        tags=tags,
        caveats=caveats,
    )


# --- equity ------------------------------------------------------------------------------
def _group_words(by: str, group: str) -> str:
    if group == "all":
        return "all children"
    if by == "sex":
        return {"Male": "boys", "Female": "girls"}.get(group, f"children of sex {group}")
    if by == "disability":
        return {
            "Disabled": "disabled children",
            "Not disabled": "children who are not disabled",
        }.get(group, f"children with disability recorded as {group}")
    if by == "ethnic_group":
        return f"children in the {group} ethnic group"
    if by == "ethnicity":
        return f"children of ethnicity {group}"
    if by == "age_band":
        return f"children aged {group}"
    if by == "locality":
        return f"children in {group}"
    return f"children in group {group}"


# How a sentence says a child reached each stage of the journey.
_REACHED = {
    "contact": "to have a contact with children's social care",
    "referral": "to be referred",
    "assessment": "to be assessed",
    "cin_plan": "to be on a child in need plan",
    "section47": "to have a section 47 enquiry",
    "cp_plan": "to be on a child protection plan",
    "looked_after": "to start to be looked after",
}
_GIVEN = {
    "referral": "once referred",
    "assessment": "once assessed",
    "section47": "once a section 47 enquiry was held",
}


def _stage_words(stage: Any) -> str:
    if stage.conditional:
        reached, given = stage.name.split(" given ", 1)
        return (
            f"{_REACHED.get(reached, f'to reach {reached}')} "
            f"{_GIVEN.get(given, f'once at {given}')}"
        )
    if stage.name in _REACHED:
        return f"{_REACHED[stage.name]} (per 10,000 children)"
    return f"to be referred to {stage.title} (per 10,000 children)"


# How a sentence says a group got a measure of service (value, then the reference's).
_SERVICE_WORDS = {
    "assessment_45wd": "had {v} of assessments completed within 45 working days against {r}",
    "assessment_working_days": "had a median assessment duration of {v} against {r}",
    "rereferral_12m": "were re-referred within 12 months in {v} of referrals against {r}",
    "service_wait_days": "waited a median of {v} for a local service against {r}",
    "service_repeat_12m": "came back to a local service within 12 months in {v} of "
    "requests against {r}",
    "service_needs_met": "had {v} of local services end with needs met against {r}",
    "attendance_pct": "attended {v} of school sessions on average against {r}",
}


def _equity_findings(
    warehouse: Warehouse, label: str, breakdowns: Sequence[str], role: str
) -> tuple[list[Finding], list[str]]:
    from csc_insight.analysis import equity

    findings: list[Finding] = []
    notes: list[str] = []
    for by in breakdowns:
        analysis = equity.analyse(warehouse, by, label, role=role)
        service = equity.equal_service(warehouse, by, label, role=role)
        ref = _group_words(by, analysis.reference)
        evidence: dict[str, list[Evidence]] = {}
        for stage in analysis.stages:
            for g in stage.groups:
                if not g.significant or g.ratio is None:
                    continue
                strength = 1 if g.ratio >= 2 or g.ratio <= 0.5 else 0
                ci = (
                    f" (95% CI {g.ci_low:.2f} to {g.ci_high:.2f})"
                    if g.ci_low is not None and g.ci_high is not None
                    else ""
                )
                text = f"were {g.ratio:.1f} times as likely as {ref} {_stage_words(stage)}{ci}"
                data = {
                    "by": by,
                    "stage": stage.name,
                    "stage_title": stage.title,
                    "group": g.group,
                    "ratio": g.ratio,
                    "ci_low": g.ci_low,
                    "ci_high": g.ci_high,
                    "p_adjusted": g.p_adjusted,
                }
                evidence.setdefault(g.group, []).append(
                    Evidence("equity", CONCERN, text, 2 + strength, data)
                )
        for m in service["measures"]:
            worse_if_higher = m["measure"] not in _SERVICE_HIGHER_IS_BETTER
            ref_row = next((x for x in m["groups"] if x["reference"]), None)
            for row in m["groups"]:
                if not row["significant"] or row["difference"] is None:
                    continue
                if (row["difference"] > 0) != worse_if_higher:
                    continue
                unit = m["unit"]
                theirs = words.value(row["value"], unit)
                ours = (
                    words.value(ref_row["value"], unit)
                    if ref_row is not None and ref_row["value"] is not None
                    else f"{words.value(row['value'] - row['difference'], unit)}"
                )
                pattern = _SERVICE_WORDS.get(
                    m["measure"], m["title"].lower() + " of {v} against {r}"
                )
                text = pattern.format(v=theirs, r=f"{ours} for {ref}")
                data = {
                    "by": by,
                    "measure": m["measure"],
                    "title": m["title"],
                    "group": row["group"],
                } | {k: row.get(k) for k in ("value", "difference", "p_adjusted")}
                evidence.setdefault(row["group"], []).append(
                    Evidence("equity", CONCERN, text, 2, data)
                )
        for group, found in evidence.items():
            found.sort(key=lambda e: -e.weight)
            who = _group_words(by, group)
            sentence = words.sentence(
                f"{who} {words.join([e.text for e in found])} in {analysis.window.label} "
                "(significant after correcting for multiple comparisons)"
            )
            findings.append(
                Finding(
                    key=f"equity:{by}:{group}",
                    kind=CONCERN,
                    title=f"Equal access: {who}",
                    sentence=sentence,
                    severity=sum(e.weight for e in found),
                    area="equity",
                    indicator_ids=[],
                    evidence=found,
                    tags=["Unequal"],
                )
            )
        header = analysis.header()
        if header.get("population_approximate"):
            notes.append(f"{by}: population estimates are approximate.")
    return findings, notes


# --- impact ------------------------------------------------------------------------------
def _impact_findings(warehouse: Warehouse) -> tuple[list[Finding], list[Any], str]:
    from csc_insight.analysis.impact import impact

    if warehouse.count("attendance") == 0:
        return [], [], "No school attendance is loaded, so no service's impact was estimated."
    inv = warehouse.table("service_involvements")
    names = inv.filter(inv.date_started.notnull()).select("service").distinct()
    services = sorted(str(s) for s in names.to_pyarrow()["service"].to_pylist() if s)
    if not services:
        return [], [], "No local service has any recorded start, so no impact was estimated."
    findings, impacts, failed = [], [], []
    for service in services:
        try:
            est = impact(warehouse, service)
        except CscInsightError as exc:
            failed.append(f"{service}: {exc}")
            continue
        impacts.append(est)
        if est.effect is None or est.ci_low is None or est.ci_high is None:
            continue
        significant = est.ci_low > 0 or est.ci_high < 0
        if not significant:
            kind, weight, tag = CONCERN, 2, "No measurable impact"
        else:
            good = est.effect > 0  # attendance: higher is better
            kind, weight = (IMPROVEMENT, 3) if good else (CONCERN, 3)
            tag = "Measurable impact" if good else "Harmful impact"
        data = {"service": service, "outcome": est.outcome} | {
            k: getattr(est, k) for k in ("effect", "ci_low", "ci_high", "p_value", "n_treated")
        }
        text = est.verdict
        findings.append(
            Finding(
                key=f"impact:{service}",
                kind=kind,
                title=f"{service}: impact on {est.outcome}",
                sentence=words.sentence(f"{service}: {text}"),
                severity=weight,
                area="svc",
                indicator_ids=[],
                evidence=[Evidence("impact", kind, text, weight, data)],
                tags=[tag],
            )
        )
    note = (
        f"Impact on school attendance estimated for {len(impacts)} service(s) over all "
        "loaded terms (difference-in-differences against similar children)."
    )
    if failed:
        note += " Not estimated: " + "; ".join(failed) + "."
    return findings, impacts, note


# --- data quality ------------------------------------------------------------------------
def _distinct_rows(table: Any) -> int:
    return int(table.select("source_file", "source_row").distinct().count().execute())


def data_quality(
    warehouse: Warehouse, validate: bool = True, audience: str = "analyst"
) -> DataQuality:
    """Per table: rows, rows failing validation, rows quarantined, and the share affected."""
    import pyarrow as pa

    from csc_insight import rules

    if validate:
        run = rules.run(warehouse, store=False)
        findings: pa.Table = run.findings
        note = f"Every validation rule ({len(run.rules)}) was run on the loaded data for this pack."
    else:
        findings = warehouse.table("validation_findings").to_pyarrow()
        note = "Findings of the latest stored validation run (csc-insight validate)."
    fdf = findings.to_pandas()
    fdf = fdf[fdf["severity"].isin(DQ_SEVERITIES)]
    q = warehouse.table("quarantine")
    quarantined = {
        str(row["target_table"]): int(row["n"])
        for row in q.group_by("target_table").aggregate(n=q.count()).to_pyarrow().to_pylist()
    }
    tables = sorted(
        {t for i in REGISTRY.values() for t in i.tables if t not in ("population",)}
        | set(quarantined)
        | set(fdf["target_table"].unique())
    )
    out = DataQuality(note=note)
    for name in tables:
        try:
            rows = warehouse.count(name)
        except Exception:
            continue
        mine = fdf[fdf["target_table"] == name]
        failing = len(mine[["source_file", "source_row"]].drop_duplicates())
        held = quarantined.get(name, 0)
        base = rows + held
        share = 100.0 * (failing + held) / base if base else 0.0
        out.tables.append(
            {
                "table": name,
                "rows": rows,
                "failing": failing,
                "quarantined": held,
                "share_pct": round(share, 1),
                "indicators": [
                    i.id for i in REGISTRY.values() if name in i.tables and not i.child_level
                ],
            }
        )
    counts = fdf.groupby(["rule_code", "severity", "target_table", "message"]).size()
    top = counts.sort_values(ascending=False).head(10)
    out.rules = [
        {"code": code, "severity": sev, "table": table, "message": msg, "count": int(n)}
        for (code, sev, table, msg), n in top.items()
    ]
    if audience == "analyst":
        per_child = fdf.dropna(subset=["child_id"]).groupby("child_id").size()
        out.children = [
            {"child_id": str(c), "findings": int(n)}
            for c, n in per_child.sort_values(ascending=False).head(10).items()
        ]
    return out


def _dq_findings(dq: DataQuality) -> tuple[list[Finding], dict[str, list[str]]]:
    findings: list[Finding] = []
    caveats: dict[str, list[str]] = {}
    for t in dq.tables:
        if t["share_pct"] < DQ_SHARE_PCT or not t["indicators"]:
            continue
        affected = t["failing"] + t["quarantined"]
        total = t["rows"] + t["quarantined"]
        commonest = next((r for r in dq.rules if r["table"] == t["table"]), None)
        titles = [REGISTRY[i].title.lower() for i in t["indicators"]]
        extra = (
            f" The commonest problem is rule {commonest['code']}: "
            f"\u201c{commonest['message'].rstrip('.')}\u201d."
            if commonest
            else ""
        )
        sentence = (
            f"{t['share_pct']:.1f}% of {t['table'].replace('_', ' ')} records ({affected:,} of "
            f"{total:,}) fail validation rules or were quarantined at load, enough to "
            f"distort {words.join(titles[:4])}"
            f"{' and other figures' if len(titles) > 4 else ''}.{extra}"
        )
        weight = 3 if t["share_pct"] >= 2 * DQ_SHARE_PCT else 2
        findings.append(
            Finding(
                key=f"data_quality:{t['table']}",
                kind=CONCERN,
                title=f"Data quality: {t['table'].replace('_', ' ')}",
                sentence=sentence,
                severity=weight,
                area="data",
                indicator_ids=list(t["indicators"]),
                evidence=[Evidence("data_quality", CONCERN, sentence, weight, dict(t))],
                tags=["Data quality"],
            )
        )
        for i in t["indicators"]:
            caveats.setdefault(i, []).append(
                f"Caution: {t['share_pct']:.1f}% of the {t['table'].replace('_', ' ')} records "
                "it is built on have data-quality problems."
            )
    return findings, caveats


# --- the search --------------------------------------------------------------------------
def _rank(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity, -len(f.evidence), f.title))


def find(
    warehouse: Warehouse,
    period: str | None = None,
    *,
    home: Path | None = None,
    config: targets.AuthorityConfig | None = None,
    la_code: str | None = None,
    audience: str = "analyst",
    sources: Sequence[str] = SOURCES,
    months: int = DEFAULT_MONTHS,
    recent_months: int = 3,
    equity_by: Sequence[str] = EQUITY_BREAKDOWNS,
    validate: bool = True,
    figures: Figures | None = None,
) -> Findings:
    """Areas of concern and of improvement for a period (default: the latest loaded).

    ``home`` is the workspace (for authority.toml's targets and LA code); ``audience``
    "viewer" applies disclosure control to every figure first (a suppressed figure gives no
    target or comparator evidence) and keeps child-level detail out; ``sources`` limits the
    evidence looked at (see ``SOURCES``); ``months`` is the length of the monthly control
    charts; a signal counts when it reaches into the last ``recent_months`` months.
    """
    from csc_insight.privacy.disclosure import suppress, suppression_threshold

    if audience not in AUDIENCES:
        raise ConfigError(f"The audience must be viewer or analyst, not {audience!r}.")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ConfigError(f"Unknown source(s) {', '.join(unknown)}: use {', '.join(SOURCES)}.")
    label = period or latest_period(warehouse)
    if label is None:
        raise ConfigError("The warehouse is empty: load data with `csc-insight ingest` first.")
    p = parse(label)
    figs = figures or Figures(warehouse)
    if config is None:
        config = (
            targets.load(home)
            if home is not None
            else targets.AuthorityConfig({}, EscalationThresholds(), {})
        )
    threshold = suppression_threshold()
    prev_period = previous_year(p)
    current = targets.apply(list(figs.period(p.label).values()), config)
    previous = list(figs.period(prev_period.label).values())
    if audience == "viewer":
        current = suppress(current, threshold)
        previous = suppress(previous, threshold)
    results = {r.id: r for r in current}
    before = {r.id: r for r in previous}

    coverage: list[Coverage] = []
    evidence: dict[str, list[Evidence]] = {}
    extra: list[Finding] = []
    series: dict[str, MonthlySeries] = {}
    comparisons: dict[str, Any] = {}
    impacts: list[Any] = []
    dq = DataQuality()

    if "targets" in sources:
        with_targets = [i for i, t in config.targets.items() if t.target is not None]
        for r in results.values():
            t = config.targets.get(r.id)
            e = _target_evidence(r, t) if t is not None else None
            if e is not None:
                evidence.setdefault(r.id, []).append(e)
        coverage.append(
            Coverage(
                "targets",
                bool(with_targets),
                f"{len(with_targets)} indicator(s) have a target in authority.toml."
                if with_targets
                else "No targets are set: add them to authority.toml in the workspace "
                "(see docs/measurement-plan.md).",
            )
        )

    if "spc" in sources:
        series = figs.monthly(p, monthly_ids(), months)
        charted = [s for s in series.values() if s.chart.enough]
        for s in charted:
            for e in _spc_evidence(s, recent_months):
                evidence.setdefault(s.id, []).append(e)
        coverage.append(
            Coverage(
                "spc",
                bool(charted),
                f"{len(charted)} indicator(s) charted over up to {months} months to "
                f"{words.month_name(charted[0].labels[-1]) if charted else p.label}; "
                f"a control chart needs at least {spc.MIN_POINTS} months with data. Signals "
                f"count when they reach into the last {recent_months} months."
                if charted
                else f"Fewer than {spc.MIN_POINTS} months with data: no control charts.",
            )
        )

    if "benchmarks" in sources:
        try:
            from csc_insight.benchmarks import authority_code, compare

            code = authority_code(warehouse, home, la_code)
            found = compare(warehouse, code, p.label)
            comparisons = {c.id: c for c in found if c.local is not None}
            usable = [
                c for c in comparisons.values() if c.england is not None or c.sn_mean is not None
            ]
            # Published figures are annual: a month or quarter is compared with them only
            # for measures that mean the same over a shorter span (shares and waits).
            whole_year = p.label.startswith("12m") or financial_year_of(p.start) == p
            judged = (
                comparisons
                if whole_year
                else {k: c for k, c in comparisons.items() if k in monthly_ids()}
            )
            for indicator, items in _benchmark_evidence(judged, results).items():
                evidence.setdefault(indicator, []).extend(items)
            span = (
                ""
                if whole_year
                else (
                    f" {p.label} is shorter than the published years, so only percentages and "
                    "waits are judged against them."
                )
            )
            coverage.append(
                Coverage(
                    "benchmarks",
                    bool(usable),
                    f"{len(usable)} indicator(s) compared with England and the statistical "
                    f"neighbours ({code}); percentages are tested (exact binomial, Holm-"
                    "corrected), other figures are judged by their quartile band." + span
                    if usable
                    else "No published figure matches the loaded data: import DfE's tables "
                    "with `csc-insight benchmarks import`.",
                )
            )
        except (ImportError, CscInsightError) as exc:
            coverage.append(Coverage("benchmarks", False, str(exc)))

    if "equity" in sources:
        try:
            found_eq, notes = _equity_findings(warehouse, p.label, equity_by, audience)
            extra += found_eq
            coverage.append(
                Coverage(
                    "equity",
                    True,
                    f"Groups compared by {words.join([b.replace('_', ' ') for b in equity_by])}; "
                    f"{len(found_eq)} group(s) with a significant difference. " + " ".join(notes),
                )
            )
        except (ImportError, CscInsightError) as exc:
            coverage.append(Coverage("equity", False, str(exc)))

    if "impact" in sources:
        try:
            found_im, impacts, note = _impact_findings(warehouse)
            extra += found_im
            coverage.append(Coverage("impact", bool(impacts), note))
        except (ImportError, CscInsightError) as exc:
            coverage.append(Coverage("impact", False, str(exc)))

    caveats: dict[str, list[str]] = {}
    if "data_quality" in sources:
        try:
            dq = data_quality(warehouse, validate, audience)
            found_dq, caveats = _dq_findings(dq)
            extra += found_dq
            coverage.append(Coverage("data_quality", True, dq.note))
        except (ImportError, CscInsightError) as exc:
            coverage.append(Coverage("data_quality", False, str(exc)))

    findings: list[Finding] = list(extra)
    for indicator_id, items in evidence.items():
        f = _indicator_finding(
            indicator_id,
            results.get(indicator_id),
            before.get(indicator_id),
            items,
            caveats.get(indicator_id, []),
        )
        if f is not None:
            findings.append(f)
    return Findings(
        period=p.label,
        previous_period=prev_period.label,
        audience=audience,
        threshold=threshold,
        results=results,
        previous=before,
        series=series,
        comparisons=comparisons,
        concerns=_rank(f for f in findings if f.kind == CONCERN),
        improvements=_rank(f for f in findings if f.kind == IMPROVEMENT),
        coverage=coverage,
        data_quality=dq,
        impacts=impacts,
        config=config,
        figures=figs,
    )


__all__ = [
    "AREAS",
    "CONCERN",
    "IMPROVEMENT",
    "SOURCES",
    "Coverage",
    "DataQuality",
    "Evidence",
    "Finding",
    "Findings",
    "area",
    "data_quality",
    "find",
]
