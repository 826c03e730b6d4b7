"""CIN census XML, one file per collection year, streamed with lxml's incremental writer."""

from __future__ import annotations

from lxml import etree

from csc_insight.datasets.formats import CIN_DATE_FORMAT, CIN_ROOT
from csc_insight.synth.journey import Referral
from csc_insight.synth.population import Child
from csc_insight.synth.writers.common import Context, DateFmt, censor, year_label
from csc_insight.synth.writers.ssda903 import upn_at

D = DateFmt(CIN_DATE_FORMAT)


def _sub(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is None or text == "":
        return
    el = etree.SubElement(parent, tag)
    el.text = text


def _bool(v: bool) -> str:
    return "true" if v else "false"


def write_cin_census(ctx: Context) -> None:
    folder = ctx.out / "cin_census"
    folder.mkdir(parents=True, exist_ok=True)
    order = sorted(ctx.children, key=lambda c: int(c.child_id))
    for year in ctx.years:
        path = folder / f"cin_census_{year_label(year)}.xml"
        _write_year(ctx, year, order, path)
        ctx.files.append(path)


def _write_year(ctx: Context, year: int, order: list[Child], path: object) -> None:
    lo, ref = ctx.bounds(year)
    with etree.xmlfile(str(path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(CIN_ROOT):
            xf.write(_header(ctx, year, ref))
            with xf.element("Children"):
                for child in order:
                    refs = [
                        r
                        for r in child.referrals
                        if r.date <= ref and (r.close is None or r.close >= lo)
                    ]
                    if refs:
                        xf.write(_child(ctx, child, refs, lo, ref, year))


def _header(ctx: Context, year: int, ref: int) -> etree._Element:
    h = etree.Element("Header")
    cd = etree.SubElement(h, "CollectionDetails")
    _sub(cd, "Collection", "CIN")
    _sub(cd, "Year", str(year))
    _sub(cd, "ReferenceDate", D(ref))
    src = etree.SubElement(h, "Source")
    _sub(src, "SourceLevel", "L")
    _sub(src, "LEA", ctx.identity.old_la_code)
    _sub(src, "SoftwareCode", "Local Authority")
    _sub(src, "Release", "ver 3.1.21")
    _sub(src, "SerialNo", f"{year % 100:03d}")
    _sub(src, "DateTime", f"{year}-05-{12 + year % 7:02d}T09:{10 + year % 40:02d}:00")
    return h


def _child(
    ctx: Context, child: Child, refs: list[Referral], lo: int, ref: int, year: int
) -> etree._Element:
    el = etree.Element("Child")
    ids = etree.SubElement(el, "ChildIdentifiers")
    cid = child.child_id
    _sub(ids, "LAchildID", cid)
    upn, unknown = upn_at(child, ref)
    _sub(ids, "UPN", upn)
    _sub(ids, "UPNunknown", unknown)
    unborn = child.dob > ref
    if unborn:
        _sub(ids, "ExpectedPersonBirthDate", D(child.dob))
        _sub(ids, "GenderCurrent", "0")
    else:
        _sub(ids, "PersonBirthDate", D(child.dob))
        _sub(ids, "GenderCurrent", child.sex)
    _sub(ids, "PersonDeathDate", D(censor(child.death, ref)))
    chars = etree.SubElement(el, "ChildCharacteristics")
    _sub(chars, "Ethnicity", "NOBT" if unborn else child.ethnicity)
    dis = etree.SubElement(chars, "Disabilities")
    for code in child.disabilities or ("NONE",):
        _sub(dis, "Disability", code)
    ctx.mark("children", (cid,))
    for r in refs:
        el.append(_details(ctx, cid, r, lo, ref))
    return el


def _details(ctx: Context, cid: str, r: Referral, lo: int, ref: int) -> etree._Element:
    d = etree.Element("CINdetails")
    close = censor(r.close, ref)
    _sub(d, "CINreferralDate", D(r.date))
    _sub(d, "ReferralSource", r.source)
    _sub(d, "PrimaryNeedCode", r.need)
    _sub(d, "CINclosureDate", D(close))
    _sub(d, "ReasonForClosure", r.reason if close is not None else None)
    icpcs = [s.icpc for s in r.s47s if s.icpc is not None and s.icpc <= ref]
    _sub(d, "DateOfInitialCPC", D(icpcs[0]) if icpcs else None)
    _sub(d, "ReferralNFA", _bool(r.nfa))
    ctx.mark("referrals", (cid, r.date))
    for a in r.assessments:
        auth = censor(a.auth, ref)
        if a.start > ref or (auth is not None and auth < lo):
            continue
        ae = etree.SubElement(d, "Assessments")
        _sub(ae, "AssessmentActualStartDate", D(a.start))
        if auth is not None:
            _sub(
                ae,
                "AssessmentInternalReviewDate",
                D(ctx.cal.add_working_days(auth, -2) if auth - a.start > 4 else auth),
            )
        _sub(ae, "AssessmentAuthorisationDate", D(auth))
        if auth is not None:
            fe = etree.SubElement(ae, "FactorsIdentifiedAtAssessment")
            for f in a.factors:
                _sub(fe, "AssessmentFactors", f)
        ctx.mark("assessments", (cid, a.start))
    for ps, pe in r.cin_plans:
        end = censor(pe, ref)
        if ps > ref or (end is not None and end < lo):
            continue
        pe_el = etree.SubElement(d, "CINPlanDates")
        _sub(pe_el, "CINPlanStartDate", D(ps))
        _sub(pe_el, "CINPlanEndDate", D(end))
        ctx.mark("cin_plans", (cid, ps))
    for s in r.s47s:
        icpc = censor(s.icpc, ref)
        concl = censor(s.concluded, ref)
        if s.start > ref or (concl is not None and concl < lo):
            continue
        se = etree.SubElement(d, "Section47")
        _sub(se, "S47ActualStartDate", D(s.start))
        _sub(se, "InitialCPCtarget", D(ctx.cal.add_working_days(s.start, 15)))
        _sub(se, "DateOfInitialCPC", D(icpc))
        _sub(se, "ICPCnotRequired", _bool(s.not_required and concl is not None))
        ctx.mark("section47", (cid, s.start))
    for p in r.cpps:
        end = censor(p.end, ref)
        if p.start > ref or (end is not None and end < lo):
            continue
        ce = etree.SubElement(d, "ChildProtectionPlans")
        _sub(ce, "CPPstartDate", D(p.start))
        _sub(ce, "CPPendDate", D(end))
        _sub(ce, "InitialCategoryOfAbuse", p.initial)
        _sub(ce, "LatestCategoryOfAbuse", p.latest if p.latest_from <= ref else p.initial)
        _sub(ce, "NumberOfPreviousCPP", str(p.previous))
        rv = etree.SubElement(ce, "Reviews")
        for day in p.reviews:
            if lo <= day <= ref:
                _sub(rv, "CPPreviewDate", D(day))
                ctx.mark("cp_reviews", (cid, p.start, day))
        ctx.mark("cp_plans", (cid, p.start))
    return d
