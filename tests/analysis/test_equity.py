"""Known answers for every equity calculation: by hand, from textbooks, and on tiny warehouses."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests

from csc_insight.analysis import equity
from csc_insight.analysis import equity_stats as st
from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import LoadBatch, Warehouse

Rows = dict[str, list[dict[str, Any]]]


# --- statistics --------------------------------------------------------------------------------
def test_katz_interval_by_hand() -> None:
    # 15 of 100 against 10 of 100: RR 1.5, SE = sqrt(1/15 - 1/100 + 1/10 - 1/100).
    est = st.katz_ratio(15, 100, 10, 100)
    se = math.sqrt(1 / 15 - 1 / 100 + 1 / 10 - 1 / 100)
    assert se == pytest.approx(0.3829708)
    assert est.ratio == pytest.approx(1.5)
    assert est.ci_low == pytest.approx(1.5 * math.exp(-1.959964 * se), rel=1e-6)
    assert est.ci_high == pytest.approx(1.5 * math.exp(1.959964 * se), rel=1e-6)
    assert est.ci_low is not None and est.ci_high is not None
    assert (round(est.ci_low, 4), round(est.ci_high, 4)) == (0.7081, 3.1774)


def test_katz_interval_matches_statsmodels() -> None:
    # statsmodels' risk-ratio interval is the same log (Katz) method.
    for a, n1, c, n2 in [(30, 200, 12, 180), (133, 16268, 1962, 379659), (7, 50, 21, 60)]:
        table = Table2x2(np.array([[a, n1 - a], [c, n2 - c]]))
        low, high = table.riskratio_confint()
        est = st.katz_ratio(a, n1, c, n2)
        assert est.ratio == pytest.approx(table.riskratio)
        assert (est.ci_low, est.ci_high) == pytest.approx((low, high), rel=1e-9)


def test_score_test_is_pearsons_chi_square() -> None:
    est = st.katz_ratio(30, 200, 12, 180)
    chi2 = stats.chi2_contingency(np.array([[30, 170], [12, 168]]), correction=False)
    assert est.p_value == pytest.approx(chi2.pvalue)


def test_zero_cells_get_half_a_child() -> None:
    # Nobody in the group reached the stage: ratio 0, interval from 0.5/(n+1).
    est = st.katz_ratio(0, 40, 25, 400)
    assert est.ratio == 0 and est.corrected
    se = math.sqrt(1 / 0.5 - 1 / 41 + 1 / 25.5 - 1 / 401)
    centre = math.log((0.5 / 41) / (25.5 / 401))
    assert est.ci_high == pytest.approx(math.exp(centre + st.Z95 * se))
    # Everyone reached it (a full cell): the interval must not collapse to a point.
    full = st.katz_ratio(30, 30, 900, 1000)
    assert full.ci_high is not None and full.ci_low is not None
    assert full.ci_high / full.ci_low > 1.05


def test_nested_ratio_by_hand_and_by_simulation() -> None:
    # A group of 1,000 children of 10,000; 40 of the group and 200 of everyone reached it.
    a, n1, total, n = 40, 1000, 200, 10000
    est = st.nested_ratio(a, n1, total, n)
    assert est.ratio == pytest.approx((40 / 1000) / (200 / 10000))  # 2.0
    p1, p2, b = 0.04, 160 / 9000, 160
    var = (1 - p1) / a + (a * (1 - p1) + b * (1 - p2)) / total**2 - 2 * (1 - p1) / total
    assert est.ci_high == pytest.approx(2.0 * math.exp(st.Z95 * math.sqrt(var)))
    # The delta-method SE agrees with the spread of simulated log ratios.
    rng = np.random.default_rng(7)
    sims_a = rng.binomial(n1, p1, 200_000)
    sims_b = rng.binomial(n - n1, p2, 200_000)
    log_rr = np.log((sims_a / n1) / ((sims_a + sims_b) / n))
    assert math.sqrt(var) == pytest.approx(float(np.std(log_rr)), rel=0.03)
    # Equal rates: not significant.
    assert st.nested_ratio(20, 1000, 200, 10000).p_value == pytest.approx(1.0)


def test_holm_worked_example() -> None:
    # Four p-values: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 with a running maximum.
    p = [0.01, 0.04, 0.03, 0.005]
    assert st.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert st.holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert st.holm([0.5, None, 0.9]) == [1.0, None, 1.0]


def test_benjamini_hochberg_matches_statsmodels() -> None:
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    expected = multipletests(p, method="fdr_bh")[1]
    assert st.benjamini_hochberg(p) == pytest.approx(list(expected))


def test_holm_keeps_false_flags_at_five_percent() -> None:
    """Under no disproportionality at all, Katz + score test + Holm flags anything in <= 5%
    of analyses (the stated error rate); 4,000 simulated authorities with 40 groups each."""
    rng = np.random.default_rng(3)
    populations = rng.integers(500, 20_000, size=40)
    rate = 0.01
    reference = 300_000
    any_flag = 0
    for _ in range(4000):
        counts = rng.binomial(populations, rate)
        ref = rng.binomial(reference, rate)
        p = [
            st.katz_ratio(int(a), int(n), ref, reference).p_value
            for a, n in zip(counts, populations, strict=True)
        ]
        any_flag += any(q is not None and q < 0.05 for q in st.holm(p))
    assert any_flag / 4000 <= 0.05 + 0.01


def test_representation_index_arithmetic() -> None:
    # 30 of 200 served, 1,000 of 10,000 children: share 15% against 10%.
    assert st.representation_index(30, 200, 1000, 10000) == pytest.approx(1.5)
    assert st.representation_index(0, 200, 1000, 10000) == 0
    assert st.per_10k(30, 1000) == pytest.approx(300.0)
    assert st.per_10k(3, None) is None


def test_mean_interval_and_trend_by_hand() -> None:
    est = st.mean_ci([2.0, 4.0, 4.0, 5.0])
    sd = math.sqrt(((2 - 3.75) ** 2 + 2 * (4 - 3.75) ** 2 + (5 - 3.75) ** 2) / 3)
    half = 3.182446 * sd / 2  # t(0.975, 3) = 3.1824
    assert est.mean == pytest.approx(3.75)
    assert (est.ci_low, est.ci_high) == pytest.approx((3.75 - half, 3.75 + half), rel=1e-5)
    trend = st.linear_trend([0, 1, 2, 3], [1.0, 3.0, 2.0, 4.0])
    assert trend.slope == pytest.approx(0.8)  # sum(dx dy) / sum(dx^2) = 4 / 5
    assert trend.ci_low is not None and trend.ci_low < 0.8 < (trend.ci_high or 0)


def test_two_proportions_and_rank_tests() -> None:
    assert st.two_proportion_test(50, 100, 50, 100) == pytest.approx(1.0)
    assert st.two_proportion_test(90, 100, 70, 100) == pytest.approx(
        stats.chi2_contingency(np.array([[90, 10], [70, 30]]), correction=False).pvalue
    )
    assert st.mann_whitney([1, 2, 3], [10, 11, 12]) == pytest.approx(0.1)
    assert st.kruskal_wallis([[1.0, 2.0], [1.0, 2.0]]) == pytest.approx(1.0)


# --- on a hand-built warehouse -----------------------------------------------------------------
def _child(i: int, ethnicity: str, **extra: Any) -> dict[str, Any]:
    return {
        "child_id": f"c{i}",
        "sex": "1",
        "ethnicity": ethnicity,
        "date_of_birth": date(2015, 1, 1),
    } | extra


def _tiny() -> Rows:
    """20 WBRI and 12 BCRB children referred in 2024-25; 2 WBRI and 6 BCRB went on to a CP
    plan. Population: 1,000 WBRI and 100 BCRB (and 1,200 children in all)."""
    kids = [_child(i, "WBRI") for i in range(20)] + [_child(i, "BCRB") for i in range(20, 32)]
    kids.append(_child(99, "OOTH", uasc=True))  # not part of the resident population
    refs = [
        {
            "child_id": k["child_id"],
            "referral_id": f"r{k['child_id']}",
            "referral_date": date(2024, 6, 3),
        }
        for k in kids
    ]
    planned = ["c0", "c1", *(f"c{i}" for i in range(20, 26))]
    plans = [
        {"child_id": c, "referral_id": f"r{c}", "plan_id": f"p{c}", "start_date": date(2024, 8, 1)}
        for c in planned
    ]
    pop = [
        {"year": 2024, "age_band": "0-17", "population": 1200.0},
        {"year": 2024, "age_band": "0-17", "ethnicity": "WBRI", "population": 1000.0},
        {"year": 2024, "age_band": "0-17", "ethnicity": "BCRB", "population": 100.0},
        {"year": 2024, "age_band": "0-17", "ethnicity": "OOTH", "population": 100.0},
    ]
    return {"children": kids, "referrals": refs, "cp_plans": plans, "population": pop}


def load(warehouse: Warehouse, rows: Rows) -> Warehouse:
    """Hand-built canonical rows written through a real load (as tests/conftest.py does)."""
    batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
    for name, records in rows.items():
        schema = table(name).schema().to_pyarrow()
        full = [
            {"la_code": "E06000001", "load_id": batch.load_id, "source_file": "f.csv"}
            | {"source_row": i + 1}
            | r
            for i, r in enumerate(records)
        ]
        batch.add(name, pa.Table.from_pylist(full, schema=schema))
    warehouse.commit_load(batch)
    return warehouse


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path = tmp_path_factory.mktemp("tiny") / "w.duckdb"
    return load(Warehouse.connect(f"duckdb://{path}"), _tiny())


@pytest.fixture(scope="module")
def tiny_analyst(tiny: Warehouse) -> equity.Analysis:
    return equity.analyse(tiny, "ethnicity", "2024-25", role="analyst")


def test_rates_ratios_and_representation_on_known_counts(tiny_analyst: equity.Analysis) -> None:
    a = tiny_analyst
    referral = {g.group: g for g in a.stage("referral").groups}
    assert referral["WBRI"].rate == pytest.approx(200.0)  # 20 per 1,000
    assert referral["BCRB"].rate == pytest.approx(1200.0)  # 12 per 100
    assert referral["BCRB"].ratio == pytest.approx(6.0)
    # Representation: 12 of the 32 referred against 100 of 1,200 children.
    assert referral["BCRB"].representation_index == pytest.approx((12 / 32) / (100 / 1200))
    assert "OOTH" not in referral or referral["OOTH"].count == 0  # UASC left out
    cp = {g.group: g for g in a.stage("cp_plan given referral").groups}
    assert cp["BCRB"].ratio == pytest.approx((6 / 12) / (2 / 20))  # 5.0
    expected = st.katz_ratio(6, 12, 2, 20)
    assert (cp["BCRB"].ci_low, cp["BCRB"].ci_high) == pytest.approx(
        (expected.ci_low, expected.ci_high)
    )
    # Reference group itself: ratio 1, never tested.
    assert cp["WBRI"].ratio == 1.0 and not cp["WBRI"].tested


def test_ratio_against_all_children(tiny: Warehouse) -> None:
    a = equity.analyse(tiny, "ethnicity", "2024-25", reference="all", role="analyst")
    referral = {g.group: g for g in a.stage("referral").groups}
    # 12 per 100 against 32 per 1,200: equal to the representation index.
    assert referral["BCRB"].ratio == pytest.approx(0.12 / (32 / 1200))
    assert referral["BCRB"].ratio == pytest.approx(referral["BCRB"].representation_index)


def test_viewers_never_see_counts_of_one_to_five(tiny: Warehouse) -> None:
    a = equity.analyse(tiny, "ethnicity", "2024-25", role="viewer", threshold=5)
    cp = {g.group: g for g in a.stage("cp_plan").groups}
    # WBRI had 2 plans: hidden; BCRB (6) is the only other: hidden too (secondary).
    assert cp["WBRI"].suppressed and cp["WBRI"].count is None and cp["WBRI"].rate is None
    assert cp["BCRB"].suppressed and cp["BCRB"].significant is None
    payload = a.stage_json("cp_plan")
    assert {
        "group",
        "count",
        "population",
        "rate_per_10k",
        "ratio",
        "ci_low",
        "ci_high",
        "significant",
        "suppressed",
    } <= set(payload["groups"][0])


def test_a_stage_that_does_not_exist_is_a_clear_error(tiny_analyst: equity.Analysis) -> None:
    from csc_insight.errors import ConfigError

    with pytest.raises(ConfigError, match="no stage"):
        tiny_analyst.stage("nowhere")


def test_equal_service_on_known_waits(warehouse_with: Callable[[Rows], Warehouse]) -> None:
    kids = [_child(i, "WBRI") for i in range(8)] + [_child(i, "BCRB") for i in range(8, 16)]
    services = [
        {
            "child_id": k["child_id"],
            "involvement_id": f"s{k['child_id']}",
            "service": "Family Support",
            "date_requested": date(2024, 5, 1),
            # WBRI children wait 10 days, BCRB children 40.
            "date_started": date(2024, 5, 11) if k["ethnicity"] == "WBRI" else date(2024, 6, 10),
        }
        for k in kids
    ]
    w = warehouse_with({"children": kids, "service_involvements": services})
    result = equity.equal_service(w, "ethnicity", "2024-25", role="analyst")
    waits = next(m for m in result["measures"] if m["measure"] == "service_wait_days")
    by_group = {g["group"]: g for g in waits["groups"]}
    assert by_group["WBRI"]["value"] == 10 and by_group["BCRB"]["value"] == 40
    assert by_group["BCRB"]["difference"] == 30
    # Complete separation of 8 against 8 (U = 64, the maximum): scipy's Mann-Whitney p.
    expected = st.mann_whitney([40.0] * 8, [10.0] * 8)
    assert expected is not None and expected < 0.001
    assert by_group["BCRB"]["p_value"] == pytest.approx(expected, abs=1e-6)
    assert by_group["BCRB"]["significant"] is True
