"""The synthetic generator: formats exactly as specified, deterministic, and realistic enough.

Realism checks are computed from the written FILES, as an analyst would, never from the
generator's internal state.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import holidays
import numpy as np
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from csc_insight.datasets.formats import (
    ANNEX_A_LISTS,
    CIN_CHILD_ELEMENTS,
    CIN_HEADER_ELEMENTS,
    LIKERT_PREFIX,
    LOCAL_CONTRACTS,
    SSDA903_CSV_COLUMNS,
)
from csc_insight.synth import SCALES, SynthResult, generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """Scale small over all seven default years (covers the Covid closures)."""
    return generate(tmp_path_factory.mktemp("full"), scale="small", seed=7)


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), list(r)


def _d903(s: str) -> date:
    return datetime.strptime(s, "%d/%m/%Y").date()


def _cin_files(out: Path) -> list[Path]:
    return sorted((out / "cin_census").glob("cin_census_*.xml"))


def _referrals(out: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every CINdetails across all years, superseded by (child, referral date)."""
    refs: dict[tuple[str, str], dict[str, Any]] = {}
    for f in _cin_files(out):
        for child in etree.parse(str(f)).getroot().iter("Child"):
            cid = child.findtext("ChildIdentifiers/LAchildID")
            eth = child.findtext("ChildCharacteristics/Ethnicity")
            for d in child.iter("CINdetails"):
                key = (str(cid), str(d.findtext("CINreferralDate")))
                refs[key] = {
                    "eth": eth,
                    "source": d.findtext("ReferralSource"),
                    "nfa": d.findtext("ReferralNFA") in ("true", "1"),
                    "cpp": len(d.findall("ChildProtectionPlans")) > 0
                    or refs.get(key, {}).get("cpp", False),
                    "assess": [
                        (
                            a.findtext("AssessmentActualStartDate"),
                            a.findtext("AssessmentAuthorisationDate"),
                        )
                        for a in d.findall("Assessments")
                    ],
                }
    return refs


# --- API and determinism -------------------------------------------------------------
def test_scales_declared() -> None:
    assert set(SCALES) == {"small", "la", "national"}
    assert 60_000 <= SCALES["la"] <= 90_000


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", scale="small", seed=3, years=2)
    b = generate(tmp_path / "b", scale="small", seed=3, years=2)
    c = generate(tmp_path / "c", scale="small", seed=4, years=2)
    rel_a = sorted(p.relative_to(a.out) for p in a.files)
    assert rel_a == sorted(p.relative_to(b.out) for p in b.files)
    for rel in rel_a:
        assert (a.out / rel).read_bytes() == (b.out / rel).read_bytes(), rel
    episodes = Path("ssda903/2024-25/episodes.csv")
    assert (a.out / episodes).read_bytes() != (c.out / episodes).read_bytes()
    assert a.counts == b.counts


def test_years_keeps_the_latest(tmp_path: Path) -> None:
    r = generate(tmp_path, scale="small", seed=1, years=1)
    assert sorted(p.name for p in (tmp_path / "ssda903").iterdir()) == ["2024-25"]
    assert r.ground_truth["collection_years"] == ["2024-25"]


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[float] = []
    generate(tmp_path, scale="small", seed=1, years=1, progress=lambda _l, f: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


# --- formats ---------------------------------------------------------------------------
def test_ssda903_columns_and_dates(full: SynthResult) -> None:
    years = sorted(p.name for p in (full.out / "ssda903").iterdir())
    assert years == ["2018-19", "2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25"]
    for year in years:
        for name, cols in SSDA903_CSV_COLUMNS.items():
            path = full.out / "ssda903" / year / f"{name}.csv"
            if name == "sw_episodes":
                continue
            header, rows = _read_csv(path)
            assert tuple(header) == cols, path
            for row in rows:
                for col in (
                    "DOB",
                    "DECOM",
                    "DEC",
                    "REVIEW",
                    "MIS_START",
                    "MIS_END",
                    "DATE_INT",
                    "DATE_MATCH",
                    "DATE_PLACED",
                    "DUC",
                ):
                    if row.get(col):
                        _d903(row[col])
    _, eps = _read_csv(full.out / "ssda903" / "2024-25" / "episodes.csv")
    assert {e["RNE"] for e in eps} >= {"S", "P", "L"}
    assert {e["LS"] for e in eps} >= {"C1", "C2", "V2", "V4"}
    assert all(re.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}", e["HOME_POST"]) for e in eps)
    assert all(re.fullmatch(r"SC\d{6}|XXXXXXX", e["URN"]) for e in eps)


def test_cin_census_is_well_formed(full: SynthResult) -> None:
    files = _cin_files(full.out)
    assert len(files) == 7
    allowed = set(CIN_CHILD_ELEMENTS) | set(CIN_HEADER_ELEMENTS) | {"Message", "Children"}
    root = etree.parse(str(files[-1])).getroot()
    assert root.tag == "Message"
    assert root.findtext("Header/CollectionDetails/Collection") == "CIN"
    assert root.findtext("Header/CollectionDetails/Year") == "2025"
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2025-03-31"
    assert root.findtext("Header/Source/LEA") == full.ground_truth["authority"]["old_la_code"]
    assert {el.tag for el in root.iter()} <= allowed
    for el in root.iter():
        if el.tag.endswith("Date") and el.text:
            date.fromisoformat(el.text)
    # Children known to both returns carry the same identifier.
    _, header = _read_csv(full.out / "ssda903" / "2024-25" / "header.csv")
    cin_ids = {c.findtext("ChildIdentifiers/LAchildID") for c in root.iter("Child")}
    assert len({h["CHILD"] for h in header} & cin_ids) > 0.8 * len(header)


def test_annex_a_sheets_and_headers(full: SynthResult) -> None:
    files = list((full.out / "annex_a").glob("annex_a_*.xlsx"))
    assert len(files) == 1
    wb = CalamineWorkbook.from_path(str(files[0]))
    assert wb.sheet_names == [lst.sheet for lst in ANNEX_A_LISTS]
    for lst in ANNEX_A_LISTS:
        rows = wb.get_sheet_by_name(lst.sheet).to_python()
        assert tuple(rows[0]) == lst.columns
        assert len(rows) > 1, lst.sheet
    contacts = wb.get_sheet_by_name(ANNEX_A_LISTS[0].sheet).to_python()
    assert isinstance(contacts[1][5], date)


def test_local_csv_contracts(full: SynthResult) -> None:
    for name, contract in LOCAL_CONTRACTS.items():
        header, rows = _read_csv(full.out / "local" / f"{name}.csv")
        assert set(contract.required) <= set(header)
        extra = set(header) - set(contract.required) - set(contract.optional)
        assert all(c.startswith(LIKERT_PREFIX) for c in extra), extra
        assert rows
    _, fb = _read_csv(full.out / "local" / "feedback.csv")
    for row in fb:
        for k, v in row.items():
            if k.startswith(LIKERT_PREFIX) and v:
                assert 1 <= int(v) <= 5
        date.fromisoformat(row["response_date"])


# --- counts and ground truth --------------------------------------------------------------
def test_counts_match_unique_records_in_files(full: SynthResult) -> None:
    out = full.out
    refs = _referrals(out)
    assert full.counts["referrals"] == len(refs)
    eps: set[tuple[str, str]] = set()
    ids: set[str] = set()
    for year_dir in (out / "ssda903").iterdir():
        _, rows = _read_csv(year_dir / "episodes.csv")
        eps |= {(r["CHILD"], r["DECOM"]) for r in rows}
        for name in ("header", "oc3"):
            ids |= {r["CHILD"] for r in _read_csv(year_dir / f"{name}.csv")[1]}
    assert full.counts["cla_episodes"] == len(eps)
    for f in _cin_files(out):
        ids |= {
            str(c.findtext("ChildIdentifiers/LAchildID"))
            for c in etree.parse(str(f)).getroot().iter("Child")
        }
    wb = CalamineWorkbook.from_path(str(next((out / "annex_a").glob("*.xlsx"))))
    for lst in ANNEX_A_LISTS[:10]:
        ids |= {str(r[0]) for r in wb.get_sheet_by_name(lst.sheet).to_python()[1:]}
    contacts = wb.get_sheet_by_name(ANNEX_A_LISTS[0].sheet).to_python()[1:]
    assert full.counts["contacts"] == len({(r[0], r[5], r[6]) for r in contacts})
    _, si = _read_csv(out / "local" / "service_involvements.csv")
    _, att = _read_csv(out / "local" / "attendance.csv")
    _, fb = _read_csv(out / "local" / "feedback.csv")
    ids |= {r["child_id"] for r in si} | {r["child_id"] for r in att}
    ids |= {r["child_id"] for r in fb if r["child_id"]}
    early_help = wb.get_sheet_by_name(ANNEX_A_LISTS[1].sheet).to_python()[1:]
    assert full.counts["early_help_assessments"] == len({(r[0], r[5]) for r in early_help})
    assert full.counts["service_involvements"] == len(si)
    assert full.counts["attendance"] == len({(r["child_id"], r["period_start"]) for r in att})
    assert full.counts["feedback"] == len(fb)
    assert full.counts["feedback_scores"] == sum(
        1 for r in fb for k, v in r.items() if k.startswith(LIKERT_PREFIX) and v
    )
    assert full.counts["children"] == len(ids)
    assert all(v > 0 for v in full.counts.values()), full.counts


def test_ground_truth_documented(full: SynthResult) -> None:
    truth = json.loads((full.out / "ground_truth.json").read_text())
    assert truth == json.loads(json.dumps(full.ground_truth))
    doc = (ROOT / "docs" / "synthetic-data.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", doc))
    missing = [k for k in truth if k not in documented]
    assert not missing, f"ground_truth keys not in docs/synthetic-data.md: {missing}"
    for k in truth["planted"]:
        assert k in documented, k


# --- realism, measured from the files ------------------------------------------------------
def _latest_year_referrals(refs: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[str, str]]:
    return [k for k in refs if "2024-04-01" <= k[1] <= "2025-03-31"]


def test_rereferral_and_nfa_rates(full: SynthResult) -> None:
    refs = _referrals(full.out)
    by_child: dict[str, list[date]] = defaultdict(list)
    for cid, d in refs:
        by_child[cid].append(date.fromisoformat(d))
    latest = _latest_year_referrals(refs)
    re_ref = sum(
        1
        for cid, d in latest
        if any(0 < (date.fromisoformat(d) - x).days <= 365 for x in by_child[cid])
    )
    pct = 100 * re_ref / len(latest)
    assert 15 <= pct <= 30, pct
    nfa = 100 * sum(refs[k]["nfa"] for k in latest) / len(latest)
    assert 2 <= nfa <= 12, nfa


def test_assessment_timeliness(full: SynthResult) -> None:
    refs = _referrals(full.out)
    bank = [
        np.datetime64(d)
        for d in holidays.country_holidays("GB", subdiv="ENG", years=range(2017, 2026))
    ]
    done = [
        (s, a)
        for r in refs.values()
        for s, a in r["assess"]
        if a and "2024-04-01" <= a <= "2025-03-31"
    ]
    wd = np.busday_count(
        np.array([s for s, _ in done], dtype="datetime64[D]"),
        np.array([a for _, a in done], dtype="datetime64[D]"),
        holidays=bank,
    )
    within = 100 * float((wd <= 45).mean())
    assert 75 <= within <= 95, within
    assert 20 <= float(np.median(wd)) <= 40


def test_cla_rate_per_10k(full: SynthResult) -> None:
    _, eps = _read_csv(full.out / "ssda903" / "2024-25" / "episodes.csv")
    ref = date(2025, 3, 31)
    open_children = {
        e["CHILD"]
        for e in eps
        if e["LS"] not in ("V3", "V4")
        and _d903(e["DECOM"]) <= ref
        and (not e["DEC"] or _d903(e["DEC"]) > ref)
    }
    rate = 10_000 * len(open_children) / full.ground_truth["authority"]["population_0_17"]
    assert 40 <= rate <= 110, rate


def _school_referrals_by_month(refs: dict[tuple[str, str], dict[str, Any]]) -> dict[str, int]:
    months: dict[str, int] = defaultdict(int)
    for (_, d), r in refs.items():
        if r["source"] in ("2A", "2B"):
            months[d[:7]] += 1
    return months


def test_school_term_seasonality(full: SynthResult) -> None:
    months = _school_referrals_by_month(_referrals(full.out))
    aug = sum(v for k, v in months.items() if k.endswith("-08"))
    octo = sum(v for k, v in months.items() if k.endswith("-10"))
    assert aug < 0.5 * octo, (aug, octo)


def test_covid_school_closure_dip(full: SynthResult) -> None:
    months = _school_referrals_by_month(_referrals(full.out))
    y2019 = months["2019-04"] + months["2019-05"]
    y2020 = months["2020-04"] + months["2020-05"]
    assert y2020 < 0.6 * y2019, (y2019, y2020)


def test_planted_disproportionality_visible(full: SynthResult) -> None:
    refs = _referrals(full.out)
    group = [r for r in refs.values() if r["eth"] in ("BCRB", "MWBC")]
    wbri = [r for r in refs.values() if r["eth"] == "WBRI"]
    rate_g = sum(r["cpp"] for r in group) / len(group)
    rate_w = sum(r["cpp"] for r in wbri) / len(wbri)
    assert rate_g / rate_w > 1.25, (rate_g, rate_w)
    dp = full.ground_truth["planted"]["disproportionality"]
    assert dp["group"] == ["BCRB", "MWBC"]


def test_attendance_effect_by_service(full: SynthResult) -> None:
    _, si = _read_csv(full.out / "local" / "service_involvements.csv")
    _, att = _read_csv(full.out / "local" / "attendance.csv")
    by_child: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a in att:
        by_child[a["child_id"]].append(
            (a["period_start"], int(a["sessions_attended"]) / int(a["sessions_possible"]))
        )
    services: dict[str, list[str]] = defaultdict(list)
    for s in si:
        services[s["child_id"]].append(s["service"])
    effect: dict[str, float] = {}
    for svc in ("School Attendance Project", "Parenting Programme"):
        diffs = []
        for s in si:
            if s["service"] != svc or not s["date_started"] or len(services[s["child_id"]]) > 1:
                continue
            rows = by_child.get(s["child_id"], [])
            before = [r for p, r in rows if p <= s["date_started"]]
            after = [r for p, r in rows if p > s["date_started"]]
            if before and after:
                diffs.append(np.mean(after) - np.mean(before))
        effect[svc] = 100 * float(np.mean(diffs))
    assert 3 <= effect["School Attendance Project"] <= 9, effect
    assert abs(effect["Parenting Programme"]) < 2.5, effect


# --- validation rules and indicators, on the ingested files ----------------------------------
@pytest.fixture(scope="module")
def loaded(full: SynthResult, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The small authority ingested into a warehouse, as an analyst would load it."""
    from csc_insight.ingest import ingest
    from csc_insight.privacy.pseudonymise import Pseudonymiser
    from csc_insight.warehouse.store import Warehouse

    db = tmp_path_factory.mktemp("wh") / "synth.duckdb"
    wh = Warehouse.connect(f"duckdb:///{db}")
    ingest([full.out], wh, Pseudonymiser(b"synth-test-key!!" * 2))
    return wh


def _indicators(wh: Any, ids: list[str], years: list[str]) -> dict[str, tuple[float, float]]:
    """Indicators' numerators and denominators, each summed over several years."""
    from csc_insight.indicators import compute

    out = dict.fromkeys(ids, (0.0, 0.0))
    for year in years:
        for r in compute(wh, year, ids=ids):
            num, den = out[r.id]
            out[r.id] = (num + (r.numerator or 0.0), den + (r.denominator or 0.0))
    return out


YEARS = ["2018-19", "2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25"]


def test_no_findings_for_rules_the_generator_must_respect(loaded: Any) -> None:
    from csc_insight import rules

    codes = ["178", "133", "574", "8565", "8867", "8868", "445", "446", "LOC05"]
    run = rules.run(loaded, rules=codes, store=False)
    found = {r["code"]: r["count"] for r in run.counts_by_rule() if r["count"]}
    assert not found, found


def test_adoptions_and_their_timeliness(loaded: Any) -> None:
    from csc_insight.indicators import compute

    sums = _indicators(loaded, ["adoption.adopted", "cla.children_31mar"], YEARS)
    adopted, looked_after = sums["adoption.adopted"][0], sums["cla.children_31mar"][0]
    # England: about 2,900 adoptions a year for about 83,000 looked after (3.5%).
    assert 2.0 <= 100 * adopted / looked_after <= 6.0, (adopted, looked_after)
    a1 = compute(loaded, "2024-25", ids=["adoption.a1_days"])[0].value
    a2 = compute(loaded, "2023-24", ids=["adoption.a2_days"])[0].value
    assert a1 is not None and 330 <= a1 <= 650, a1
    assert a2 is not None and 100 <= a2 <= 300, a2


def test_repeat_use_of_local_services(loaded: Any) -> None:
    from csc_insight.indicators.escalation import candidates
    from csc_insight.indicators.registry import Tables

    repeat, requests = _indicators(loaded, ["svc.repeat_use_pct"], YEARS[-3:])["svc.repeat_use_pct"]
    # Early help: some 10-20% of children come back to the same service within a year.
    assert 9 <= 100 * repeat / requests <= 24, (repeat, requests)
    rows = candidates(Tables(loaded), date(2025, 3, 31))
    assert sum(1 for r in rows if r["service_requests"] >= 2) >= 5


def test_care_leavers_and_placement_stability_near_england(loaded: Any) -> None:
    ids = ["leavers.eet_pct", "leavers.suitable_accom_pct", "cla.long_term_stability_pct"]
    sums = _indicators(loaded, ids, YEARS)
    eet, leavers = sums["leavers.eet_pct"]
    suitable, _ = sums["leavers.suitable_accom_pct"]
    # England 2024-25: 57% of care leavers aged 17-21 in education, employment or training,
    # 89-91% in suitable accommodation; 69% of long-term looked-after children under 16 in
    # the same placement for two years.
    assert 50 <= 100 * eet / leavers <= 68, (eet, leavers)
    assert 83 <= 100 * suitable / leavers <= 96, (suitable, leavers)
    stable, long_term = sums["cla.long_term_stability_pct"]
    assert 58 <= 100 * stable / long_term <= 84, (stable, long_term)
