"""The authority's child population, in the layouts authorities download or keep.

Rates per 10,000 need a denominator: the ONS mid-year estimate (as DfE republishes it) for
the authority, and a local file of marginal totals by age band, sex, ethnic group,
ethnicity and locality, drawn from the same mix the synthetic children are drawn from.
"""

from __future__ import annotations

import csv

from csc_insight.datasets import formats
from csc_insight.synth.population import ETHNICITY_MIX, LOCALITIES, LOCALITY_WEIGHTS
from csc_insight.synth.writers.common import Context

# Single years of age are close to even across 0 to 17, so bands scale with their width.
AGE_BAND_YEARS = (("Under 1", 1), ("1 to 4", 4), ("5 to 9", 5), ("10 to 15", 6), ("16 to 17", 2))
MALE_SHARE = 0.515
GROUP_OF_LETTER = {
    "W": "White",
    "M": "Mixed or multiple ethnic groups",
    "A": "Asian or Asian British",
    "B": "Black, African, Caribbean or Black British",
}


def _ethnic_group(code: str) -> str:
    if code in ("REFU", "NOBT"):
        return "Refused or not obtained"
    if code == "CHNE":
        return GROUP_OF_LETTER["A"]
    return GROUP_OF_LETTER.get(code[0], "Other ethnic group")


def write_population(ctx: Context) -> None:
    folder = ctx.out / "population"
    folder.mkdir(parents=True, exist_ok=True)
    ident = ctx.identity
    total = ident.population_0_17
    # Estimates exist for mid-year of every year a collection year starts in.
    years = [year - 1 for year in ctx.years]

    path = folder / "ons_mid-year_population_estimates.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(formats.ONS_MID_YEAR_COLUMNS)
        for year in years:
            w.writerow(
                [
                    year,
                    "Reporting year",
                    "Local authority",
                    "E92000001",
                    "England",
                    "",
                    ident.region,
                    ident.old_la_code,
                    ident.new_la_code,
                    ident.name,
                    formats.ONS_CHILDREN_AGE_GROUP,
                    total,
                ]
            )
            ctx.mark("population", (year, "0-17", None, None, None, None))
    ctx.files.append(path)

    contract = formats.LOCAL_POPULATION
    columns = [*contract.required, *contract.optional]
    path = folder / "local_population.csv"
    groups: dict[str, float] = {}
    for code, share in ETHNICITY_MIX:
        groups[_ethnic_group(code)] = groups.get(_ethnic_group(code), 0.0) + share
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for year in years:
            rows: list[dict[str, object]] = []
            rows += [
                {"age_band": band, "population": round(total * n / 18)}
                for band, n in AGE_BAND_YEARS
            ]
            rows += [
                {"sex": "Male", "population": round(total * MALE_SHARE)},
                {"sex": "Female", "population": round(total * (1 - MALE_SHARE))},
            ]
            rows += [{"ethnic_group": g, "population": round(total * s)} for g, s in groups.items()]
            rows += [{"ethnicity": c, "population": round(total * s)} for c, s in ETHNICITY_MIX]
            rows += [
                {"locality": loc, "population": round(total * s)}
                for loc, s in zip(LOCALITIES, LOCALITY_WEIGHTS, strict=True)
            ]
            for row in rows:
                full = {
                    "year": year,
                    "age_band": "0-17",
                    "la_code": ident.new_la_code,
                    "source": "synthetic local estimate",
                } | row
                if "age_band" in row:
                    full["age_band"] = row["age_band"]
                w.writerow([full.get(c, "") for c in columns])
                ctx.mark(
                    "population",
                    (
                        year,
                        full["age_band"],
                        full.get("sex"),
                        full.get("ethnic_group"),
                        full.get("ethnicity"),
                        full.get("locality"),
                    ),
                )
    ctx.files.append(path)
