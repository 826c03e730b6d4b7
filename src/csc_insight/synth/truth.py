"""Figures the simulation actually produced, measured on its own records for ground truth."""

from __future__ import annotations

import statistics
from typing import Any

from csc_insight.synth.population import DISPROPORTIONATE_GROUP
from csc_insight.synth.writers.common import Context


def _pct(a: int, b: int) -> float | None:
    return round(100.0 * a / b, 1) if b else None


def realised_figures(ctx: Context) -> dict[str, Any]:
    """Headline figures for the latest collection year, as DfE would compute them."""
    lo, ref = ctx.bounds(ctx.years[-1])
    cal = ctx.cal
    pop = ctx.identity.population_0_17
    per10k = 10_000 / pop
    refs = [(c, r) for c, r in ctx.sim.referrals if lo <= r.date <= ref]
    rerefs = sum(1 for c, r in refs if any(r.date - 365 <= x.date < r.date for x in c.referrals))
    nfa = sum(1 for _, r in refs if r.nfa)
    done = [
        a
        for _, r in ctx.sim.referrals
        for a in r.assessments
        if a.auth is not None and lo <= a.auth <= ref
    ]
    wd = [cal.working_days_between(a.start, a.auth) for a in done if a.auth is not None]
    not_in_need = sum(1 for _, r in refs if r.assessments and not r.assessments[0].in_need)
    cin31 = sum(
        1
        for _, r in ctx.sim.referrals
        if not r.nfa and r.date <= ref and (r.close is None or r.close > ref)
    )
    cp31 = sum(
        1
        for _, r in ctx.sim.referrals
        for p in r.cpps
        if p.start <= ref and (p.end is None or p.end > ref)
    )
    cp_starts = [p for _, r in ctx.sim.referrals for p in r.cpps if lo <= p.start <= ref]
    icpcs = [
        s
        for _, r in ctx.sim.referrals
        for s in r.s47s
        if s.icpc is not None and lo <= s.icpc <= ref
    ]
    icpc15 = sum(
        1 for s in icpcs if s.icpc is not None and cal.working_days_between(s.start, s.icpc) <= 15
    )
    cla31 = cla_starts = 0
    for c in ctx.children:
        for p in c.cla:
            if p.short_break:
                continue
            if p.start <= ref and (p.end is None or p.end > ref):
                cla31 += 1
            if lo <= p.start <= ref:
                cla_starts += 1
    # Disproportionality over all collection years: outcome of each referral's episode.
    first_lo = ctx.bounds(ctx.years[0])[0]
    stats: dict[str, list[int]] = {"group": [0, 0, 0], "WBRI": [0, 0, 0]}
    for c, r in ctx.sim.referrals:
        if not first_lo <= r.date <= ref:
            continue
        key = (
            "group"
            if c.ethnicity in DISPROPORTIONATE_GROUP
            else ("WBRI" if c.ethnicity == "WBRI" else None)
        )
        if key is None:
            continue
        stats[key][0] += 1
        stats[key][1] += bool(r.cpps)
        stats[key][2] += any(
            r.date <= p.start <= (r.close or ref) for p in c.cla if not p.short_break
        )

    def rr(i: int) -> float | None:
        g, w = stats["group"], stats["WBRI"]
        if not (g[0] and w[0] and w[i]):
            return None
        return round((g[i] / g[0]) / (w[i] / w[0]), 2)

    return {
        "collection_year": f"{ctx.years[-1] - 1}-{ctx.years[-1] % 100:02d}",
        "referrals": len(refs),
        "referrals_per_10k": round(len(refs) * per10k, 1),
        "rereferral_within_12_months_pct": _pct(rerefs, len(refs)),
        "referral_nfa_pct": _pct(nfa, len(refs)),
        "assessed_not_in_need_pct_of_referrals": _pct(not_in_need, len(refs)),
        "assessments_completed": len(wd),
        "assessments_within_45_wd_pct": _pct(sum(1 for x in wd if x <= 45), len(wd)),
        "assessment_median_wd": statistics.median(wd) if wd else None,
        "cin_at_31_march_per_10k": round(cin31 * per10k, 1),
        "cp_at_31_march_per_10k": round(cp31 * per10k, 1),
        "cp_starts": len(cp_starts),
        "cp_second_or_subsequent_pct": _pct(
            sum(1 for p in cp_starts if p.previous), len(cp_starts)
        ),
        "icpc_within_15_wd_pct": _pct(icpc15, len(icpcs)),
        "cla_at_31_march_per_10k": round(cla31 * per10k, 1),
        "cla_starts_per_10k": round(cla_starts * per10k, 1),
        "disproportionality_all_years": {
            "referrals_group": stats["group"][0],
            "referrals_wbri": stats["WBRI"][0],
            "cp_plan_given_referral_rr": rr(1),
            "entered_care_given_referral_rr": rr(2),
        },
    }
