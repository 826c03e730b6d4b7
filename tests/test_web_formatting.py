"""Formatting and small-number suppression for web pages."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from csc_insight.errors import ConfigError
from csc_insight.indicators import IndicatorResult
from csc_insight.privacy.disclosure import suppression_threshold
from csc_insight.web.formatting import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    Formatter,
    format_date,
    format_datetime,
    format_time,
    format_value,
    is_small,
)

VIEWER = Formatter("viewer", 5)
ANALYST = Formatter("analyst", 5)


def result(
    unit: str,
    value: float | None,
    numerator: float | None = None,
    denominator: float | None = None,
    suppressed: bool = False,
) -> IndicatorResult:
    return IndicatorResult(
        id="x.test",
        title="Test",
        definition="A test indicator.",
        period="2024-25",
        value=value,
        numerator=value if numerator is None and unit == "count" else numerator,
        denominator=denominator,
        unit=unit,
        polarity="neither",
        suppressed=suppressed,
    )


@pytest.mark.parametrize(
    ("count", "small"),
    [
        (None, False),
        (0, False),
        (1, True),
        (5, True),
        (5.0, True),
        (6, False),
        (float("nan"), False),
    ],
)
def test_is_small(count: float | None, small: bool) -> None:
    assert is_small(count, 5) is small


def test_counts_for_viewers_and_analysts() -> None:
    assert [VIEWER.count(n) for n in (0, 1, 5, 6, 1234)] == ["0", "c", "c", "6", "1,234"]
    assert [ANALYST.count(n) for n in (0, 1, 5, 6, 1234)] == ["0", "1", "5", "6", "1,234"]
    assert VIEWER.count(None) == NOT_AVAILABLE


def test_threshold_comes_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSC_INSIGHT_SUPPRESSION_THRESHOLD", raising=False)
    assert suppression_threshold() == 5
    monkeypatch.setenv("CSC_INSIGHT_SUPPRESSION_THRESHOLD", "10")
    assert suppression_threshold() == 10
    assert Formatter("viewer", suppression_threshold()).count(8) == "c"
    monkeypatch.setenv("CSC_INSIGHT_SUPPRESSION_THRESHOLD", "few")
    with pytest.raises(ConfigError, match="whole number"):
        suppression_threshold()


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ConfigError, match="viewer, analyst"):
        Formatter("admin", 5)


def test_small_count_indicator() -> None:
    row = VIEWER.indicator(result("count", 3))
    assert (row.value, row.numerator, row.denominator) == ("c", NOT_APPLICABLE, NOT_APPLICABLE)
    assert row.suppressed
    assert ANALYST.indicator(result("count", 3)).value == "3"
    assert VIEWER.indicator(result("count", 0)).value == "0"
    assert VIEWER.indicator(result("count", 12_345)).value == "12,345"


def test_percentage_with_a_small_numerator() -> None:
    r = result("percent", 7.5, 3, 40)
    row = VIEWER.indicator(r)
    assert (row.value, row.numerator, row.denominator) == ("c", "c", "40")
    row = ANALYST.indicator(r)
    assert (row.value, row.numerator, row.denominator) == ("7.5%", "3", "40")
    assert not row.suppressed


def test_percentage_with_a_small_denominator() -> None:
    row = VIEWER.indicator(result("percent", 0.0, 0, 4))
    assert (row.value, row.numerator, row.denominator) == ("c", "0", "c")
    row = VIEWER.indicator(result("percent", 50.0, 20, 40))
    assert (row.value, row.numerator, row.denominator) == ("50%", "20", "40")


def test_rate_and_averages() -> None:
    row = VIEWER.indicator(result("rate_per_10k", 1.2, 4, 33_000))
    assert (row.value, row.numerator, row.denominator) == ("c", "c", "33,000")
    assert ANALYST.indicator(result("rate_per_10k", 1.2, 4, 33_000)).value == (
        "1.2 per 10,000 children"
    )
    # A median with no denominator is a statistic, not a count: it is shown.
    assert VIEWER.indicator(result("working_days", 3.0, 3.0)).value == "3 working days"
    # An average over 4 cases is hidden, and so is its total.
    row = VIEWER.indicator(result("days", 20.0, 80.0, 4))
    assert (row.value, row.numerator, row.denominator) == ("c", "c", "c")


def test_suppressed_upstream() -> None:
    r = result("percent", None, None, None, suppressed=True)
    assert VIEWER.indicator(r).value == "c"
    assert ANALYST.indicator(r).value == NOT_AVAILABLE
    row = VIEWER.indicator(result("percent", 60.0, 30, 50, suppressed=True))
    assert (row.value, row.numerator, row.denominator) == ("c", "c", "c")


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (None, "percent", NOT_AVAILABLE),
        (12.34, "percent", "12.3%"),
        (100.0, "percent", "100%"),
        (456.78, "rate_per_10k", "456.8 per 10,000 children"),
        (1.0, "days", "1 day"),
        (23.5, "days", "23.5 days"),
        (12.0, "working_days", "12 working days"),
        (1.0, "working_days", "1 working day"),
        (2500.0, "count", "2,500"),
    ],
)
def test_format_value(value: float | None, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


def test_dates_in_plain_english() -> None:
    assert format_date(date(2026, 11, 25)) == "25 November 2026"
    assert format_date(None) == NOT_AVAILABLE
    assert format_time(datetime(2026, 1, 1, 0, 0)) == "midnight"
    assert format_time(datetime(2026, 1, 1, 12, 0)) == "midday"
    assert format_time(datetime(2026, 1, 1, 9, 5)) == "9:05am"
    assert format_time(datetime(2026, 1, 1, 17, 30)) == "5:30pm"
    # Stored in UTC, shown in UK time: GMT in winter, BST in summer.
    assert format_datetime(datetime(2026, 11, 25, 19, 16)) == "25 November 2026 at 7:16pm"
    assert format_datetime(datetime(2026, 6, 1, 11, 0)) == "1 June 2026 at midday"
