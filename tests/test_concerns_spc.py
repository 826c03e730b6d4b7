"""Statistical process control on constructed series with known answers: each rule
triggered and not triggered, both chart types, and the judgement of direction."""

from __future__ import annotations

import math

import pytest

from csc_insight.concerns import spc

ZIGZAG = [10.0, 11.0] * 10  # common-cause noise: no runs, no trends, nothing beyond limits


def labels(n: int) -> list[str]:
    return [f"{2023 + (k + 3) // 12}-{(k + 3) % 12 + 1:02d}" for k in range(n)]


# --- XmR limits -------------------------------------------------------------------------
def test_xmr_limits_are_the_mean_plus_minus_three_sigma_from_the_moving_range() -> None:
    chart = spc.xmr(labels(20), ZIGZAG)
    assert chart.kind is spc.ChartType.XMR
    assert chart.centre == pytest.approx(10.5)
    sigma = 1.0 / 1.128  # every moving range is 1
    assert chart.sigma == pytest.approx(sigma)
    assert chart.upper[0] == pytest.approx(10.5 + 3 * sigma)
    assert chart.lower[0] == pytest.approx(10.5 - 3 * sigma)
    assert chart.signals == []


def test_too_few_points_draw_no_limits_and_find_nothing() -> None:
    chart = spc.xmr(labels(spc.MIN_POINTS - 1), [1.0, 50.0] * 5 + [100.0])
    assert not chart.enough
    assert chart.signals == []
    assert spc.xmr(labels(spc.MIN_POINTS), [1.0] * spc.MIN_POINTS).enough


# --- rule 1: beyond the limits ----------------------------------------------------------
def test_a_point_beyond_the_upper_limit_is_a_signal() -> None:
    values = list(ZIGZAG)
    values[15] = 20.0
    chart = spc.xmr(labels(20), values)
    beyond = [s for s in chart.signals if s.rule == spc.BEYOND_LIMITS]
    assert [(s.direction, s.indices) for s in beyond] == [(spc.UP, (15,))]


def test_a_point_below_the_lower_limit_is_a_signal() -> None:
    values = list(ZIGZAG)
    values[4] = 1.0
    beyond = spc.beyond_limits(values, [8.0] * 20, [13.0] * 20)
    assert [(s.direction, s.indices) for s in beyond] == [(spc.DOWN, (4,))]


def test_points_inside_the_limits_are_not_a_signal() -> None:
    values = list(ZIGZAG)
    values[15] = 12.9  # high, but inside limits of 8 to 13
    assert spc.beyond_limits(values, [8.0] * 20, [13.0] * 20) == []
    assert spc.beyond_limits(values, [8.0] * 20, [12.9] * 20) == []  # on the limit is inside


def test_neighbouring_points_beyond_one_limit_are_one_signal() -> None:
    values = [10.0, 14.0, 15.0, 10.0, 14.0]
    found = spc.beyond_limits(values, [8.0] * 5, [13.0] * 5)
    assert [s.indices for s in found] == [(1, 2), (4,)]


# --- rule 2: a run of 7 on one side -----------------------------------------------------
def test_seven_points_above_the_centre_are_a_shift() -> None:
    values = [9.0, 11.0, 9.0] + [11.0] * 7 + [9.0, 11.0]
    found = spc.shifts(values, 10.0)
    assert [(s.rule, s.direction, s.indices) for s in found] == [
        (spc.SHIFT, spc.UP, (3, 4, 5, 6, 7, 8, 9))
    ]


def test_six_points_on_one_side_are_not_a_shift() -> None:
    values = [9.0, 11.0, 9.0] + [11.0] * 6 + [9.0, 11.0]
    assert spc.shifts(values, 10.0) == []


def test_a_point_on_the_centre_neither_adds_to_nor_breaks_a_run() -> None:
    below = [9.0, 9.0, 9.0, 10.0, 9.0, 9.0, 9.0]  # six below and one on the line
    assert spc.shifts([11.0, *below, 11.0], 10.0) == []
    run = spc.shifts([11.0, *below, 9.0, 11.0], 10.0)
    assert [(s.direction, len(s.indices)) for s in run] == [(spc.DOWN, 7)]
    assert 4 not in run[0].indices  # the point on the line is not part of the run


def test_a_missing_month_does_not_break_a_run() -> None:
    values: list[float | None] = [11.0, 11.0, 11.0, None, 11.0, 11.0, 11.0, 11.0]
    assert [len(s.indices) for s in spc.shifts(values, 10.0)] == [7]


def test_a_shift_is_found_on_a_whole_xmr_chart() -> None:
    values = [9.0, 12.0] * 7 + [12.0] * 8  # the process moves up for the last 8 months
    chart = spc.xmr(labels(len(values)), values)
    shifts = [s for s in chart.signals if s.rule == spc.SHIFT]
    assert [(s.direction, s.last) for s in shifts] == [(spc.UP, len(values) - 1)]


# --- rule 3: a trend of 6 ---------------------------------------------------------------
def test_six_rising_points_are_a_trend() -> None:
    values = [10.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 13.0]
    found = spc.trends(values)
    assert [(s.rule, s.direction, s.indices) for s in found] == [
        (spc.TREND, spc.UP, (1, 2, 3, 4, 5, 6))
    ]


def test_five_rising_points_are_not_a_trend() -> None:
    assert spc.trends([10.0, 9.0, 10.0, 11.0, 12.0, 13.0, 12.0, 13.0]) == []


def test_six_falling_points_are_a_trend() -> None:
    found = spc.trends([5.0, 20.0, 18.0, 16.0, 15.0, 14.0, 10.0, 12.0])
    assert [(s.direction, len(s.indices)) for s in found] == [(spc.DOWN, 6)]


def test_a_repeated_value_neither_adds_to_nor_breaks_a_trend() -> None:
    # 1, 2, 3, 3, 4, 5: only five distinct rising points, so no trend ...
    assert spc.trends([5.0, 1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 4.0]) == []
    # ... and one more rising point makes six.
    found = spc.trends([5.0, 1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0])
    assert [len(s.indices) for s in found] == [6]


# --- p-charts ---------------------------------------------------------------------------
def test_p_chart_centre_is_pooled_and_limits_follow_each_months_denominator() -> None:
    nums = [20.0] * 12 + [5.0]
    dens = [100.0] * 12 + [25.0]
    chart = spc.p_chart(labels(13), nums, dens)
    assert chart.kind is spc.ChartType.P
    p = 245 / 1225
    assert chart.centre == pytest.approx(100 * p)
    assert chart.upper[0] == pytest.approx(100 * (p + 3 * math.sqrt(p * (1 - p) / 100)))
    assert chart.upper[12] == pytest.approx(100 * (p + 3 * math.sqrt(p * (1 - p) / 25)))
    assert chart.upper[12] > chart.upper[0]  # fewer cases, wider limits
    assert chart.signals == []


def test_p_chart_flags_a_month_beyond_its_limit_and_skips_empty_months() -> None:
    nums: list[float | None] = [20.0, 22.0, 18.0, 21.0, 19.0, 20.0, 22.0, 18.0, 20.0, 21.0]
    dens: list[float | None] = [100.0] * 10
    nums += [None, 45.0, 19.0]
    dens += [0.0, 100.0, 100.0]
    chart = spc.p_chart(labels(13), nums, dens)
    assert chart.values[10] is None and chart.upper[10] is None
    beyond = [s for s in chart.signals if s.rule == spc.BEYOND_LIMITS]
    assert [(s.direction, s.indices) for s in beyond] == [(spc.UP, (11,))]


def test_p_chart_limits_stay_between_0_and_100() -> None:
    chart = spc.p_chart(labels(12), [1.0] * 12, [2.0] * 12)
    assert all(0 <= (v or 0) <= 100 for v in chart.lower + chart.upper)


def test_chart_type_follows_the_measure() -> None:
    n = spc.MIN_POINTS
    assert spc.chart_for("percent", labels(n), [50.0] * n, [1.0] * n, [2.0] * n).kind == "p"
    assert spc.chart_for("percent", labels(n), [50.0] * n).kind == "xmr"
    assert spc.chart_for("days", labels(n), [5.0] * n, [1.0] * n, [2.0] * n).kind == "xmr"


# --- judging ----------------------------------------------------------------------------
def test_direction_is_judged_by_which_way_is_better() -> None:
    up = spc.Signal(spc.SHIFT, spc.UP, (1, 2))
    down = spc.Signal(spc.SHIFT, spc.DOWN, (1, 2))
    assert spc.judge(up, "lower_is_better") == "deterioration"
    assert spc.judge(down, "lower_is_better") == "improvement"
    assert spc.judge(up, "higher_is_better") == "improvement"
    assert spc.judge(down, "higher_is_better") == "deterioration"
    assert spc.judge(up, "neither") == "change"


def test_only_signals_reaching_the_latest_months_are_recent() -> None:
    early = [12.0] * 8 + [9.0, 12.0] * 6  # a shift at the start, then common cause
    chart = spc.xmr(labels(len(early)), early)
    assert any(s.rule == spc.SHIFT for s in chart.signals)
    assert spc.recent(chart, 3) == []
    late = [9.0, 12.0] * 6 + [12.0] * 8
    chart = spc.xmr(labels(len(late)), late)
    assert [s.rule for s in spc.recent(chart, 3)] == [spc.SHIFT]


def test_signals_say_what_they_are() -> None:
    assert spc.Signal(spc.SHIFT, spc.UP, tuple(range(8))).describe() == (
        "a run of 8 months above the average"
    )
    assert spc.Signal(spc.TREND, spc.DOWN, tuple(range(6))).describe() == (
        "6 months in a row each lower than the one before"
    )
    assert spc.Signal(spc.BEYOND_LIMITS, spc.UP, (3,)).describe() == (
        "a month above the upper control limit"
    )
