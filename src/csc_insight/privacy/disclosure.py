"""Disclosure control for aggregate figures, as DfE publishes them.

Primary suppression: a count from 1 to the threshold (5 by default) is shown as "c", and so
is any percentage, rate or average worked out from such a count. Secondary suppression: within
one breakdown (one indicator, one dimension, one period), if exactly one group is suppressed
the next smallest group is suppressed too, so the hidden figure cannot be recovered by
subtracting the others from the published total. Zero is never suppressed (DfE shows 0).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from csc_insight import settings
from csc_insight.errors import ConfigError
from csc_insight.indicators.registry import IndicatorResult

COUNT_UNITS = frozenset({"count"})
SUPPRESSED = "c"


def suppression_threshold(override: str | None = None) -> int:
    """The largest count shown as "c" to viewers (setting ``suppression_threshold``)."""
    raw = settings.get("suppression_threshold", override)
    try:
        threshold = int(raw)
    except ValueError:
        raise ConfigError(
            f"The suppression threshold must be a whole number, not {raw!r} "
            "(setting CSC_INSIGHT_SUPPRESSION_THRESHOLD)."
        ) from None
    if threshold < 0:
        raise ConfigError(f"The suppression threshold cannot be negative (it is {threshold}).")
    return threshold


def _small(value: float | None, threshold: int) -> bool:
    return value is not None and 0 < value <= threshold


def _base(result: IndicatorResult) -> float | None:
    """The count a figure rests on: what suppression is decided by."""
    if result.unit in COUNT_UNITS and result.denominator is None:
        return result.numerator
    return result.numerator if result.numerator is not None else result.denominator


def is_primary(result: IndicatorResult, threshold: int) -> bool:
    """True when the figure, or a count it is made from, is a small number."""
    if result.unit in COUNT_UNITS and result.denominator is None:
        return _small(result.numerator, threshold)
    return _small(result.numerator, threshold) or _small(result.denominator, threshold)


def _hidden(result: IndicatorResult) -> IndicatorResult:
    return replace(result, value=None, numerator=None, denominator=None, suppressed=True)


def suppress(results: list[IndicatorResult], threshold: int) -> list[IndicatorResult]:
    """Results with small numbers hidden (primary) and protected from subtraction (secondary)."""
    flags = [is_primary(r, threshold) for r in results]
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        if r.breakdown:
            groups[(r.id, r.period, ",".join(sorted(r.breakdown)))].append(i)
    for members in groups.values():
        hidden = [i for i in members if flags[i]]
        if len(hidden) != 1:
            continue
        visible = [i for i in members if not flags[i] and (_base(results[i]) or 0) > 0]
        if visible:
            flags[min(visible, key=lambda i: _base(results[i]) or 0)] = True
    return [_hidden(r) if flag else r for r, flag in zip(results, flags, strict=True)]
