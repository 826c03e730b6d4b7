"""Finding areas of concern and improvement from constructed evidence with known answers:
targets, control-chart signals, comparators, ranking and the sentences that say them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from csc_insight.concerns import detect, spc, words
from csc_insight.concerns.detect import CONCERN, IMPROVEMENT
from csc_insight.concerns.series import MonthlySeries, monthly_ids, months_ending, previous_year
from csc_insight.indicators import REGISTRY, IndicatorResult, targets
from csc_insight.indicators.periods import parse

REREF = "cin.rereferral_pct"  # lower is better, percent
TIMELY = "cin.assessment_45wd_pct"  # higher is better, percent


def result(
    indicator_id: str,
    value: float,
    num: float | None = None,
    den: float | None = None,
    period: str = "2024-25",
) -> IndicatorResult:
    ind = REGISTRY[indicator_id]
    return IndicatorResult(
        id=ind.id,
        title=ind.title,
        definition=ind.definition,
        period=period,
        value=value,
        numerator=num,
        denominator=den,
        unit=str(ind.unit),
        polarity=str(ind.polarity),
    )


def judged(r: IndicatorResult, target: float, tolerance: float) -> detect.Evidence | None:
    t = targets.Target(target=target, tolerance=tolerance)
    config = targets.AuthorityConfig({r.id: t}, targets.EscalationThresholds(), {})
    [r] = targets.apply([r], config)
    return detect._target_evidence(r, t)


# --- targets ----------------------------------------------------------------------------
def test_off_target_is_a_concern_in_the_right_direction() -> None:
    e = judged(result(REREF, 27.7), 22, 2)
    assert e is not None and e.kind == CONCERN and e.weight == 3
    assert e.text == "above the 22% target (tolerance 2 points)"
    e = judged(result(TIMELY, 80.0), 90, 5)
    assert e is not None and e.kind == CONCERN
    assert e.text == "below the 90% target (tolerance 5 points)"


def test_near_target_is_a_minor_concern_and_on_target_an_improvement() -> None:
    near = judged(result(REREF, 23.0), 22, 2)
    assert near is not None and near.kind == CONCERN and near.weight == 1
    assert "within its tolerance of 2 points" in near.text
    finding = detect._indicator_finding(REREF, result(REREF, 23.0), None, [near], [])
    assert finding is not None and finding.tags == ["Near target"]
    on = judged(result(REREF, 20.0), 22, 2)
    assert on is not None and on.kind == IMPROVEMENT and on.text == "below the 22% target"


def test_no_target_no_evidence() -> None:
    r = result(REREF, 27.7)
    assert detect._target_evidence(r, targets.Target()) is None


# --- control charts ---------------------------------------------------------------------
def series(indicator_id: str, values: list[float]) -> MonthlySeries:
    ind = REGISTRY[indicator_id]
    labels = [p.label for p in months_ending(parse("2024-25"), len(values))]
    chart = spc.xmr(labels, values)
    none: list[float | None] = [None] * len(values)
    return MonthlySeries(
        ind.id,
        ind.title,
        str(ind.unit),
        str(ind.polarity),
        labels,
        list(values),
        none,
        list(none),
        chart,
    )


def test_a_recent_rise_is_a_deterioration_when_lower_is_better() -> None:
    s = series(REREF, [20.0, 24.0] * 8 + [24.0] * 8)
    [e] = detect._spc_evidence(s, 3)
    assert e.kind == CONCERN and e.source == "spc"
    assert "significant deterioration" in e.text and "above the average" in e.text
    assert "to March 2025" in e.text
    assert e.data["rules"] == [spc.SHIFT]


def test_the_same_rise_is_an_improvement_when_higher_is_better() -> None:
    s = series(TIMELY, [20.0, 24.0] * 8 + [24.0] * 8)
    [e] = detect._spc_evidence(s, 3)
    assert e.kind == IMPROVEMENT and "significant improvement" in e.text


def test_common_cause_variation_and_old_signals_are_not_evidence() -> None:
    assert detect._spc_evidence(series(REREF, [20.0, 24.0] * 12), 3) == []
    old = [24.0] * 8 + [20.0, 24.0] * 8
    assert detect._spc_evidence(series(REREF, old), 3) == []


def test_a_point_beyond_the_limits_weighs_most() -> None:
    values = [19.0, 23.0] * 11 + [45.0, 19.0]
    [e] = detect._spc_evidence(series(REREF, values), 3)
    assert e.data["rules"] == [spc.BEYOND_LIMITS] and e.weight == 3


# --- comparators ------------------------------------------------------------------------
def comparison(indicator_id: str, local: float, **kw: Any) -> SimpleNamespace:
    ind = REGISTRY[indicator_id]
    values = {"england": None, "sn_mean": None, "region": None, "quartile": None, "rank": None}
    values.update(kw)
    return SimpleNamespace(
        id=ind.id,
        local=local,
        unit=str(ind.unit),
        polarity=str(ind.polarity),
        published_year=2025,
        **values,
    )


def test_significantly_worse_than_england_and_neighbours_is_a_concern() -> None:
    r = result(REREF, 27.7, 277, 1000)
    c = comparison(REREF, 27.7, england=22.6, sn_mean=20.7)
    [e] = detect._benchmark_evidence({REREF: c}, {REREF: r})[REREF]
    assert e.kind == CONCERN and e.weight == 4
    assert e.text == "higher than England (22.6%) and the statistical neighbours (20.7%)"
    assert e.data["england"]["p_adjusted"] < 0.001


def test_a_difference_that_could_be_chance_is_not_evidence() -> None:
    r = result(REREF, 25.0, 5, 20)  # 5 of 20: far too few to tell 25% from 22.6%
    c = comparison(REREF, 25.0, england=22.6, sn_mean=20.7)
    assert detect._benchmark_evidence({REREF: c}, {REREF: r}) == {}


def test_significantly_better_than_england_is_an_improvement() -> None:
    r = result(TIMELY, 95.0, 950, 1000)
    c = comparison(TIMELY, 95.0, england=82.0)
    [e] = detect._benchmark_evidence({TIMELY: c}, {TIMELY: r})[TIMELY]
    assert e.kind == IMPROVEMENT and e.text == "higher than England (82.0%)"


def test_without_a_test_the_worst_quartile_is_a_minor_concern() -> None:
    a1 = "adoption.a1_days"
    r = result(a1, 600.0, None, 12)
    worst = comparison(a1, 600.0, england=450.0, quartile="D", rank=140)
    [e] = detect._benchmark_evidence({a1: worst}, {a1: r})[a1]
    assert e.kind == CONCERN and e.weight == 1 and "band D" in e.text
    middling = comparison(a1, 600.0, england=450.0, quartile="B", rank=40)
    assert detect._benchmark_evidence({a1: middling}, {a1: r}) == {}


def test_suppressed_figures_give_no_comparator_evidence() -> None:
    from dataclasses import replace

    r = replace(result(REREF, 27.7, 277, 1000), suppressed=True)
    c = comparison(REREF, 27.7, england=22.6)
    assert detect._benchmark_evidence({REREF: c}, {REREF: r}) == {}


# --- findings: sentences and ranking ----------------------------------------------------
def test_evidence_about_one_indicator_makes_one_ranked_finding_with_a_sentence() -> None:
    r = result(REREF, 27.7, 277, 1000)
    prev = result(REREF, 24.7, 247, 1000, period="2023-24")
    off = judged(r, 22, 2)
    assert off is not None
    c = comparison(REREF, 27.7, england=22.6, sn_mean=20.7)
    worse = detect._benchmark_evidence({REREF: c}, {REREF: r})[REREF]
    deteriorating = detect._spc_evidence(series(REREF, [20.0, 24.0] * 8 + [24.0] * 8), 3)
    full = detect._indicator_finding(REREF, r, prev, [off, *worse, *deteriorating], [])
    assert full is not None and full.kind == CONCERN
    assert full.sentence.startswith(
        "Re-referrals within 12 months stood at 27.7% in 2024-25 (24.7% in 2023-24), above "
        "the 22% target (tolerance 2 points) and higher than England (22.6%) and the "
        "statistical neighbours (20.7%). Monthly figures show a significant deterioration"
    )
    assert full.tags == ["Off target", "Worse than comparators", "Deteriorating"]
    only_off = detect._indicator_finding(
        TIMELY, result(TIMELY, 80.0), None, [judged(result(TIMELY, 80.0), 90, 5)], []
    )  # type: ignore[list-item]
    assert only_off is not None
    ranked = detect._rank([only_off, full])
    assert ranked[0] is full and full.severity > only_off.severity


def test_mixed_evidence_is_a_concern_that_says_what_is_going_well() -> None:
    r = result(REREF, 27.7)
    off = judged(r, 22, 2)
    improving = detect._spc_evidence(series(REREF, [20.0, 24.0] * 8 + [20.0] * 8), 3)
    assert off is not None and improving and improving[0].kind == IMPROVEMENT
    f = detect._indicator_finding(REREF, r, None, [off, *improving], [])
    assert f is not None and f.kind == CONCERN
    assert "On the other hand, monthly figures show a significant improvement" in f.sentence
    assert f.severity == off.weight  # going-well evidence does not add to the severity


def test_no_evidence_no_finding() -> None:
    assert detect._indicator_finding(REREF, result(REREF, 27.7), None, [], []) is None


def test_every_evidence_has_a_detail_line() -> None:
    r = result(REREF, 27.7, 277, 1000)
    off = judged(r, 22, 2)
    assert off is not None and off.detail == "Target 22% ± 2 points (authority.toml): off target."
    c = comparison(REREF, 27.7, england=22.6)
    [worse] = detect._benchmark_evidence({REREF: c}, {REREF: r})[REREF]
    assert worse.detail.startswith("Published year to March 2025: England 22.6% (Holm-adjusted p")


# --- the pieces around it ---------------------------------------------------------------
def test_monthly_measures_exclude_annual_ones_and_those_without_a_better_direction() -> None:
    ids = monthly_ids()
    assert REREF in ids and TIMELY in ids
    assert "cin.referrals" not in ids  # neither direction is better
    assert "leavers.eet_pct" not in ids  # an annual return


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2024-25", "2023-24"),
        ("2024-25 Q2", "2023-24 Q2"),
        ("2024-06", "2023-06"),
        ("12m to 2024-06", "12m to 2023-06"),
    ],
)
def test_previous_year(label: str, expected: str) -> None:
    assert previous_year(parse(label)).label == expected


def test_words() -> None:
    assert words.value(27.777, "percent") == "27.8%"
    assert words.value(22.0, "percent", exact=True) == "22%"
    assert words.value(28.0, "working_days") == "28 working days"
    assert words.value(494.16, "rate_per_10k") == "494.2 per 10,000 children"
    assert words.value(None, "count") == "not available"
    assert words.value(3.0, "count", suppressed=True) == words.SUPPRESSED_WORDS
    assert words.month_name("2025-03") == "March 2025"
    assert words.month_name("2024-25") == "2024-25"
    assert words.join(["a", "b", "c"]) == "a, b and c"
    assert words.gap(-2.0, "percent") == "2 points"


def test_bad_arguments_are_refused(tmp_path: Any) -> None:
    from csc_insight.errors import ConfigError
    from csc_insight.warehouse.store import Warehouse

    w = Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    with pytest.raises(ConfigError, match="audience"):
        detect.find(w, "2024-25", audience="public")
    with pytest.raises(ConfigError, match="Unknown source"):
        detect.find(w, "2024-25", sources=["astrology"])
    with pytest.raises(ConfigError, match="empty"):
        detect.find(w)
