"""Orchestration: simulate one authority at a time, write its files, record the truth."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from csc_insight.synth import params as P
from csc_insight.synth.calendar import COVID_CLOSURES, Calendar, to_day
from csc_insight.synth.journey import Simulation
from csc_insight.synth.local import FEEDBACK_ITEMS, RESPONSE_RATE, SERVICES, simulate_local
from csc_insight.synth.population import (
    DEFAULT_LA,
    DISPROPORTIONATE_GROUP,
    ETHNICITY_MIX,
    Child,
    Identity,
    People,
)
from csc_insight.synth.truth import realised_figures
from csc_insight.synth.writers.annex_a import write_annex_a
from csc_insight.synth.writers.cin_census import write_cin_census
from csc_insight.synth.writers.common import Context, year_label
from csc_insight.synth.writers.local_csv import write_local
from csc_insight.synth.writers.population import write_population
from csc_insight.synth.writers.ssda903 import write_ssda903
from csc_insight.warehouse.model import FACT_TABLES

ProgressFn = Callable[[str, float], None]

# Children aged 0-17 each scale pretends to have (national: ONS mid-2024 for England).
SCALES: dict[str, int] = {
    "small": 12_000,
    "la": DEFAULT_LA["population_0_17"],  # type: ignore[dict-item]
    "national": 12_183_016,
}
DEFAULT_YEARS = tuple(range(2019, 2026))  # 2018-19 ... 2024-25, by ending year
MAX_YEARS = 12
BURN_IN_YEARS = 3
NATIONAL_LAS = 150

# Counts are kept for every canonical fact table an authority's own files feed, so the round
# trip can compare them all (DfE's published figures are reference data, not written here).
WRITTEN_SOURCES = frozenset({"cin_census", "ssda903", "annex_a", "local", "population"})
TABLE_NAMES = tuple(t.name for t in FACT_TABLES if WRITTEN_SOURCES & set(t.sources))


@dataclass
class SynthResult:
    """What generate() wrote and what it planted."""

    out: Path
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    ground_truth: dict[str, Any] = field(default_factory=dict)


def _identity(scale: str, la_code: str | None) -> Identity:
    base = Identity(
        name=str(DEFAULT_LA["name"]),
        old_la_code=str(DEFAULT_LA["old_la_code"]),
        new_la_code=str(DEFAULT_LA["new_la_code"]),
        population_0_17=SCALES[scale],
        postcode_area=str(DEFAULT_LA["postcode_area"]),
        region=str(DEFAULT_LA["region"]),
    )
    if la_code is None or la_code in (base.old_la_code, base.new_la_code):
        return base
    if la_code.isdigit() and len(la_code) == 3:
        return Identity(
            f"Synthetic authority {la_code}",
            la_code,
            f"E0690{la_code}0",
            base.population_0_17,
            base.postcode_area,
        )
    return Identity(
        f"Synthetic authority {la_code}", "999", la_code, base.population_0_17, base.postcode_area
    )


def _national_identities(rng: np.random.Generator) -> list[Identity]:
    """~150 pseudo-authorities whose sizes spread like England's and add up to its total."""
    sizes = rng.lognormal(np.log(60_000), 0.55, NATIONAL_LAS)
    sizes = np.maximum(sizes, 2_500)
    sizes = np.round(sizes / sizes.sum() * SCALES["national"]).astype(np.int64)
    sizes[-1] += SCALES["national"] - int(sizes.sum())
    areas = (
        "AB",
        "BX",
        "CQ",
        "DX",
        "EQ",
        "FX",
        "GQ",
        "HX",
        "JQ",
        "KX",
        "LQ",
        "MX",
        "NQ",
        "PX",
        "QA",
        "RX",
        "SQ",
        "TX",
        "UQ",
        "VX",
        "WQ",
        "XA",
        "YQ",
        "ZX",
    )
    return [
        Identity(
            f"Pseudo authority {i + 1:03d}",
            f"{i + 1:03d}",
            f"E0690{i + 1:04d}",
            int(sizes[i]),
            areas[i % len(areas)],
        )
        for i in range(NATIONAL_LAS)
    ]


def _years(years: int | None) -> list[int]:
    if years is None:
        return list(DEFAULT_YEARS)
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"years must be between 1 and {MAX_YEARS}")
    last = DEFAULT_YEARS[-1]
    return list(range(last - years + 1, last + 1))


def generate(
    out: Path,
    *,
    scale: str = "la",
    seed: int = 1,
    years: int | None = None,
    la_code: str | None = None,
    progress: ProgressFn | None = None,
) -> SynthResult:
    """Write a synthetic authority (or England, as pseudo-authorities) into ``out``."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report: ProgressFn = progress or (lambda _label, _f: None)
    yrs = _years(years)
    root = np.random.SeedSequence(seed)
    result = SynthResult(out=out, counts=dict.fromkeys(TABLE_NAMES, 0))
    if scale == "national":
        ids = _national_identities(np.random.default_rng(root.spawn(1)[0]))
        seeds = root.spawn(len(ids) + 1)[1:]
        per_la: list[dict[str, Any]] = []
        for i, ident in enumerate(ids):

            def sub(label: str, f: float, i: int = i, name: str = ident.name) -> None:
                report(f"{name}: {label}", (i + f) / len(ids))

            la_truth = _generate_la(
                out / ident.new_la_code, ident, seeds[i], yrs, seed, sub, result, prefix=out
            )
            per_la.append(la_truth)
        truth = _national_truth(ids, per_la)
    else:
        ident = _identity(scale, la_code)
        truth = _generate_la(out, ident, root.spawn(1)[0], yrs, seed, report, result, prefix=out)
    truth = {
        "scale": scale,
        "seed": seed,
        "collection_years": [year_label(y) for y in yrs],
        **truth,
        "planted": planted_parameters(),
        "counts": result.counts,
        "files": sorted(str(p.relative_to(out)) for p in result.files),
    }
    path = out / "ground_truth.json"
    path.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    result.files.append(path)
    result.ground_truth = truth
    report("done", 1.0)
    return result


def _generate_la(
    folder: Path,
    ident: Identity,
    ss: np.random.SeedSequence,
    yrs: list[int],
    seed: int,
    report: ProgressFn,
    result: SynthResult,
    prefix: Path,
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    np_rng = np.random.default_rng(ss)
    rng = random.Random(int(np_rng.integers(0, 2**62)))
    first = to_day(date(yrs[0] - 1, 4, 1))
    horizon = to_day(date(yrs[-1], 3, 31))
    sim_start = to_day(date(yrs[0] - 1 - BURN_IN_YEARS, 4, 1))
    cal = Calendar(date(yrs[0] - 1 - BURN_IN_YEARS - 20, 1, 1), date(yrs[-1] + 4, 12, 31))
    people = People(rng, ident)
    sim = Simulation(rng, np_rng, cal, people, ident.population_0_17, sim_start, horizon)
    report("simulating care histories", 0.02)
    sim.add_legacy_cla(sim_start)
    days, sources = sim.referral_arrivals()
    sim.add_uasc(sim_start)
    sim.add_short_breaks(sim_start)
    sim.run(days, sources)
    report("simulating local services", 0.45)
    known = [c for c in people.children if c.referrals and not c.uasc]
    local = simulate_local(rng, people, cal, ident.population_0_17, first, horizon, known)
    contacts = _contacts(rng, sim, to_day(date(yrs[-1] - 1, 4, 1)), horizon)
    _teen_mothers(rng, people.children, horizon)
    ctx = Context(
        out=folder,
        identity=ident,
        cal=cal,
        years=yrs,
        horizon=horizon,
        seed=seed,
        sim=sim,
        local=local,
        contacts=contacts,
    )
    report("writing SSDA903", 0.55)
    write_ssda903(ctx)
    report("writing CIN census", 0.70)
    write_cin_census(ctx)
    report("writing Annex A", 0.85)
    write_annex_a(ctx)
    report("writing local extracts", 0.95)
    write_local(ctx)
    write_population(ctx)
    for name in TABLE_NAMES:
        result.counts[name] += len(ctx.keys.get(name, ()))
    result.files.extend(ctx.files)
    figures = realised_figures(ctx)
    pop = ident.population_0_17
    return {
        "authority": {
            "name": ident.name,
            "old_la_code": ident.old_la_code,
            "new_la_code": ident.new_la_code,
            "region": ident.region,
            "population_0_17": pop,
            "population_note": "ONS mid-2024 estimate for the authority, scaled to the "
            "chosen scale; records are invented.",
            "localities": {k: v for k, v in people.districts.items()},
            "population_ethnicity_mix": dict(ETHNICITY_MIX),
        },
        "realised": figures,
        "annex_a_window": [_iso(to_day(date(yrs[-1] - 1, 4, 1))), _iso(horizon)],
        "folder": str(folder.relative_to(prefix)) if folder != prefix else ".",
    }


def _iso(day: int) -> str:
    from csc_insight.synth.calendar import to_date

    return to_date(day).isoformat()


def _contacts(
    rng: random.Random, sim: Simulation, lo: int, hi: int
) -> list[tuple[Child, int, str]]:
    """Contacts in the Annex A window: one before each referral, plus many that stop at the
    front door. Their dates borrow the referrals' daily pattern so seasonality carries over."""
    refs = [(c, r) for c, r in sim.referrals if lo <= r.date <= hi]
    seen: set[tuple[str, int, str]] = set()
    out: list[tuple[Child, int, str]] = []

    def add(child: Child, day: int, src: str) -> None:
        key = (child.child_id, day, src)
        if key not in seen and day <= hi:
            seen.add(key)
            out.append((child, day, src))

    for child, r in refs:
        back = 0 if rng.random() < 0.7 else rng.randint(1, 5)
        add(child, max(lo, r.date - back), r.source)
    known = [c for c, _ in sim.referrals if not c.uasc]
    extra = int(len(refs) * (P.CONTACTS_PER_REFERRAL - 1))
    for _ in range(extra):
        _, r = refs[rng.randrange(len(refs))]
        day = r.date
        src = refs[rng.randrange(len(refs))][1].source
        if rng.random() < 0.45 and known:
            child = known[rng.randrange(len(known))]
            if day - child.dob > 18 * 365 or child.dob > day:
                child = sim._new_referred_child(day)
        else:
            child = sim._new_referred_child(day)
        add(child, day, src)
    out.sort(key=lambda t: (t[1], int(t[0].child_id), t[2]))
    return out


def _teen_mothers(rng: random.Random, children: list[Child], horizon: int) -> None:
    for c in children:
        if c.sex == "2" and c.cla and rng.random() < 0.03:
            start = max(c.cla[0].start, c.dob + int(15 * 365.25))
            if start < horizon and start < c.dob + int(18 * 365.25):
                c.mother = True
                c.mc_dob = start + rng.randint(30, 400)


def planted_parameters() -> dict[str, Any]:
    """Every rate and effect the generator plants on purpose."""
    return {
        "referral_rate_per_10k": P.REFERRAL_RATE_PER_10K,
        "contacts_per_referral": P.CONTACTS_PER_REFERRAL,
        "trend_per_year": P.TREND_PER_YEAR,
        "referral_nfa_probability": P.P_REFERRAL_NFA,
        "rereferral_draw_probability": P.P_REREFERRAL_DRAW,
        "assessment_duration_working_days": {
            "median": P.ASSESSMENT_MEDIAN_WD,
            "lognormal_sigma": P.ASSESSMENT_SIGMA,
        },
        "section47_probability": P.P_S47,
        "icpc_given_section47": P.P_ICPC_GIVEN_S47,
        "cp_plan_given_icpc": P.P_CPP_GIVEN_ICPC,
        "icpc_working_days": {"median": P.ICPC_MEDIAN_WD, "lognormal_sigma": P.ICPC_SIGMA},
        "cp_plan_median_days": P.CPP_MEDIAN_DAYS,
        "cin_plan_median_days": P.CIN_PLAN_MEDIAN_DAYS,
        "care_entry": {
            "direct_from_assessment": P.P_CLA_DIRECT,
            "from_cp_plan": P.P_CLA_FROM_CPP,
            "from_cin_plan": P.P_CLA_FROM_CIN_PLAN,
            "uasc_per_10k_per_year": P.UASC_PER_10K_PER_YEAR,
            "short_break_children_per_10k": P.SHORT_BREAK_CHILDREN_PER_10K,
            "infant_direct_factor": P.INFANT_CARE_ENTRY_FACTOR,
            "infant_from_cp_plan_factor": P.INFANT_CARE_FROM_CPP_FACTOR,
        },
        "placement_moves": {
            "per_year_by_placement": dict(P.PLACEMENT_MOVES_PER_YEAR),
            "teen_factor": P.PLACEMENT_MOVES_TEEN_FACTOR,
            "early_move_first_placement_probability": P.EARLY_MOVE_FIRST_P,
            "early_move_later_placement_probability": P.EARLY_MOVE_LATER_P,
            "early_move_window_days": P.EARLY_MOVE_WINDOW_DAYS,
            "settled_after_days": P.PLACEMENT_SETTLED_AFTER_DAYS,
            "settled_factor": P.PLACEMENT_SETTLED_FACTOR,
            "settled_placements": list(P.PLACEMENT_SETTLED_PLACES),
        },
        "adoption": {
            "exit_path_weights_adopt_sgo_home_long": {
                "under_1": list(P.EXIT_PATH_UNDER_1),
                "1_to_4": list(P.EXIT_PATH_1_TO_4),
            },
            "decision_median_days_after_entry": P.ADOPTION_DECISION_MEDIAN_DAYS,
            "placement_order_days_after_decision": list(P.ADOPTION_PLACEMENT_ORDER_DAYS),
            "match_median_days_after_placement_order": P.ADOPTION_MATCH_MEDIAN_DAYS,
            "move_in_days_after_match": list(P.ADOPTION_MOVE_IN_DAYS),
            "order_median_days_after_move_in": P.ADOPTION_ORDER_MEDIAN_DAYS,
        },
        "care_leavers": {
            "in_touch": dict(P.IN_TOUCH),
            "activity": {band: dict(t) for band, t in P.CARE_LEAVER_ACTIVITY.items()},
            "accommodation": {band: dict(t) for band, t in P.CARE_LEAVER_ACCOM.items()},
            "always_unsuitable": list(P.ALWAYS_UNSUITABLE_ACCOM),
            "unsuitable_probability": {
                **P.UNSUITABLE_ACCOM_P,
                "other": P.UNSUITABLE_ACCOM_OTHER_P,
            },
        },
        "referral_sources": dict(P.REFERRAL_SOURCES),
        "seasonality": {
            "weekday_profile_mon_to_sun": list(P.WEEKDAY_PROFILE),
            "police_weekday_profile_mon_to_sun": list(P.POLICE_WEEKDAY_PROFILE),
            "bank_holiday_factor": P.BANK_HOLIDAY_FACTOR,
            "school_sources": list(P.SCHOOL_SOURCES),
            "school_holiday_factor": P.SCHOOL_HOLIDAY_FACTOR,
            "autumn_return_lift": P.AUTUMN_RETURN_LIFT,
            "autumn_return_weeks": P.AUTUMN_RETURN_WEEKS,
        },
        "covid": {
            "school_closures": [[a.isoformat(), b.isoformat()] for a, b in COVID_CLOSURES],
            "school_source_factor_while_closed": P.COVID_SCHOOL_FACTOR,
            "rebound_factor": P.COVID_REBOUND,
            "rebound_weeks": P.COVID_REBOUND_WEEKS,
            "other_sources_factor_2020_03_23_to_06_30": P.COVID_OTHER_FACTOR,
        },
        "disproportionality": {
            "group": list(DISPROPORTIONATE_GROUP),
            "reference": "WBRI",
            "referral_relative_rate": 1.0,
            "cp_plan_given_referral_relative_rate": P.DISPROPORTIONALITY_RR,
            "entering_care_given_referral_relative_rate": P.DISPROPORTIONALITY_RR,
            "stages": [
                "initial child protection conference after a section 47",
                "entering care (directly, from a CP plan or from a CIN plan)",
            ],
        },
        "services": {
            s.name: {
                "requests_per_10k_per_year": s.requests_per_10k,
                "median_wait_days": s.median_wait_days,
                "median_duration_days": s.median_duration_days,
                "age_range": list(s.age_range),
                "teams": list(s.teams),
                "attendance_effect_pp": s.attendance_effect_pp,
                "feedback_mean_score": s.feedback_mean,
                "never_started_probability": s.p_never_start,
                "return_within_12_months_probability": s.p_return_12m,
            }
            for s in SERVICES
        },
        "feedback": {"items": list(FEEDBACK_ITEMS), "response_rate": RESPONSE_RATE},
    }


def _national_truth(ids: list[Identity], per_la: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "authority": {
            "name": "England (pseudo-authorities)",
            "population_0_17": sum(i.population_0_17 for i in ids),
            "authorities": len(ids),
        },
        "authorities": per_la,
    }


__all__ = ["SCALES", "SynthResult", "generate"]
