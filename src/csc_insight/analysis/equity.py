"""Who is served: rates, disproportionality and equal service across groups of children.

Three questions, one set of rules:

1. **Rates by stage.** For each stage of the journey (contact, referral, assessment, CIN
   plan, section 47, CP plan, starting care, each local service), the children reaching it
   per 10,000 children of each group, the relative rate index (RRI: the group's rate over the
   reference group's, or over all children's) with a Katz log 95% interval, and the
   representation index (share of those served / share of the child population).
2. **The journey.** The same comparison for each step given the one before (of referrals,
   the share that led to an assessment; of those, to a section 47; ... ; of referrals, the
   share that led to care), so it shows where disproportionality grows or shrinks.
3. **Equal service** (``equal_service``): waits, 45-working-day assessments, repeat use and
   outcomes compared across groups.

Rules for every figure: a difference is flagged only when significant after Holm's
correction over every comparison of the analysis (all groups x all stages and steps: the
chance of any false flag stays at most 5%); groups that are not groups of children
("Not known", "Refused or not obtained", unborn) are shown but never tested; counts from 1 to
the suppression threshold are hidden from viewers (with the next smallest where exactly one
is hidden, as disclosure.py does); unaccompanied asylum-seeking children are left out by
default because they are not part of the resident population the denominators describe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from csc_insight.analysis import equity_stats as st
from csc_insight.analysis.equity_population import Baseline, baseline
from csc_insight.errors import ConfigError
from csc_insight.indicators.dimensions import (
    DIMENSIONS_BY_NAME,
    NOT_KNOWN,
    REFUSED_OR_NOT_OBTAINED,
    UNBORN,
    with_child_dimensions,
)
from csc_insight.indicators.expressions import (
    SHORT_BREAK_LEGAL_STATUSES,
    days_between,
    with_working_days,
)
from csc_insight.indicators.periods import Period, financial_year, financial_year_of, parse
from csc_insight.indicators.registry import Tables
from csc_insight.warehouse.store import Warehouse

ALPHA = 0.05
ALL = "all"
CORRECTION = "holm"
BREAKDOWNS = ("ethnicity", "ethnic_group", "sex", "age_band", "disability", "locality")
# Default comparator of each breakdown: the largest group, as DfE and the sector compare.
DEFAULT_REFERENCE = {
    "ethnicity": "WBRI",
    "ethnic_group": "White",
    "disability": "Not disabled",
}
# Shown, never tested: these describe recording, not a group of children.
NOT_TESTED = frozenset({NOT_KNOWN, REFUSED_OR_NOT_OBTAINED, UNBORN, "REFU", "NOBT", "18 and over"})
SERVICE_PREFIX = "service:"
NOT_KNOWN_WARNING_PCT = 10.0


def _fy(day: ir.DateValue) -> ir.IntegerValue:
    """Start year of the financial year a date falls in (2024 for 2024-25)."""
    return ibis.ifelse(day.month() >= 4, day.year(), day.year() - 1)


# --- stages: children reaching each point of the journey ------------------------------------
Events = Callable[[Tables], ibis.Table]  # la_code, child_id, event_date


def _contacts(t: Tables) -> ibis.Table:
    c = t.contacts
    return c.select("la_code", "child_id", event_date=c.contact_date)


def _referrals(t: Tables) -> ibis.Table:
    r = t.referrals
    return r.select("la_code", "child_id", event_date=r.referral_date)


def _assessments(t: Tables) -> ibis.Table:
    a = t.assessments
    return a.select("la_code", "child_id", event_date=a.start_date)


def _cin_plans(t: Tables) -> ibis.Table:
    p = t.cin_plans
    return p.select("la_code", "child_id", event_date=p.start_date)


def _section47(t: Tables) -> ibis.Table:
    s = t.section47
    return s.select("la_code", "child_id", event_date=s.strategy_date)


def _cp_plans(t: Tables) -> ibis.Table:
    p = t.cp_plans
    return p.select("la_code", "child_id", event_date=p.start_date)


def _care_starts(t: Tables) -> ibis.Table:
    e = t.cla_episodes
    # A period of care starts with RNE S; care only under short breaks is not counted (DfE).
    e = e.filter((e.rne == "S") & ~e.ls.isin(SHORT_BREAK_LEGAL_STATUSES))
    return e.select("la_code", "child_id", event_date=e.decom)


@dataclass(frozen=True)
class Stage:
    """A point of the journey: the children who reached it in a financial year."""

    name: str
    title: str
    definition: str
    events: Events


STAGES: tuple[Stage, ...] = (
    Stage("contact", "Contact", "Children with a contact received (Annex A list 1).", _contacts),
    Stage("referral", "Referral", "Children referred to children's social care.", _referrals),
    Stage("assessment", "Assessment", "Children whose assessment started.", _assessments),
    Stage("cin_plan", "Child in need plan", "Children whose CIN plan started.", _cin_plans),
    Stage("section47", "Section 47 enquiry", "Children with a section 47 enquiry.", _section47),
    Stage("cp_plan", "Child protection plan", "Children whose CP plan started.", _cp_plans),
    Stage(
        "looked_after",
        "Starting to be looked after",
        "Children who started a period of care (short breaks only excluded).",
        _care_starts,
    ),
)
STAGES_BY_NAME = {s.name: s for s in STAGES}


def _service_stage(name: str) -> Stage:
    def events(t: Tables) -> ibis.Table:
        s = t.service_involvements
        s = s.filter(s.service == name)
        return s.select("la_code", "child_id", event_date=s.date_requested)

    return Stage(
        f"{SERVICE_PREFIX}{name}",
        name,
        f"Children for whom the local service {name} was requested.",
        events,
    )


@dataclass(frozen=True)
class Step:
    """A stage reached from the one before it, per referral (CIN episode)."""

    stage: str
    given: str

    @property
    def name(self) -> str:
        return f"{self.stage} given {self.given}"


# Each step's flags are worked out per referral, so "given" follows one episode through.
STEPS: tuple[Step, ...] = (
    Step("assessment", "referral"),
    Step("section47", "assessment"),
    Step("cp_plan", "section47"),
    Step("cin_plan", "assessment"),
    Step("cp_plan", "referral"),
    Step("looked_after", "referral"),
)
STEP_STAGES = ("referral", "assessment", "section47", "cin_plan", "cp_plan", "looked_after")


# --- the window ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """The financial years analysed: one, or several pooled to see small groups."""

    periods: tuple[Period, ...]

    @property
    def start(self) -> date:
        return self.periods[0].start

    @property
    def end(self) -> date:
        return self.periods[-1].end

    @property
    def label(self) -> str:
        if len(self.periods) == 1:
            return self.periods[0].label
        return f"{self.periods[0].label} to {self.periods[-1].label}"


def window(warehouse: Warehouse, period: str | None = None, years: int = 1) -> Window:
    """``years`` financial years ending with ``period`` (default: the latest loaded)."""
    from csc_insight.indicators import latest_period

    if years < 1:
        raise ConfigError("--years must be 1 or more.")
    label = period or latest_period(warehouse)
    if label is None:
        raise ConfigError("The warehouse is empty: load data with `csc-insight ingest` first.")
    last = parse(label)
    if financial_year_of(last.start) != last:
        if years != 1:
            raise ConfigError("Several years can be pooled only from a financial year (2024-25).")
        return Window((last,))
    first = last.start.year - years + 1
    return Window(tuple(financial_year(y) for y in range(first, last.start.year + 1)))


# --- counting --------------------------------------------------------------------------------
def _without_uasc(records: ibis.Table, t: Tables, include_uasc: bool) -> ibis.Table:
    if include_uasc:
        return records
    k = t.children
    uasc = k.filter(k.uasc.fill_null(False))
    # A NOT IN filter rather than an anti-join, so later joins see one plain relation.
    key = records.la_code + "|" + records.child_id
    return records.filter(~key.isin(uasc.la_code + "|" + uasc.child_id))


def _stage_counts(
    t: Tables, stages: list[Stage], w: Window, by: str, include_uasc: bool
) -> dict[str, dict[int, dict[str, int]]]:
    """Children reaching each stage per financial year and group (each child once a year).

    All stages go through one query (a union): compiling is the slow part, not counting.
    """
    parts = []
    for stage in stages:
        e = stage.events(t)
        e = e.filter(e.event_date.between(w.start, w.end))
        parts.append(e.mutate(stage=ibis.literal(stage.name)))
    e = _without_uasc(ibis.union(*parts), t, include_uasc)
    e = e.mutate(fy=_fy(e.event_date))
    first = e.group_by(["stage", "la_code", "child_id", "fy"]).aggregate(
        event_date=e.event_date.min()
    )
    first = with_child_dimensions(first, t.children, [by], "event_date", None)
    first = first.mutate(group=first[by].cast("string").fill_null(NOT_KNOWN))
    counts = first.group_by(["stage", "fy", "group"]).aggregate(n=first.count())
    out: dict[str, dict[int, dict[str, int]]] = {s.name: {} for s in stages}
    for row in counts.to_pyarrow().to_pylist():
        out[row["stage"]].setdefault(int(row["fy"]), {})[row["group"]] = int(row["n"])
    return out


def _step_flags(t: Tables, w: Window, by: str, include_uasc: bool) -> list[dict[str, Any]]:
    """Per group: referrals in the window and how many went on to each later stage."""
    r = t.referrals
    r = r.filter(r.referral_date.between(w.start, w.end))
    r = _without_uasc(r, t, include_uasc)
    r = r.select("la_code", "child_id", "referral_id", "referral_date", "closure_date")

    def linked(name: str, table: ibis.Table) -> ibis.Table:
        ids = table.select("la_code", "referral_id").distinct()
        return ids.mutate(**{f"f_{name}": ibis.literal(1)})

    flagged = r
    for name, table in (
        ("assessment", t.assessments),
        ("section47", t.section47),
        ("cin_plan", t.cin_plans),
        ("cp_plan", t.cp_plans),
    ):
        flagged = flagged.left_join(linked(name, table), ["la_code", "referral_id"]).drop(
            "la_code_right", "referral_id_right"
        )
    # Care has no referral identifier: a period of care starting while the episode was open.
    starts = _care_starts(t)
    joined = r.join(
        starts,
        (r.la_code == starts.la_code)
        & (r.child_id == starts.child_id)
        & (starts.event_date >= r.referral_date)
        & (starts.event_date <= r.closure_date.fill_null(w.end)),
    )
    care = joined.select(_care_la=joined.la_code, _care_id=joined.referral_id).distinct()
    care = care.mutate(f_looked_after=ibis.literal(1))
    flagged = flagged.left_join(
        care, (flagged.la_code == care._care_la) & (flagged.referral_id == care._care_id)
    ).drop("_care_la", "_care_id")
    flagged = with_child_dimensions(flagged, t.children, [by], "referral_date", None)
    flagged = flagged.mutate(
        group=flagged[by].cast("string").fill_null(NOT_KNOWN),
        f_referral=ibis.literal(1),
        **{f"f_{s}": flagged[f"f_{s}"].fill_null(0) for s in STEP_STAGES if s != "referral"},
    )
    metrics: dict[str, ir.Scalar] = {}
    for step in STEPS:
        both = flagged[f"f_{step.stage}"] * flagged[f"f_{step.given}"]
        metrics[f"n|{step.name}"] = both.sum()
    for given in {s.given for s in STEPS}:
        metrics[f"d|{given}"] = flagged[f"f_{given}"].sum()
    return flagged.group_by("group").aggregate(**metrics).to_pyarrow().to_pylist()


# --- comparing groups ------------------------------------------------------------------------
@dataclass
class GroupRow:
    """One group at one stage or step."""

    group: str
    count: int | None
    population: float | None  # children in the group (child-years), or those at the step before
    rate: float | None  # per 10,000
    ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool | None = None
    representation_index: float | None = None
    tested: bool = False
    reference: bool = False
    suppressed: bool = False

    def as_json(self, conditional: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "group": self.group,
            "count": self.count,
            "population": None if self.population is None else round(self.population, 1),
            "rate_per_10k": _round(self.rate, 1),
            "ratio": _round(self.ratio, 3),
            "ci_low": _round(self.ci_low, 3),
            "ci_high": _round(self.ci_high, 3),
            "p_value": _p(self.p_value),
            "p_adjusted": _p(self.p_adjusted),
            "significant": self.significant,
            "representation_index": _round(self.representation_index, 3),
            "tested": self.tested,
            "reference": self.reference,
            "suppressed": self.suppressed,
        }
        if conditional:
            out["percent"] = None if self.rate is None else round(self.rate / 100, 2)
        return out


@dataclass
class StageResult:
    """Every group at one stage (rates per 10,000 children) or step (per 10,000 before)."""

    name: str
    title: str
    definition: str
    conditional: bool
    given: str | None
    years: list[str]
    total: int | None
    total_population: float | None
    groups: list[GroupRow] = field(default_factory=list)

    @property
    def not_known_pct(self) -> float | None:
        """Share of the children counted whose group is not recorded."""
        unknown = sum(g.count or 0 for g in self.groups if g.group == NOT_KNOWN)
        return round(unknown / self.total * 100, 1) if self.total else None

    def as_json(self) -> dict[str, Any]:
        pct = self.not_known_pct
        return {
            "stage": self.name,
            "not_known_pct": pct,
            "warning": (
                f"{pct}% of these children have no recorded group: rates by group are "
                "understated and should not be compared with the population"
                if pct is not None and pct > NOT_KNOWN_WARNING_PCT
                else None
            ),
            "title": self.title,
            "definition": self.definition,
            "conditional": self.conditional,
            "given": self.given,
            "years": self.years,
            "rate_basis": (
                f"per 10,000 children at the {self.given} stage"
                if self.conditional
                else "per 10,000 children in the population, per year"
            ),
            "groups": [g.as_json(self.conditional) for g in self.groups],
        }


def _p(value: float | None) -> float | None:
    """A p-value to three significant figures (tiny ones stay visible, not 0)."""
    return None if value is None else float(f"{value:.3g}")


def _round(value: float | None, digits: int) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(value, digits)


def _compare(
    counts: dict[str, int],
    bases: dict[str, float | None],
    total: int,
    total_base: float | None,
    reference: str,
) -> list[GroupRow]:
    """Rates, ratios and representation of each group against the reference."""
    rows: list[GroupRow] = []
    ref_n = counts.get(reference, 0)
    ref_base = bases.get(reference)
    for group in sorted(set(counts) | {g for g, b in bases.items() if b}):
        a = counts.get(group, 0)
        base = bases.get(group)
        row = GroupRow(group, a, base, st.per_10k(a, base))
        row.reference = group == reference
        if base and total_base:
            row.representation_index = st.representation_index(a, total, base, total_base)
        testable = bool(base) and group not in NOT_TESTED and not row.reference
        if base and reference == ALL and total_base:
            est = st.nested_ratio(a, base, total, total_base)
        elif base and ref_base:
            est = (
                st.katz_ratio(a, base, ref_n, ref_base)
                if not row.reference
                else st.RatioEstimate(1.0, None, None, None)
            )
        else:
            est = st.RatioEstimate(None, None, None, None)
        row.ratio, row.ci_low, row.ci_high = est.ratio, est.ci_low, est.ci_high
        if testable and est.p_value is not None:
            row.tested, row.p_value = True, est.p_value
        rows.append(row)
    return rows


def _adjust(results: Iterable[StageResult], alpha: float, method: str) -> int:
    """Holm (or BH) over every tested comparison; returns how many there were."""
    tested = [g for r in results for g in r.groups if g.tested]
    adjust = st.holm if method == "holm" else st.benjamini_hochberg
    for g, p in zip(tested, adjust([g.p_value for g in tested]), strict=True):
        g.p_adjusted = p
        g.significant = p is not None and p < alpha
    return len(tested)


def _suppress(result: StageResult, threshold: int) -> None:
    """Hide small counts from viewers (primary), and the next smallest if one alone is hidden."""

    def small(v: float | None) -> bool:
        return v is not None and 0 < v <= threshold

    flags = [small(g.count) or (result.conditional and small(g.population)) for g in result.groups]
    if sum(flags) == 1:
        visible = [i for i, g in enumerate(result.groups) if not flags[i] and (g.count or 0) > 0]
        if visible:
            flags[min(visible, key=lambda i: result.groups[i].count or 0)] = True
    for g, hide in zip(result.groups, flags, strict=True):
        if hide:
            g.suppressed = True
            g.count = g.rate = g.ratio = g.ci_low = g.ci_high = None
            g.representation_index = g.p_value = g.p_adjusted = g.significant = None
            if result.conditional:
                g.population = None


def _reference(by: str, reference: str | None) -> str:
    return reference or DEFAULT_REFERENCE.get(by, ALL)


def _check(by: str) -> None:
    if by not in BREAKDOWNS:
        raise ConfigError(f"--by must be one of {', '.join(BREAKDOWNS)}, not {by!r}.")


@dataclass
class Analysis:
    """Every stage and step for one breakdown, window and reference, corrected together."""

    by: str
    reference: str
    window: Window
    baseline: Baseline
    stages: list[StageResult]
    comparisons: int
    alpha: float
    correction: str
    role: str
    threshold: int
    include_uasc: bool

    def stage(self, name: str) -> StageResult:
        for s in self.stages:
            if s.name == name or s.name == f"{SERVICE_PREFIX}{name}":
                return s
        known = ", ".join(s.name for s in self.stages)
        raise ConfigError(f"There is no stage {name!r}; the stages are: {known}.")

    def header(self) -> dict[str, Any]:
        return {
            "period": self.window.label,
            "years": [p.label for p in self.window.periods],
            "by": self.by,
            "reference": self.reference,
            "population_source": self.baseline.source,
            "population_approximate": self.baseline.approximate,
            "notes": self.baseline.notes,
            "correction": (
                f"{'Holm' if self.correction == 'holm' else 'Benjamini-Hochberg'} over "
                f"{self.comparisons} comparisons (every tested group at every stage and step)"
            ),
            "alpha": self.alpha,
            "confidence_interval": "95%, Katz log method (unadjusted)",
            "suppression_threshold": self.threshold,
            "role": self.role,
            "uasc_included": self.include_uasc,
        }

    def stage_json(self, name: str) -> dict[str, Any]:
        return self.header() | self.stage(name).as_json()

    def journey(self) -> list[dict[str, Any]]:
        """Per tested group: where along the journey its disproportionality grows or shrinks."""
        groups = sorted(
            {g.group for s in self.stages for g in s.groups if g.tested or g.suppressed}
        )
        out = []
        for group in groups:
            rates, steps = [], []
            for s in self.stages:
                row = next((g for g in s.groups if g.group == group), None)
                if row is None:
                    continue
                item = {
                    "stage": s.name,
                    "ratio": _round(row.ratio, 3),
                    "ci_low": _round(row.ci_low, 3),
                    "ci_high": _round(row.ci_high, 3),
                    "significant": row.significant,
                    "suppressed": row.suppressed,
                }
                if s.conditional:
                    item["change"] = _change(row)
                    steps.append(item)
                else:
                    rates.append(item)
            out.append(
                {"group": group, "stages": rates, "steps": steps, "summary": _summary(steps)}
            )
        return out

    def as_json(self) -> dict[str, Any]:
        return self.header() | {
            "stages": [s.as_json() for s in self.stages],
            "journey": self.journey(),
        }


def _change(row: GroupRow) -> str:
    if row.suppressed:
        return "suppressed"
    if not row.significant or row.ratio is None:
        return "no significant change"
    return "grows" if row.ratio > 1 else "shrinks"


def _summary(steps: list[dict[str, Any]]) -> str:
    grows = [s["stage"] for s in steps if s.get("change") == "grows"]
    shrinks = [s["stage"] for s in steps if s.get("change") == "shrinks"]
    parts = []
    if grows:
        parts.append("grows at " + ", ".join(grows))
    if shrinks:
        parts.append("shrinks at " + ", ".join(shrinks))
    return "; ".join(parts) or "no significant change along the journey"


def analyse(
    warehouse: Warehouse,
    by: str = "ethnicity",
    period: str | None = None,
    years: int = 1,
    reference: str | None = None,
    role: str = "viewer",
    alpha: float = ALPHA,
    correction: str = CORRECTION,
    include_uasc: bool = False,
    threshold: int | None = None,
) -> Analysis:
    """Rates, relative rates and representation of every group at every stage and step."""
    from csc_insight.privacy.disclosure import suppression_threshold

    _check(by)
    if correction not in ("holm", "bh"):
        raise ConfigError(f"correction must be holm or bh, not {correction!r}.")
    if role not in ("viewer", "analyst"):
        raise ConfigError(f"role must be viewer or analyst, not {role!r}.")
    limit = suppression_threshold() if threshold is None else threshold
    t = Tables(warehouse)
    w = window(warehouse, period, years)
    ref = _reference(by, reference)
    la_codes = [
        str(c) for c in t.children.select("la_code").distinct().to_pyarrow()["la_code"].to_pylist()
    ]
    fys = [p.start.year for p in w.periods]
    base = baseline(t, la_codes, fys, by)

    services = t.service_involvements
    names = (
        services.filter(services.date_requested.between(w.start, w.end))
        .select("service")
        .distinct()
        .to_pyarrow()["service"]
        .to_pylist()
    )
    stages = [*STAGES, *(_service_stage(str(n)) for n in sorted(n for n in names if n))]
    results: list[StageResult] = []
    per_year = {fy: baseline(t, la_codes, [fy], by) for fy in fys}
    all_counts = _stage_counts(t, stages, w, by, include_uasc)
    for stage in stages:
        counts = all_counts[stage.name]
        covered = sorted(counts) or fys
        # Person-years only for the years the stage has records (Annex A covers one year).
        bases: dict[str, float | None] = {}
        total_base = 0.0
        for fy in covered:
            b = per_year.get(fy) or baseline(t, la_codes, [fy], by)
            for g, n in b.groups.items():
                bases[g] = (bases.get(g) or 0.0) + n
            total_base += b.total or 0.0
        pooled: dict[str, int] = {}
        for by_group in counts.values():
            for g, n in by_group.items():
                pooled[g] = pooled.get(g, 0) + n
        total = sum(pooled.values())
        results.append(
            StageResult(
                stage.name,
                stage.title,
                stage.definition,
                False,
                None,
                [financial_year(fy).label for fy in covered],
                total,
                total_base or None,
                _compare(pooled, bases, total, total_base or None, ref),
            )
        )
    flags = _step_flags(t, w, by, include_uasc)
    for step in STEPS:
        step_counts = {r["group"]: int(r[f"n|{step.name}"] or 0) for r in flags}
        dens: dict[str, float | None] = {
            r["group"]: float(r[f"d|{step.given}"] or 0) for r in flags
        }
        total = sum(step_counts.values())
        total_den = sum(d or 0 for d in dens.values())
        title = f"{STAGES_BY_NAME[step.stage].title} given {step.given.replace('_', ' ')}"
        results.append(
            StageResult(
                step.name,
                title,
                f"Of referrals (CIN episodes) starting in the window that reached "
                f"{step.given.replace('_', ' ')}, those that led to "
                f"{STAGES_BY_NAME[step.stage].title.lower()} in the same episode.",
                True,
                step.given,
                [p.label for p in w.periods],
                total,
                total_den,
                _compare(step_counts, dens, total, total_den or None, ref),
            )
        )
    n = _adjust(results, alpha, correction)
    if role == "viewer":
        for r in results:
            _suppress(r, limit)
    return Analysis(by, ref, w, base, results, n, alpha, correction, role, limit, include_uasc)


# --- equal service ---------------------------------------------------------------------------
@dataclass
class ServiceRow:
    """One group on one measure of service."""

    group: str
    n: int | None
    value: float | None
    difference: float | None = None  # from the reference group (points or days)
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool | None = None
    tested: bool = False
    reference: bool = False
    suppressed: bool = False
    extra: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """A way of comparing the service groups get."""

    name: str
    title: str
    unit: str  # percent, days, working_days
    test: str
    definition: str


MEASURES: tuple[Measure, ...] = (
    Measure(
        "assessment_45wd",
        "Assessments completed within 45 working days",
        "percent",
        "two-proportion z-test against the reference group",
        "Assessments authorised in the window completed within 45 working days of their start.",
    ),
    Measure(
        "assessment_working_days",
        "Assessment duration (median working days)",
        "working_days",
        "Mann-Whitney U against the reference group",
        "Working days from start to authorisation of assessments authorised in the window.",
    ),
    Measure(
        "rereferral_12m",
        "Re-referrals within 12 months",
        "percent",
        "two-proportion z-test against the reference group",
        "Referrals in the window within 12 months of the same child's previous referral.",
    ),
    Measure(
        "service_wait_days",
        "Wait for a local service (median days)",
        "days",
        "Mann-Whitney U against the reference group (Kruskal-Wallis across all groups)",
        "Calendar days from request to first delivery, services started in the window.",
    ),
    Measure(
        "service_repeat_12m",
        "Repeat requests for a local service within 12 months",
        "percent",
        "two-proportion z-test against the reference group",
        "Requests in the window for a child with an earlier request to the same service in "
        "the 12 months before.",
    ),
    Measure(
        "service_needs_met",
        "Local service ended with needs met",
        "percent",
        "two-proportion z-test against the reference group",
        "Involvements ended in the window whose outcome is one of the positive outcomes.",
    ),
    Measure(
        "attendance_pct",
        "School attendance of children known to services (mean %)",
        "percent",
        "Welch t-test against the reference group",
        "Each child's sessions attended as a percentage of possible sessions over the terms "
        "in the window; the mean over children.",
    ),
)
POSITIVE_OUTCOMES = ("completed - needs met", "needs met", "completed", "goals achieved")


def _grouped(
    t: Tables, records: ibis.Table, by: str, age_at: str, columns: list[str]
) -> list[dict[str, Any]]:
    records = with_child_dimensions(records, t.children, [by], age_at, None)
    records = records.mutate(group=records[by].cast("string").fill_null(NOT_KNOWN))
    return records.select("group", *columns).to_pyarrow().to_pylist()


def _measure_values(
    t: Tables, w: Window, by: str, include_uasc: bool, positive: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """Per measure: one row per record with its group and its value (or hit)."""
    out: dict[str, list[dict[str, Any]]] = {}
    a = t.assessments
    a = _without_uasc(a.filter(a.authorised_date.between(w.start, w.end)), t, include_uasc)
    a = with_working_days(a, "start_date", "authorised_date")
    a = a.filter(a.working_days.notnull())
    a = a.mutate(value=a.working_days.cast("float64"), hit=a.working_days <= 45)
    rows = _grouped(t, a, by, "start_date", ["value", "hit"])
    out["assessment_45wd"] = rows
    out["assessment_working_days"] = rows

    r = _without_uasc(t.referrals, t, include_uasc)
    order = ibis.window(group_by=[r.la_code, r.child_id], order_by=[r.referral_date, r.referral_id])
    r = r.mutate(previous=r.referral_date.lag().over(order))
    r = r.filter(r.referral_date.between(w.start, w.end))
    r = r.mutate(
        hit=(r.previous.notnull() & (r.previous + ibis.interval(years=1) >= r.referral_date))
    )
    out["rereferral_12m"] = _grouped(t, r, by, "referral_date", ["hit"])

    s = t.service_involvements
    started = s.filter(s.date_started.between(w.start, w.end))
    started = started.mutate(value=days_between(started.date_requested, started.date_started))
    out["service_wait_days"] = _grouped(t, started, by, "date_requested", ["value", "service"])

    order = ibis.window(
        group_by=[s.la_code, s.child_id, s.service], order_by=[s.date_requested, s.involvement_id]
    )
    rep = s.mutate(previous=s.date_requested.lag().over(order))
    rep = rep.filter(rep.date_requested.between(w.start, w.end))
    rep = rep.mutate(
        hit=rep.previous.notnull() & (rep.previous + ibis.interval(years=1) >= rep.date_requested)
    )
    out["service_repeat_12m"] = _grouped(t, rep, by, "date_requested", ["hit"])

    ended = s.filter(s.date_ended.between(w.start, w.end) & s.outcome.notnull())
    ended = ended.mutate(hit=ended.outcome.strip().lower().isin(list(positive)))
    out["service_needs_met"] = _grouped(t, ended, by, "date_ended", ["hit"])

    att = t.attendance
    att = att.filter(att.period_start.between(w.start, w.end))
    per_child = att.group_by(["la_code", "child_id"]).aggregate(
        possible=att.sessions_possible.sum(),
        attended=att.sessions_attended.sum(),
        first=att.period_start.min(),
    )
    per_child = per_child.filter(per_child.possible > 0)
    per_child = per_child.mutate(
        value=per_child.attended.cast("float64") / per_child.possible.cast("float64") * 100
    )
    out["attendance_pct"] = _grouped(t, per_child, by, "first", ["value"])
    return out


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _compare_service(
    measure: Measure, rows: list[dict[str, Any]], reference: str
) -> list[ServiceRow]:
    by_group: dict[str, list[dict[str, Any]]] = {}
    for record in rows:
        by_group.setdefault(record["group"], []).append(record)
    everyone = [r for rs in by_group.values() for r in rs]

    def summarise(rs: list[dict[str, Any]]) -> tuple[float | None, dict[str, float | None]]:
        if measure.name in ("assessment_working_days", "service_wait_days"):
            vals = [float(r["value"]) for r in rs if r.get("value") is not None]
            return _median(vals), {"mean": sum(vals) / len(vals) if vals else None}
        if measure.name == "attendance_pct":
            est = st.mean_ci([float(r["value"]) for r in rs if r.get("value") is not None])
            return est.mean, {"ci_low": est.ci_low, "ci_high": est.ci_high}
        hits = sum(1 for r in rs if r.get("hit"))
        return (hits / len(rs) * 100 if rs else None), {"hits": float(hits)}

    ref_rows = everyone if reference == ALL else by_group.get(reference, [])
    ref_value, _ = summarise(ref_rows)
    out: list[ServiceRow] = []
    for group in sorted(by_group):
        rs = by_group[group]
        value, extra = summarise(rs)
        row = ServiceRow(group, len(rs), value, extra=extra)
        row.reference = group == reference
        if value is not None and ref_value is not None and not row.reference:
            row.difference = value - ref_value
        compare_to = (
            [r for g, x in by_group.items() if g != group for r in x]
            if reference == ALL
            else ref_rows
        )
        if group not in NOT_TESTED and not row.reference and compare_to:
            if measure.unit == "percent" and measure.name != "attendance_pct":
                x1 = sum(1 for r in rs if r.get("hit"))
                x2 = sum(1 for r in compare_to if r.get("hit"))
                row.p_value = st.two_proportion_test(x1, len(rs), x2, len(compare_to))
            else:
                test = st.welch_t if measure.name == "attendance_pct" else st.mann_whitney
                row.p_value = test(
                    [float(r["value"]) for r in rs if r.get("value") is not None],
                    [float(r["value"]) for r in compare_to if r.get("value") is not None],
                )
            row.tested = row.p_value is not None
        out.append(row)
    return out


def equal_service(
    warehouse: Warehouse,
    by: str = "ethnicity",
    period: str | None = None,
    years: int = 1,
    reference: str | None = None,
    role: str = "viewer",
    alpha: float = ALPHA,
    include_uasc: bool = False,
    positive_outcomes: tuple[str, ...] = POSITIVE_OUTCOMES,
    threshold: int | None = None,
) -> dict[str, Any]:
    """Whether groups get the same service: timeliness, repeat use and outcomes compared."""
    from csc_insight.privacy.disclosure import suppression_threshold

    _check(by)
    limit = suppression_threshold() if threshold is None else threshold
    t = Tables(warehouse)
    w = window(warehouse, period, years)
    ref = _reference(by, reference)
    values = _measure_values(t, w, by, include_uasc, tuple(o.lower() for o in positive_outcomes))
    compared = {m.name: _compare_service(m, values[m.name], ref) for m in MEASURES}
    tested = [r for rows in compared.values() for r in rows if r.tested]
    for r, p in zip(tested, st.holm([r.p_value for r in tested]), strict=True):
        r.p_adjusted = p
        r.significant = p is not None and p < alpha
    measures = []
    for m in MEASURES:
        rows = compared[m.name]
        waits = values[m.name] if m.name == "service_wait_days" else []
        overall = None
        if waits:
            groups: dict[str, list[float]] = {}
            for x in waits:
                if x["group"] not in NOT_TESTED and x.get("value") is not None:
                    groups.setdefault(x["group"], []).append(float(x["value"]))
            overall = st.kruskal_wallis(list(groups.values()))
        if role == "viewer":
            _suppress_service(rows, limit)
        measures.append(
            {
                "measure": m.name,
                "title": m.title,
                "unit": m.unit,
                "definition": m.definition,
                "test": m.test,
                "kruskal_wallis_p": _p(overall),
                "groups": [_service_json(r) for r in rows],
            }
        )
    return {
        "period": w.label,
        "years": [p.label for p in w.periods],
        "by": by,
        "reference": ref,
        "correction": f"Holm over {len(tested)} comparisons (every tested group and measure)",
        "alpha": alpha,
        "suppression_threshold": limit,
        "role": role,
        "uasc_included": include_uasc,
        "positive_outcomes": list(positive_outcomes),
        "measures": measures,
    }


def _suppress_service(rows: list[ServiceRow], threshold: int) -> None:
    for r in rows:
        if r.n is not None and 0 < r.n <= threshold:
            r.suppressed = True
            r.n = None
            r.value = r.difference = r.p_value = r.p_adjusted = r.significant = None
            r.extra = {}
        hits = r.extra.get("hits")
        if hits is not None and 0 < hits <= threshold:
            r.suppressed = True
            r.value = r.difference = r.p_value = r.p_adjusted = r.significant = None
            r.extra = {}


def _service_json(r: ServiceRow) -> dict[str, Any]:
    return {
        "group": r.group,
        "n": r.n,
        "value": _round(r.value, 2),
        "difference": _round(r.difference, 2),
        "p_value": _p(r.p_value),
        "p_adjusted": _p(r.p_adjusted),
        "significant": r.significant,
        "tested": r.tested,
        "reference": r.reference,
        "suppressed": r.suppressed,
        **{k: _round(v, 2) for k, v in r.extra.items() if k != "hits"},
    }


def breakdown_title(by: str) -> str:
    """The human title of a breakdown (for the dashboard)."""
    return DIMENSIONS_BY_NAME[by].title


__all__ = [
    "ALL",
    "BREAKDOWNS",
    "DEFAULT_REFERENCE",
    "MEASURES",
    "STAGES",
    "STEPS",
    "Analysis",
    "GroupRow",
    "Stage",
    "StageResult",
    "Step",
    "Window",
    "analyse",
    "breakdown_title",
    "equal_service",
    "window",
]
