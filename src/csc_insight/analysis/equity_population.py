"""Child population baselines for the equity analysis: who could have been served.

The population table holds marginal totals (see datasets/population.py). For each financial
year analysed, a baseline takes the estimate year nearest before it (mid-2024 for 2024-25),
and for each group of a breakdown the children in that group:

* sex, age band, locality, ethnic group or ethnicity from a file that gives children (age
  band ``0-17``): the ONS mid-year estimate for the total, the authority's local population
  file for the groups;
* ethnicity when no file gives children by ethnicity: the authority's Census 2021 shares of
  residents of ALL AGES applied to the ONS 0-17 total. This is an approximation (children
  are more ethnically diverse than adults in most of England, so minority groups' child
  populations are understated and their rates overstated) and is labelled as one wherever
  it is used. A local population file by ethnicity, when loaded, is always preferred.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from csc_insight.datasets.population import ALL_AGES, ALL_CHILDREN
from csc_insight.indicators.dimensions import AGE_BANDS
from csc_insight.indicators.registry import Tables

MARGINALS = ("sex", "ethnic_group", "ethnicity", "locality")
CHILD_AGE_BANDS = tuple(label for low, _high, label in AGE_BANDS if low < 18)
LOCAL_SOURCE = "population file of children by {by}"
CENSUS_APPROXIMATION = (
    "approximation: Census 2021 ethnic shares of residents of all ages applied to the ONS "
    "mid-year estimate of children aged 0-17"
)


@dataclass
class Baseline:
    """Child-years by group over the years analysed, and where they come from."""

    by: str
    groups: dict[str, float] = field(default_factory=dict)
    total: float | None = None
    source: str | None = None
    approximate: bool = False
    notes: list[str] = field(default_factory=list)

    def population(self, group: str) -> float | None:
        return self.groups.get(group)


def _nearest(years: list[int], wanted: int) -> int | None:
    """The latest estimate year not after ``wanted``, else the earliest there is."""
    if not years:
        return None
    return max((y for y in years if y <= wanted), default=min(years))


def _rows(t: Tables, la_codes: list[str]) -> list[dict[str, Any]]:
    pop = t.population
    pop = pop.filter(pop.la_code.isin(la_codes))
    return pop.to_pyarrow().to_pylist()  # a few hundred marginal totals per authority


def _blank(row: dict[str, Any], except_for: str | None = None) -> bool:
    return all(row.get(m) in (None, "") for m in MARGINALS if m != except_for)


def _by_year(rows: list[dict[str, Any]], keep: Any) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get("year") is not None and row.get("population") is not None and keep(row):
            out[int(row["year"])].append(row)
    return out


def _total(rows: list[dict[str, Any]], year: int) -> float | None:
    """Children aged 0-17 in the estimate year nearest ``year``."""
    totals = _by_year(rows, lambda r: r["age_band"] == ALL_CHILDREN and _blank(r))
    chosen = _nearest(sorted(totals), year)
    if chosen is not None:
        return float(sum(r["population"] for r in totals[chosen]))
    bands = _by_year(rows, lambda r: r["age_band"] in CHILD_AGE_BANDS and _blank(r))
    chosen = _nearest(sorted(bands), year)
    if chosen is not None:
        return float(sum(r["population"] for r in bands[chosen]))
    return None


def _groups(rows: list[dict[str, Any]], by: str, year: int) -> dict[str, float] | None:
    """Children per group from a file that gives children (not the all-ages census)."""
    if by == "age_band":
        found = _by_year(rows, lambda r: r["age_band"] in CHILD_AGE_BANDS and _blank(r))
        key = "age_band"
    else:
        found = _by_year(
            rows,
            lambda r: (
                r["age_band"] == ALL_CHILDREN
                and r.get(by) not in (None, "")
                and _blank(r, except_for=by)
            ),
        )
        key = by
    chosen = _nearest(sorted(found), year)
    if chosen is None:
        return None
    out: dict[str, float] = defaultdict(float)
    for r in found[chosen]:
        out[str(r[key])] += float(r["population"])
    return dict(out)


def _census_shares(rows: list[dict[str, Any]], by: str) -> dict[str, float] | None:
    census = [
        r
        for r in rows
        if r["age_band"] == ALL_AGES
        and r.get(by) not in (None, "")
        and _blank(r, except_for=by)
        and r.get("population") is not None
    ]
    if not census:
        return None
    latest = max(int(r["year"]) for r in census)
    counts: dict[str, float] = defaultdict(float)
    for r in census:
        if int(r["year"]) == latest:
            counts[str(r[by])] += float(r["population"])
    whole = sum(counts.values())
    return {g: n / whole for g, n in counts.items()} if whole else None


def baseline(t: Tables, la_codes: list[str], years: list[int], by: str) -> Baseline:
    """Child-years per group of ``by`` over the financial years starting in ``years``."""
    out = Baseline(by)
    if by not in (*MARGINALS, "age_band"):
        out.notes.append(f"There is no child population by {by}: rates per 10,000 cannot be made.")
        return out
    total = 0.0
    sources: set[str] = set()
    for la in la_codes:
        rows = _rows(t, [la])
        shares = _census_shares(rows, by) if by in ("ethnicity", "ethnic_group") else None
        for year in years:
            la_total = _total(rows, year)
            if la_total is not None:
                total += la_total
            groups = _groups(rows, by, year)
            if groups is not None:
                sources.add(LOCAL_SOURCE.format(by=by.replace("_", " ")))
            elif shares is not None and la_total is not None:
                groups = {g: la_total * s for g, s in shares.items()}
                sources.add(CENSUS_APPROXIMATION)
                out.approximate = True
            for g, n in (groups or {}).items():
                out.groups[g] = out.groups.get(g, 0.0) + n
    out.total = total or None
    out.source = "; ".join(sorted(sources)) or None
    if not out.groups:
        out.notes.append(
            f"No population by {by.replace('_', ' ')} is loaded: load the ONS mid-year "
            "estimates with the Census 2021 ethnic group table, or a local population file."
        )
    if out.approximate:
        out.notes.append(
            "The child population by ethnicity is an approximation from Census 2021 shares "
            "of all ages; load a local population file of children by ethnicity to replace it."
        )
    return out


__all__ = ["CENSUS_APPROXIMATION", "Baseline", "baseline"]
