"""Disclosure control: primary and secondary suppression as DfE publishes."""

from __future__ import annotations

from csc_insight.indicators.registry import IndicatorResult
from csc_insight.privacy.disclosure import suppress


def r(
    value: float,
    num: float | None,
    den: float | None = None,
    unit: str = "count",
    group: str | None = None,
    dim: str = "sex",
) -> IndicatorResult:
    return IndicatorResult(
        id="x",
        title="x",
        definition="x",
        period="2024-25",
        value=value,
        numerator=num,
        denominator=den,
        unit=unit,
        polarity="neither",
        breakdown={dim: group} if group else None,
    )


def test_primary_suppression_hides_small_counts_but_not_zero() -> None:
    out = suppress([r(3, 3), r(0, 0), r(6, 6)], threshold=5)
    assert [o.suppressed for o in out] == [True, False, False]
    assert out[0].value is None and out[0].numerator is None


def test_percentages_from_small_counts_are_hidden() -> None:
    out = suppress(
        [r(40.0, 2, 5, "percent"), r(2.0, 2, 100, "percent"), r(50.0, 50, 100, "percent")],
        threshold=5,
    )
    assert [o.suppressed for o in out] == [True, True, False]


def test_secondary_suppression_protects_the_total() -> None:
    groups = [r(120, 120, group="Male"), r(3, 3, group="Female"), r(40, 40, group="Not known")]
    out = suppress(groups, threshold=5)
    # Female is hidden; the next smallest group is hidden too, so 163 - 120 - 40 reveals nothing.
    assert [o.suppressed for o in out] == [False, True, True]


def test_no_secondary_when_two_are_already_hidden() -> None:
    groups = [r(120, 120, group="a"), r(3, 3, group="b"), r(2, 2, group="c")]
    assert [o.suppressed for o in suppress(groups, threshold=5)] == [False, True, True]


def test_threshold_is_configurable() -> None:
    assert suppress([r(8, 8)], threshold=10)[0].suppressed
    assert not suppress([r(8, 8)], threshold=5)[0].suppressed
