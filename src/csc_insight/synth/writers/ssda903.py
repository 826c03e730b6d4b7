"""SSDA903 CSV tables, one folder per collection year, as the sector's 903 tools export them."""

from __future__ import annotations

import csv
from pathlib import Path

from csc_insight.datasets.formats import SSDA903_CSV_COLUMNS, SSDA903_DATE_FORMAT
from csc_insight.synth.journey import CLAPeriod, birthday
from csc_insight.synth.population import Child
from csc_insight.synth.writers.common import Context, DateFmt, censor, year_label

D = DateFmt(SSDA903_DATE_FORMAT)
UPN_UNKNOWN_UNDER_SCHOOL_AGE = "UN1"


def upn_at(child: Child, ref: int) -> tuple[str | None, str | None]:
    """(UPN, UPN-unknown code) as the authority would hold them on ``ref``."""
    age = (ref - child.dob) / 365.25
    if child.uasc:
        return None, "UN4" if age < 17 else "UN2"
    if age < 4.6:
        return None, UPN_UNKNOWN_UNDER_SCHOOL_AGE
    if child.upn is None:
        return None, "UN5" if child.idx % 3 else "UN3"
    return child.upn, None


def _overlaps(p: CLAPeriod, lo: int, hi: int) -> bool:
    return p.start <= hi and (p.end is None or p.end >= lo)


def write_ssda903(ctx: Context) -> None:
    for year in ctx.years:
        _write_year(ctx, year)


def _write_year(ctx: Context, year: int) -> None:
    lo, ref = ctx.bounds(year)
    folder = ctx.out / "ssda903" / year_label(year)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[str]]] = {k: [] for k in SSDA903_CSV_COLUMNS if k != "sw_episodes"}
    looked_after = [c for c in ctx.children if any(_overlaps(p, lo, ref) for p in c.cla)]
    looked_after.sort(key=lambda c: int(c.child_id))
    for child in looked_after:
        cid = child.child_id
        dob = D(child.dob)
        periods = [p for p in child.cla if _overlaps(p, lo, ref)]
        eps = [
            e
            for p in periods
            for e in p.episodes
            if e.decom <= ref and (e.dec is None or e.dec >= lo)
        ]
        if not eps:
            continue
        ctx.mark("children", (cid,))
        mother = ""
        mc_dob = ""
        if child.sex == "2" and (ref - child.dob) / 365.25 >= 12:
            mother = "1" if child.mother and child.mc_dob and child.mc_dob <= ref else "0"
            mc_dob = D(child.mc_dob) if mother == "1" else ""
        upn, unknown = upn_at(child, ref)
        rows["header"].append(
            [cid, child.sex, dob, child.ethnicity, upn or unknown or "", mother, mc_dob]
        )
        for e in eps:
            dec = censor(e.dec, ref)
            rows["episodes"].append(
                [
                    cid,
                    D(e.decom),
                    e.rne,
                    e.ls,
                    e.cin,
                    e.place,
                    e.provider,
                    D(dec),
                    e.rec if dec is not None else "",
                    e.reason_change,
                    child.postcode,
                    e.pl_post,
                    e.urn,
                ]
            )
            ctx.mark("cla_episodes", (cid, e.decom))
        for p in periods:
            for day, code in p.reviews:
                if lo <= day <= ref:
                    rows["reviews"].append([cid, dob, D(day), code])
                    ctx.mark("cla_reviews", (cid, day))
            for kind, start, back in p.missing:
                # Every missing period open during the year, so one still open at 31 March
                # is reported again, with its end, in the next return (903 rule 574).
                if start <= ref and (back is None or back >= lo):
                    rows["missing"].append([cid, dob, kind, D(start), D(censor(back, ref))])
                    ctx.mark("missing", (cid, start))
        if child.uasc:
            rows["uasc"].append([cid, child.sex, dob, D(birthday(child.dob, 18))])
        _oc2(ctx, child, periods, year, lo, ref, rows["oc2"])
        _adoption(ctx, child, periods, lo, ref, rows)
        first_start = [p for p in periods if lo <= p.start <= ref and not p.short_break]
        if first_start:
            pp = first_start[0].prev_perm
            rows["previous_permanence"].append([cid, dob, pp[0], pp[1], pp[2]])
            ctx.mark("previous_permanence", (cid,))
    _oc3(ctx, year, lo, ref, rows["oc3"])
    for name, data in rows.items():
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(SSDA903_CSV_COLUMNS[name])
            w.writerows(data)
        ctx.files.append(path)


def _oc2(
    ctx: Context,
    child: Child,
    periods: list[CLAPeriod],
    year: int,
    lo: int,
    ref: int,
    out: list[list[str]],
) -> None:
    """Outcomes for children looked after continuously for 12 months at 31 March."""
    if not any(
        not p.short_break and p.start <= ref - 365 and (p.end is None or p.end > ref)
        for p in periods
    ):
        return
    rng = ctx.child_rng(child, year)
    age = (ref - child.dob) / 365.25
    sdq, reason = "", ""
    if 4 <= age < 17:
        if rng.random() < 0.78:
            sdq = str(min(40, max(0, round(rng.gauss(14.0, 7.0)))))
        else:
            reason = rng.choice(("SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5"))

    def yn(p: float) -> str:
        return "1" if rng.random() < p else "0"

    convicted = yn(0.025) if age >= 10 else ""
    substance = yn(0.03) if age >= 10 else "0"
    received = yn(0.6) if substance == "1" else ""
    offered = yn(0.3) if substance == "1" and received == "0" else ""
    out.append(
        [
            child.child_id,
            D(child.dob),
            sdq,
            reason,
            convicted,
            yn(0.91) if age < 5 else "",
            yn(0.86),
            yn(0.78),
            yn(0.90),
            substance,
            received,
            offered,
        ]
    )
    ctx.mark("oc2", (child.child_id, year))


def _adoption(
    ctx: Context,
    child: Child,
    periods: list[CLAPeriod],
    lo: int,
    ref: int,
    rows: dict[str, list[list[str]]],
) -> None:
    for p in periods:
        a = p.adoption
        if a is None or a.decision > ref:
            continue
        cid, dob = child.child_id, D(child.dob)
        ceased = censor(a.ceased, ref)
        rows["placed_for_adoption"].append(
            [cid, dob, D(a.decision), D(ceased), a.reason_ceased if ceased else ""]
        )
        ctx.mark("adoptions", (cid,))
        if a.adopted is not None and lo <= a.adopted <= ref:
            rows["ad1"].append(
                [
                    cid,
                    dob,
                    D(a.decision),
                    D(a.match),
                    "1" if a.foster_care else "0",
                    a.nb_adoptr,
                    a.sex_adoptr,
                    a.ls_adoptr,
                ]
            )


def care_leaver_eligible(child: Child) -> CLAPeriod | None:
    """The period of care that makes a child a care leaver (13+ weeks after 14, left at 16+)."""
    for p in child.cla:
        if p.short_break or p.end is None or p.exit_code in ("E11", "E12", "E3"):
            continue
        b14, b16 = birthday(child.dob, 14), birthday(child.dob, 16)
        if p.end >= b16 and p.end - max(p.start, b14) >= 91:
            return p
    return None


def care_leaver_status(ctx: Context, child: Child, year: int, age: int) -> tuple[str, str, str]:
    from csc_insight.synth import params as P

    rng = ctx.child_rng(child, 50_000 + year)
    touch = rng.choices([c for c, _ in P.IN_TOUCH], [w for _, w in P.IN_TOUCH])[0]
    if touch in ("NO", "REFU", "NREQ", "DIED"):
        return touch, "0", "0"
    band = "17-18" if age <= 18 else "19-21"
    act_t = P.CARE_LEAVER_ACTIVITY[band]
    acc_t = P.CARE_LEAVER_ACCOM[band]
    activ = rng.choices([c for c, _ in act_t], [w for _, w in act_t])[0]
    kind = rng.choices([c for c, _ in acc_t], [w for _, w in acc_t])[0]
    if touch == "RHOM":
        kind = "B"
    unsuitable = P.UNSUITABLE_ACCOM_P.get(kind, P.UNSUITABLE_ACCOM_OTHER_P)
    suit = "2" if rng.random() < unsuitable or kind in P.ALWAYS_UNSUITABLE_ACCOM else "1"
    return touch, activ, f"{kind}{suit}"


def _oc3(ctx: Context, year: int, lo: int, ref: int, out: list[list[str]]) -> None:
    found: list[tuple[int, list[str]]] = []
    for child in ctx.children:
        if not child.cla:
            continue
        p = care_leaver_eligible(child)
        if p is None or p.end is None:
            continue
        for age in range(17, 22):
            bday = birthday(child.dob, age)
            if lo <= bday <= ref and bday >= p.end:  # leaving at 18 counts (OC3)
                touch, activ, accom = care_leaver_status(ctx, child, year, age)
                found.append(
                    (int(child.child_id), [child.child_id, D(child.dob), touch, activ, accom])
                )
                ctx.mark("care_leavers", (child.child_id, year))
                ctx.mark("children", (child.child_id,))
    found.sort(key=lambda t: t[0])
    out.extend(r for _, r in found)


__all__ = ["Path", "write_ssda903"]
