"""Impact of a local service on an outcome: difference-in-differences against similar children.

Each served child's outcome is compared in the terms before the service started and the
terms after, against children not (yet) served over the same school terms: children still
waiting for the service (their terms before it starts), children requested but never served,
and children served by other services, exactly matched to the served children on age band,
sex and prior outcome band (coarsened exact matching, Iacus, King and Porro 2012).

The estimate is a two-way fixed-effects regression on term-level data,

    value[child, term] = child + term + effect * after_start + other services' after_start,

so each child is compared with themselves (the child effect), a term that was good or bad
for every child is not mistaken for the service (the term effect), and the effect of other
services the same children received is estimated alongside rather than blurred into the
comparison. Standard errors are clustered by child, because one child's terms are not
independent. "After the start" means the first few terms after the term the service
started in (that term itself counts as before: the service has barely begun).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from csc_insight.analysis.outcomes import Outcome, outcome
from csc_insight.errors import CscInsightError
from csc_insight.warehouse.store import Warehouse

COMPARISONS = ("matched", "all", "not_served")
# Fewer served children than this and no verdict is given: the estimate would mostly be noise.
MIN_CHILDREN = 20
# Prior-outcome bands for matching; for attendance, 90% is the persistent-absence line.
PRIOR_BANDS = (-math.inf, 80.0, 90.0, 95.0, math.inf)
AGE_BANDS = ((0, 4, "0 to 4"), (5, 9, "5 to 9"), (10, 15, "10 to 15"), (16, 200, "16 and over"))


@dataclass(frozen=True)
class DidEstimate:
    """A difference-in-differences effect with its cluster-robust 95% interval."""

    effect: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    clusters: int


def did(panel: pd.DataFrame, controls: tuple[str, ...] = ()) -> DidEstimate:
    """Two-way fixed-effects difference-in-differences, errors clustered by child.

    ``panel`` has one row per child and period: ``child``, ``period`` (any hashable: the
    term), ``treat`` (1 in the periods after the child's start, else 0), ``value``,
    ``weight`` (the child's matching weight, constant per child) and any ``controls``
    (further 0/1 columns such as other services' after-start indicators). The model is
    value = child + period + effect * treat + controls; child effects are removed by
    subtracting each child's means (exact because the weight is constant within a child),
    period effects are dummies.
    """
    df = panel.reset_index(drop=True)
    groups = pd.factorize(df["child"])[0]
    periods = pd.get_dummies(df["period"], prefix="p", drop_first=True, dtype="float64")
    x = pd.concat([df[["treat", *controls]].astype("float64"), periods], axis=1)
    y = df["value"].astype("float64")
    x = x - x.groupby(groups).transform("mean")
    y = y - y.groupby(groups).transform("mean")
    x = x.loc[:, x.abs().sum() > 1e-9]
    fit = sm.WLS(y, x, weights=df["weight"]).fit(cov_type="cluster", cov_kwds={"groups": groups})
    b, se = float(fit.params["treat"]), float(fit.bse["treat"])
    n_clusters = len(np.unique(groups))
    # t with clusters - 1 degrees of freedom: a little wider than normal for few children.
    dof = max(n_clusters - 1, 1)
    t = float(stats.t.ppf(0.975, dof))
    p = float(2 * stats.t.sf(abs(b / se), dof)) if se > 0 else 0.0
    return DidEstimate(b, se, b - t * se, b + t * se, p, n_clusters)


@dataclass(frozen=True)
class Impact:
    """What a service did to an outcome, with the numbers behind it."""

    service: str
    outcome: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n_treated: int
    n_comparison: int
    method: str
    comparison: str
    verdict: str
    means: dict[str, dict[str, float]] = field(default_factory=dict)
    n_served: int = 0  # children who started the service (with or without outcome data)
    n_unmatched: int = 0  # served children with data but no comparison child like them
    periods: int = 3

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "outcome": self.outcome,
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "n_treated": self.n_treated,
            "n_comparison": self.n_comparison,
            "n_served": self.n_served,
            "n_unmatched": self.n_unmatched,
            "periods_each_side": self.periods,
            "comparison": self.comparison,
            "method": self.method,
            "verdict": self.verdict,
            "means": self.means,
        }


def verdict(o: Outcome, est: DidEstimate | None, n_treated: int, comparison_words: str) -> str:
    """The plain-English finding."""
    if est is None or n_treated < MIN_CHILDREN:
        return (
            f"Too few children to measure a change in {o.noun}: {n_treated} served children "
            f"had {o.noun} recorded before and after, and at least {MIN_CHILDREN} are needed."
        )
    ci = f"95% CI {est.ci_low:.1f} to {est.ci_high:.1f}"
    if est.ci_low > 0 or est.ci_high < 0:
        direction = "rose" if est.effect > 0 else "fell"
        return (
            f"{o.noun.capitalize()} {direction} by {abs(est.effect):.1f} {o.unit} more than "
            f"in the comparison group ({ci}; {n_treated} children served, compared with "
            f"{comparison_words})."
        )
    return (
        f"No measurable change: {o.noun} changed by {est.effect:+.1f} {o.unit} relative to "
        f"the comparison group ({ci}), a difference that could be chance ({n_treated} "
        f"children served, compared with {comparison_words})."
    )


def _age_band(age: float) -> str:
    for lo, hi, label in AGE_BANDS:
        if lo <= age < hi + 1:
            return label
    return "not known"


def windows(panel: pd.DataFrame, index: pd.DataFrame, periods: int) -> pd.DataFrame:
    """Each child's outcome periods around their index date: up to ``periods`` before (the
    period the date falls in counts as before, since the service has barely begun) and up
    to ``periods`` after. Children without both are dropped."""
    df = panel.merge(index[["child_id", "index_date"]], on="child_id")
    df["post"] = (df["period_start"] > df["index_date"]).astype("int64")
    df = df.sort_values(["child_id", "period_start"])
    pre = df[df["post"] == 0].groupby("child_id").tail(periods)
    post = df[df["post"] == 1].groupby("child_id").head(periods)
    both = set(pre["child_id"]) & set(post["child_id"])
    out = pd.concat([pre, post])
    return out[out["child_id"].isin(both)].reset_index(drop=True)


def _strata(win: pd.DataFrame, index: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    pre = win[win["post"] == 0]
    prior = (
        (pre["value"] * pre["weight"]).groupby(pre["child_id"]).sum()
        / pre["weight"].groupby(pre["child_id"]).sum()
    ).rename("prior")
    s = index.merge(prior, left_on="child_id", right_index=True).merge(
        children, on="child_id", how="left"
    )
    age = (s["index_date"] - s["date_of_birth"]).dt.days / 365.25
    s["age_band"] = [_age_band(a) if pd.notna(a) else "not known" for a in age]
    s["sex"] = s["sex"].fillna("not known").astype(str)
    s["prior_band"] = pd.cut(s["prior"], PRIOR_BANDS, right=False).astype(str)
    s["stratum"] = s["age_band"] + "|" + s["sex"] + "|" + s["prior_band"]
    return s


def after_start(rows: pd.DataFrame, starts: pd.DataFrame, periods: int) -> pd.Series:
    """1 for each row (child_id, period_start) among the first ``periods`` periods after one
    of the child's ``starts`` (child_id, start), else 0."""
    if starts.empty or rows.empty:
        return pd.Series(0, index=rows.index, dtype="int64")
    terms = rows[["child_id", "period_start"]].drop_duplicates()
    m = terms.merge(starts[["child_id", "start"]], on="child_id")
    m = m[m["period_start"] > m["start"]].sort_values(["child_id", "start", "period_start"])
    m["rank"] = m.groupby(["child_id", "start"]).cumcount()
    hit = m[m["rank"] < periods][["child_id", "period_start"]].drop_duplicates()
    hit["flag"] = 1
    flags = rows[["child_id", "period_start"]].merge(
        hit, how="left", on=["child_id", "period_start"]
    )
    return pd.Series(flags["flag"].fillna(0).astype("int64").to_numpy(), index=rows.index)


def _load(warehouse: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    inv = warehouse.table("service_involvements")
    inv = inv.select("child_id", "service", "date_requested", "date_started").to_pandas()
    for col in ("date_requested", "date_started"):
        inv[col] = pd.to_datetime(inv[col])
    ch = warehouse.table("children").select("child_id", "sex", "date_of_birth").to_pandas()
    ch["date_of_birth"] = pd.to_datetime(ch["date_of_birth"])
    return inv, ch.drop_duplicates("child_id")


def impact(
    warehouse: Warehouse,
    service: str,
    outcome_name: str = "attendance",
    comparison: str = "matched",
    periods: int = 3,
) -> Impact:
    """Difference-in-differences estimate of ``service``'s effect on an outcome.

    ``comparison`` says which children not served by the service form the comparison
    group: ``matched`` (all with outcome data, exactly matched on age band, sex and prior
    outcome band), ``all`` (the same without matching) or ``not_served`` (only children
    requested for this service who never received it). Served children still waiting for
    their start also act as comparisons for those already started, through the term
    effects.
    """
    if comparison not in COMPARISONS:
        raise CscInsightError(f"The comparison must be one of {', '.join(COMPARISONS)}.")
    o = outcome(outcome_name)
    inv, children = _load(warehouse)
    if service not in set(inv["service"]):
        known = ", ".join(sorted(set(inv["service"]))) or "none loaded"
        raise CscInsightError(f"No service called {service!r} (services: {known}).")
    panel = o.panel(warehouse)
    starts = inv.dropna(subset=["date_started"]).rename(columns={"date_started": "start"})

    this = starts[starts["service"] == service]
    treated_index = this.groupby("child_id")["start"].min().rename("index_date").reset_index()
    ever_served = set(treated_index["child_id"])
    pool = inv[~inv["child_id"].isin(ever_served)].copy()
    if comparison == "not_served":
        pool = pool[pool["service"] == service]
        pool["index_date"] = pool["date_requested"]
        words = "children requested for the service who never received it"
    else:
        # Their own date: when another service started, else when one was requested.
        pool["index_date"] = pool["date_started"].fillna(pool["date_requested"])
        words = (
            "similar children (same age band, sex and prior level) not served by it"
            if comparison == "matched"
            else "children not served by it"
        )
    pool_index = pool.groupby("child_id")["index_date"].min().reset_index()

    t_win = windows(panel, treated_index, periods)
    c_win = windows(panel, pool_index, periods)
    t_strata = _strata(t_win, treated_index, children).assign(w=1.0)
    c_strata = _strata(c_win, pool_index, children).assign(w=1.0)
    n_unmatched = 0
    if comparison == "matched":
        # Coarsened exact matching weights: comparison children in a stratum stand in for
        # the served children in it; strata without both are dropped.
        n_t = t_strata["stratum"].value_counts()
        n_c = c_strata["stratum"].value_counts()
        common = n_t.index.intersection(n_c.index)
        n_unmatched = int((~t_strata["stratum"].isin(common)).sum())
        t_strata = t_strata[t_strata["stratum"].isin(common)]
        c_strata = c_strata[c_strata["stratum"].isin(common)].copy()
        scale = len(c_strata) / max(len(t_strata), 1)
        c_strata["w"] = c_strata["stratum"].map(n_t[common] / n_c[common]) * scale

    t_rows = t_win.merge(t_strata[["child_id", "w"]], on="child_id")
    c_rows = c_win.merge(c_strata[["child_id", "w"]], on="child_id")
    rows = pd.concat([t_rows.assign(served=1), c_rows.assign(served=0)], ignore_index=True)
    rows["treat"] = after_start(rows, this, periods)
    controls: list[str] = []
    for k, (_, part) in enumerate(starts[starts["service"] != service].groupby("service")):
        flag = after_start(rows, part, periods)
        if flag.sum() > 0:
            rows[f"other{k}"] = flag
            controls.append(f"other{k}")
    n_treated, n_comparison = int(t_rows["child_id"].nunique()), int(c_rows["child_id"].nunique())
    est = None
    if n_treated >= MIN_CHILDREN and n_comparison >= MIN_CHILDREN:
        est = did(
            rows.assign(
                child=rows["served"].astype(str) + rows["child_id"],
                period=rows["period_start"],
                weight=rows["w"],
            ),
            tuple(controls),
        )
    means: dict[str, dict[str, float]] = {}
    for label, part in (("served", t_rows), ("comparison", c_rows)):
        means[label] = {}
        for when, post in (("before", 0), ("after", 1)):
            p = part[part["post"] == post]
            w = p["w"] * p["weight"]
            means[label][when] = float((p["value"] * w).sum() / w.sum()) if len(p) else math.nan
    method = (
        f"Difference-in-differences on {o.title.lower()}, up to {periods} terms before and "
        f"{periods} after each child's start, with child and term fixed effects, other "
        "services' effects estimated alongside, and standard errors clustered by child; "
        "comparison: "
        + {
            "matched": "children not served by it (and served children still waiting), "
            "exactly matched on age band, sex and prior level (coarsened exact matching)",
            "all": "children not served by it (and served children still waiting)",
            "not_served": "children requested for the service but never served",
        }[comparison]
    )
    return Impact(
        service=service,
        outcome=o.name,
        effect=None if est is None else est.effect,
        ci_low=None if est is None else est.ci_low,
        ci_high=None if est is None else est.ci_high,
        p_value=None if est is None else est.p_value,
        n_treated=n_treated,
        n_comparison=n_comparison,
        method=method,
        comparison=comparison,
        verdict=verdict(o, est, n_treated, words),
        means=means,
        n_served=len(treated_index),
        n_unmatched=n_unmatched,
        periods=periods,
    )


__all__ = [
    "COMPARISONS",
    "MIN_CHILDREN",
    "DidEstimate",
    "Impact",
    "after_start",
    "did",
    "impact",
    "verdict",
    "windows",
]
