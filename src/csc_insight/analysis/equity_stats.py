"""The statistics behind the equity and voice analyses, as small pure functions.

Everything here works on plain numbers so each formula can be checked against a hand
computation or a textbook example (tests/analysis/test_equity.py, test_voice.py):

* rates and ratios of rates: the relative rate index (RRI) with a Katz log interval, and
  the representation index;
* multiple-comparison correction (Holm; Benjamini-Hochberg is offered but not the default);
* the tests the equal-service comparisons use (two proportions, Mann-Whitney, Welch t);
* means with t-intervals and a least-squares trend with its interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def _two_sided(z: float) -> float:
    """Two-sided normal tail probability (erfc: exact and fast, no scipy call per test)."""
    return math.erfc(abs(z) / math.sqrt(2))


def per_10k(count: float, population: float | None) -> float | None:
    """A count per 10,000 of a population; None when there is no population."""
    if not population:
        return None
    return count / population * 10_000


def representation_index(
    count: float, total: float, population: float, total_population: float
) -> float | None:
    """A group's share of the children served divided by its share of all children.

    1 means served in proportion; 2 means twice its share. Equal to the group's rate
    divided by the rate for all children when the totals are the same children.
    """
    if not total or not total_population or not population:
        return None
    return (count / total) / (population / total_population)


@dataclass(frozen=True)
class RatioEstimate:
    """A ratio of two rates with its 95% interval and the p-value of "the rates are equal"."""

    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    # True when 0.5 was added to each cell of the 2x2 table because one was zero.
    corrected: bool = False


_NONE = RatioEstimate(None, None, None, None)


def _interval(log_ratio: float, se: float) -> tuple[float, float]:
    return math.exp(log_ratio - Z95 * se), math.exp(log_ratio + Z95 * se)


def katz_ratio(a: float, n1: float, c: float, n2: float) -> RatioEstimate:
    """Ratio of the rates a/n1 and c/n2 (independent groups) with a Katz log interval.

    Katz et al. (1978): SE(ln RR) = sqrt(1/a - 1/n1 + 1/c - 1/n2); the interval is
    exp(ln RR +/- 1.96 SE). For rates per population the 1/n terms are tiny and this is the
    Poisson interval sqrt(1/a + 1/c). When a cell of the 2x2 table is zero (no one, or
    everyone, reached the stage) 0.5 is added to every cell so the interval exists (the
    ratio itself is reported uncorrected). The p-value is the pooled two-proportion score
    test (Pearson's chi-square on the same table): it does not collapse, as the Wald test
    on the Katz SE does, when a proportion is close to 0 or 1.
    """
    if n1 <= 0 or n2 <= 0 or a > n1 or c > n2 or (a == 0 and c == 0):
        return _NONE
    ratio = (a / n1) / (c / n2) if c else None
    p = two_proportion_test(a, n1, c, n2)
    corrected = a in (0, n1) or c in (0, n2)
    if corrected:
        a, c, n1, n2 = a + 0.5, c + 0.5, n1 + 1, n2 + 1
    log_ratio = math.log((a / n1) / (c / n2))
    se = math.sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    return RatioEstimate(ratio, *_interval(log_ratio, se), p, corrected)


def nested_ratio(a: float, n1: float, total: float, n: float) -> RatioEstimate:
    """Ratio of a group's rate a/n1 to the rate of everyone, total/n, the group included.

    The group is part of "all children", so the two rates are not independent and Katz's
    formula would overstate the uncertainty. The delta method with the covariance gives
    Var(ln RR) = (1-p1)/a + [a(1-p1) + b(1-p2)]/T^2 - 2(1-p1)/T, where b = T - a are the
    other children counted, p1 = a/n1 and p2 = b/(n-n1). The group's rate equals everyone's
    exactly when it equals the other children's, so the p-value is the two-proportion
    score test of the group against the rest.
    """
    if n1 <= 0 or n <= n1 or total <= 0 or a > total or a > n1:
        return _NONE
    ratio = (a / n1) / (total / n)
    p = two_proportion_test(a, n1, total - a, n - n1)
    corrected = a in (0, n1)
    if corrected:
        a, total, n1, n = a + 0.5, total + 0.5, n1 + 1, n + 1
    b = total - a
    p1 = a / n1
    p2 = b / (n - n1)
    var = (1 - p1) / a + (a * (1 - p1) + b * (1 - p2)) / total**2 - 2 * (1 - p1) / total
    log_ratio = math.log((a / n1) / (total / n))
    return RatioEstimate(ratio, *_interval(log_ratio, math.sqrt(max(var, 0.0))), p, corrected)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (family-wise error rate); None stays None.

    Sort the m p-values; the k-th smallest (k from 0) is multiplied by m - k, the running
    maximum keeps the order, and nothing exceeds 1. Rejecting where the adjusted p < alpha
    keeps the chance of any false flag in the family at most alpha.
    """
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for k, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - k) * p))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate); None stays None."""
    indexed = sorted(((p, i) for i, p in enumerate(p_values) if p is not None), reverse=True)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for k, (p, i) in enumerate(indexed):
        rank = m - k
        running = min(running, p * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def two_proportion_test(x1: float, n1: float, x2: float, n2: float) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (equivalent to chi-square 2x2)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return _two_sided(z)


def mann_whitney(values: Sequence[float], reference: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value (a group's waits against the reference group's)."""
    if not values or not reference:
        return None
    return float(stats.mannwhitneyu(values, reference, alternative="two-sided").pvalue)


def kruskal_wallis(groups: Sequence[Sequence[float]]) -> float | None:
    """Kruskal-Wallis p-value: do any of the groups differ (needs two non-empty groups)?"""
    used = [g for g in groups if len(g)]
    if len(used) < 2 or len({v for g in used for v in g}) < 2:
        return None
    return float(stats.kruskal(*used).pvalue)


def welch_t(values: Sequence[float], reference: Sequence[float]) -> float | None:
    """Two-sided Welch t-test p-value (unequal variances)."""
    if len(values) < 2 or len(reference) < 2:
        return None
    p = stats.ttest_ind(values, reference, equal_var=False).pvalue
    return None if math.isnan(p) else float(p)


@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its 95% t-interval."""

    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


def mean_ci(values: Sequence[float]) -> MeanEstimate:
    """Mean with a t-interval: mean +/- t(0.975, n-1) * sd / sqrt(n)."""
    n = len(values)
    if n == 0:
        return MeanEstimate(0, None, None, None)
    mean = sum(values) / n
    if n == 1:
        return MeanEstimate(1, mean, None, None)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return MeanEstimate(n, mean, mean - half, mean + half)


@dataclass(frozen=True)
class Trend:
    """A least-squares slope with its 95% interval and the p-value of slope = 0."""

    slope: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    points: int


def linear_trend(x: Sequence[float], y: Sequence[float]) -> Trend:
    """Ordinary least-squares slope of y on x, with a t-interval on n - 2 degrees of freedom."""
    n = len(x)
    if n < 3 or len(set(x)) < 2:
        return Trend(None, None, None, None, n)
    fit = stats.linregress(x, y)
    half = float(stats.t.ppf(0.975, n - 2)) * fit.stderr
    return Trend(
        float(fit.slope),
        float(fit.slope - half),
        float(fit.slope + half),
        float(fit.pvalue),
        n,
    )


__all__ = [
    "Z95",
    "MeanEstimate",
    "RatioEstimate",
    "Trend",
    "benjamini_hochberg",
    "holm",
    "katz_ratio",
    "kruskal_wallis",
    "linear_trend",
    "mann_whitney",
    "mean_ci",
    "nested_ratio",
    "per_10k",
    "representation_index",
    "two_proportion_test",
    "welch_t",
]
