"""Ofsted Annex A workbook for the 12 months before the latest collection year's end."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from csc_insight.datasets.formats import ANNEX_A_LISTS
from csc_insight.synth.calendar import to_day
from csc_insight.synth.journey import CLAPeriod, birthday
from csc_insight.synth.local import SERVICES
from csc_insight.synth.population import Child
from csc_insight.synth.writers.common import Context, censor
from csc_insight.synth.writers.ssda903 import care_leaver_eligible, care_leaver_status

_EXCEL_EPOCH = to_day(date(1899, 12, 30))
Cell = str | int | float | None
_DATE = object()


class _Sheet:
    def __init__(self, ws: Worksheet, date_fmt: object, columns: Sequence[str]) -> None:
        self.ws = ws
        self.fmt = date_fmt
        self.row = 1
        for i, c in enumerate(columns):
            ws.write_string(0, i, c)

    def add(self, cells: Iterable[tuple[object, Cell]]) -> None:
        for col, (kind, value) in enumerate(cells):
            if value is None or value == "":
                continue
            if kind is _DATE:
                assert isinstance(value, int)
                self.ws.write_number(self.row, col, value - _EXCEL_EPOCH, self.fmt)
            elif isinstance(value, (int, float)):
                self.ws.write_number(self.row, col, value)
            else:
                self.ws.write_string(self.row, col, value)
        self.row += 1


def _d(day: int | None) -> tuple[object, Cell]:
    return (_DATE, day)


def _v(value: Cell) -> tuple[object, Cell]:
    return (None, value)


def _yn(b: bool | None) -> tuple[object, Cell]:
    return (None, None if b is None else ("Yes" if b else "No"))


def _person(child: Child, at: int) -> list[tuple[object, Cell]]:
    born = child.dob <= at
    age = int((at - child.dob) // 365.25) if born else None
    return [
        _v(child.child_id),
        _v(child.sex if born else "0"),
        _v(child.ethnicity if born else "NOBT"),
        _d(child.dob if born else None),
        _v(age),
    ]


def write_annex_a(ctx: Context) -> None:
    year = ctx.years[-1]
    lo, ref = ctx.bounds(year)
    folder = ctx.out / "annex_a"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"annex_a_{ctx.identity.new_la_code}.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # A fixed creation date keeps the bytes identical between runs.
    wb.set_properties({"created": datetime(year, 4, 20, 9, 0, 0)})
    fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    sheets = {
        lst.number: _Sheet(wb.add_worksheet(lst.sheet), fmt, lst.columns) for lst in ANNEX_A_LISTS
    }
    order = sorted(ctx.children, key=lambda c: int(c.child_id))
    cid_mark = ctx.mark

    # List 1: contacts.
    for child, day, src in ctx.contacts:
        sheets[1].add([*_person(child, day), _d(day), _v(src)])
        cid_mark("contacts", (child.child_id, day, src))
        cid_mark("children", (child.child_id,))
    # List 2: early help assessments (Family Support is the authority's early help service).
    eh = SERVICES[0].name
    for inv in sorted(ctx.local.involvements, key=lambda i: (i.started or 0, i.involvement_id)):
        if inv.service != eh or inv.started is None or not lo <= inv.started <= ref:
            continue
        done = censor(inv.started + 15 + int(inv.child.idx % 30), ref)
        sheets[2].add(
            [
                *_person(inv.child, inv.started),
                _d(inv.started),
                _d(done),
                _v("Family Support Service"),
            ]
        )
        cid_mark("early_help_assessments", (inv.child.child_id, inv.started))
        cid_mark("children", (inv.child.child_id,))
    for child in order:
        refs = [r for r in child.referrals if r.date <= ref and (r.close is None or r.close >= lo)]
        for r in refs:
            if lo <= r.date <= ref:
                # Lists 3 to 10 are loaded too (giving way to the returns), so their records
                # count among the authority's unique records.
                cid_mark("referrals", (child.child_id, r.date))
                cid_mark("children", (child.child_id,))
                n12 = sum(1 for x in child.referrals if r.date - 365 < x.date <= r.date)
                sheets[3].add(
                    [
                        *_person(child, r.date),
                        _d(r.date),
                        _v(r.source),
                        _yn(r.nfa),
                        _v(n12),
                        _v(r.team),
                        _v(r.worker),
                    ]
                )
            for a in r.assessments:
                auth = censor(a.auth, ref)
                if a.start > ref or (auth is not None and auth < lo):
                    continue
                cid_mark("assessments", (child.child_id, a.start))
                cid_mark("children", (child.child_id,))
                sheets[4].add(
                    [
                        *_person(child, a.start),
                        _yn(child.disabled),
                        _d(a.start),
                        _d(auth),
                        _yn(a.in_need if auth is not None else None),
                        _v(r.team),
                        _v(r.worker),
                    ]
                )
            for s in r.s47s:
                concl = censor(s.concluded, ref)
                if s.start > ref or (concl is not None and concl < lo):
                    continue
                icpc = censor(s.icpc, ref)
                cid_mark("section47", (child.child_id, s.start))
                cid_mark("children", (child.child_id,))
                cp = any(p.start == s.icpc for p in r.cpps) if icpc is not None else None
                sheets[5].add(
                    [
                        *_person(child, s.start),
                        _yn(child.disabled),
                        _d(s.start),
                        _yn(s.not_required if concl is not None else None),
                        _d(icpc),
                        _yn(cp),
                        _v(r.team),
                        _v(r.worker),
                    ]
                )
            if not r.nfa:
                _cin_row(sheets[6], child, r, ref, cid_mark)
            for p in r.cpps:
                end = censor(p.end, ref)
                if p.start > ref or (end is not None and end < lo):
                    continue
                last_rev = max((d for d in p.reviews if d <= ref), default=None)
                seen = max(min(ref, end or ref) - (child.idx % 19), p.start)
                cid_mark("cp_visits", (child.child_id, seen))
                cid_mark("cp_plans", (child.child_id, p.start))
                cid_mark("children", (child.child_id,))
                sheets[7].add(
                    [
                        *_person(child, ref),
                        _yn(child.disabled),
                        _d(p.start),
                        _v(p.initial),
                        _v(p.latest if p.latest_from <= ref else p.initial),
                        _d(last_rev),
                        _d(max(seen, p.start)),
                        _v(p.previous),
                        _v(r.team),
                        _v(r.worker),
                    ]
                )
        for period in child.cla:
            if (
                not period.short_break
                and period.start <= ref
                and (period.end is None or period.end >= lo)
            ):
                _cla_row(sheets[8], child, period, lo, ref)
    # List 9: care leavers with a birthday in the window (the latest year's OC3 cohort).
    for child in order:
        if not child.cla:
            continue
        p = care_leaver_eligible(child)
        if p is None or p.end is None:
            continue
        for age in range(17, 22):
            bday = birthday(child.dob, age)
            if lo <= bday <= ref and bday >= p.end:  # leaving at 18 counts (OC3)
                touch, activ, accom = care_leaver_status(ctx, child, year, age)
                contact = ref - (child.idx % 50) if touch in ("YES", "RHOM") else None
                cid_mark("care_leavers", (child.child_id, year))
                cid_mark("children", (child.child_id,))
                suit = {"1": "Suitable", "2": "Not suitable"}.get(accom[-1:])
                sheets[9].add(
                    [
                        *_person(child, ref),
                        _v(touch),
                        _d(contact),
                        _v(accom if accom != "0" else None),
                        _v(suit),
                        _v(activ if activ != "0" else None),
                        _v("Leaving Care Team"),
                        _v(p.worker),
                    ]
                )
    # List 10: children with an adoption decision looked after in the window.
    for child in order:
        for period in child.cla:
            a = period.adoption
            if a is None or a.decision > ref or not (period.end is None or period.end >= lo):
                continue
            ceased = censor(a.ceased, ref)
            cid_mark("adoptions", (child.child_id,))
            cid_mark("children", (child.child_id,))
            sheets[10].add(
                [
                    *_person(child, ref),
                    _d(period.start),
                    _d(a.decision),
                    _d(censor(a.placement_order, ref)),
                    _d(censor(a.match, ref)),
                    _d(censor(a.placed, ref)),
                    _d(censor(a.adopted, ref)),
                    _d(ceased),
                    _v(a.reason_ceased if ceased else None),
                ]
            )
    _adopters(ctx, sheets[11], lo, ref)
    wb.close()
    ctx.files.append(path)


Mark = Callable[[str, tuple[object, ...]], None]


def _cin_row(sheet: _Sheet, child: Child, r: object, ref: int, mark: Mark) -> None:
    from csc_insight.synth.journey import Referral

    assert isinstance(r, Referral)
    close = censor(r.close, ref)
    if close is not None:
        return  # List 6 is the children in need open at the end of the window
    if any(p.start <= ref and p.end is None for p in child.cla):
        status = "Looked after"
    elif any(p.start <= ref and censor(p.end, ref) is None for p in r.cpps):
        status = "Child protection plan"
    elif any(s <= ref and censor(e, ref) is None for s, e in r.cin_plans):
        status = "Child in need plan"
    elif any(censor(a.auth, ref) is None for a in r.assessments):
        status = "Open assessment"
    else:
        status = "Other child in need"
    plans = [(s, censor(e, ref)) for s, e in r.cin_plans if s <= ref]
    ps, pe = plans[-1] if plans else (None, None)
    mark("children", (child.child_id,))
    if ps is not None:
        # The case's latest plan may have ended before the returns written began.
        mark("cin_plans", (child.child_id, ps))
    sheet.add(
        [
            *_person(child, ref),
            _yn(child.disabled),
            _v(status),
            _d(ps),
            _d(pe),
            _v(r.team),
            _v(r.worker),
        ]
    )


def _cla_row(sheet: _Sheet, child: Child, p: CLAPeriod, lo: int, ref: int) -> None:
    eps = [e for e in p.episodes if e.decom <= ref]
    if not eps:
        return
    cur = eps[-1]
    # The current placement began at the latest episode that changed the carer.
    place_start = next((e.decom for e in reversed(eps) if e.rne in ("S", "P", "U")), cur.decom)
    moves = sum(1 for e in eps if e.decom >= ref - 365 and e.rne in ("S", "P", "U"))
    i = len(eps) - 1
    dist = p.distance[i] if i < len(p.distance) else None
    visit = min(ref, censor(cur.dec, ref) or ref) - (child.idx % 40)
    district = cur.pl_post.split(" ")[0] if cur.pl_post else None
    sheet.add(
        [
            *_person(child, ref),
            _yn(child.disabled),
            _yn(child.uasc),
            _d(p.start),
            _v(cur.ls),
            _v(cur.cin),
            _v(max(moves, 1)),
            _d(place_start),
            _v(cur.place),
            _v(cur.provider),
            _v(district),
            _v(dist),
            _d(max(visit, cur.decom)),
            _v(p.team),
            _v(p.worker),
        ]
    )
    _ = lo


def _adopters(ctx: Context, sheet: _Sheet, lo: int, ref: int) -> None:
    rng = ctx.child_rng(ctx.children[0], 99_999) if ctx.children else None
    if rng is None:
        return
    n = max(3, round(ctx.identity.population_0_17 / 10_000 * 4.5))
    for i in range(n):
        enquiry = lo - rng.randint(60, 420)
        s1 = enquiry + rng.randint(20, 90)
        s1e = s1 + rng.randint(40, 70)
        s2 = s1e + rng.randint(0, 30)
        s2e = s2 + rng.randint(100, 140)
        approval = s2e + rng.randint(10, 40)
        matched = approval + rng.randint(60, 400) if rng.random() < 0.75 else None
        placed = matched + rng.randint(10, 60) if matched is not None else None
        sheet.add(
            [
                _v(f"ADP{ctx.identity.old_la_code}{i + 1:04d}"),
                _v(rng.choice(("1", "2", "2", "1"))),
                _v(
                    rng.choices(
                        ("WBRI", "WOTH", "MWBC", "APKN", "BCRB"), (0.85, 0.05, 0.04, 0.03, 0.03)
                    )[0]
                ),
                _d(enquiry),
                _d(censor(s1, ref)),
                _d(censor(s1e, ref)),
                _d(censor(s2, ref)),
                _d(censor(s2e, ref)),
                _d(censor(approval, ref)),
                _d(censor(matched, ref)),
                _d(censor(placed, ref)),
                _v((1 if rng.random() < 0.8 else 2) if censor(placed, ref) is not None else None),
            ]
        )
