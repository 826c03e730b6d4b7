"""Did an action's indicators move? Months before it against months since, tested.

For each indicator an action is linked to: the months before the action's effect month (up
to ``BEFORE_MONTHS``) are compared with the months from it to the end of the pack's period.
Percentages pool their numerators and denominators and are compared with a two-proportion
z-test; other figures compare the monthly values with Welch's t-test. A difference with
p < 0.05 is "improved" or "worsened" (given which direction is better; "rose" or "fell"
where neither is); otherwise "no clear change". With no month of data since the action,
it is "too early to tell". This says whether the figure moved, not that the action moved
it: other things change too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csc_insight.actions.plan import Action
from csc_insight.concerns import words
from csc_insight.concerns.series import Figures, MonthlySeries, months_ending
from csc_insight.indicators import REGISTRY
from csc_insight.indicators.periods import Period, month, parse
from csc_insight.indicators.registry import Polarity

BEFORE_MONTHS = 6
AFTER_MONTHS = 12
ALPHA = 0.05
IMPROVED = "improved"
WORSENED = "worsened"
ROSE = "rose"
FELL = "fell"
NO_CLEAR_CHANGE = "no clear change"
TOO_EARLY = "too early to tell"


@dataclass(frozen=True)
class Movement:
    """How one linked indicator moved since an action started."""

    indicator_id: str
    title: str
    unit: str
    before: float | None
    after: float | None
    before_months: list[str]
    after_months: list[str]
    p_value: float | None
    verdict: str
    sentence: str
    suppressed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicator_id": self.indicator_id,
            "title": self.title,
            "unit": self.unit,
            "before": self.before,
            "after": self.after,
            "before_months": self.before_months,
            "after_months": self.after_months,
            "p_value": self.p_value,
            "verdict": self.verdict,
            "sentence": self.sentence,
        }


def _span(first: Period, last: Period) -> list[Period]:
    if first.start > last.start:
        return []
    count = (last.start.year - first.start.year) * 12 + last.start.month - first.start.month + 1
    return months_ending(last, count)


def _pooled(nums: list[float | None], dens: list[float | None]) -> tuple[float, float]:
    x = sum(n or 0.0 for n, d in zip(nums, dens, strict=True) if d)
    n = sum(d or 0.0 for d in dens if d)
    return x, n


def _verdict(change: float, p: float | None, polarity: str) -> str:
    if p is None or p >= ALPHA or change == 0:
        return NO_CLEAR_CHANGE
    if polarity == Polarity.NEITHER:
        return ROSE if change > 0 else FELL
    better = (change < 0) == (polarity == Polarity.LOWER_IS_BETTER)
    return IMPROVED if better else WORSENED


def movement(
    action: Action,
    figures: Figures,
    period: str,
    audience: str = "analyst",
    threshold: int = 5,
) -> list[Movement]:
    """How each of the action's indicators moved from before it to the end of ``period``."""
    from csc_insight.analysis.equity_stats import two_proportion_test, welch_t

    end = month(parse(period).end.year, parse(period).end.month)
    start_label = action.measured_from
    start = parse(start_label)
    out: list[Movement] = []
    for indicator_id in action.indicator_ids:
        ind = REGISTRY.get(indicator_id)
        if ind is None or ind.child_level:
            continue
        unit, polarity = str(ind.unit), str(ind.polarity)
        before_spans = months_ending(start, BEFORE_MONTHS + 1)[:-1]
        after_spans = _span(start, end)[-AFTER_MONTHS:] if start.start <= end.start else []
        if not after_spans:
            out.append(
                Movement(
                    indicator_id,
                    ind.title,
                    unit,
                    None,
                    None,
                    [m.label for m in before_spans],
                    [],
                    None,
                    TOO_EARLY,
                    f"{ind.title}: too early to tell; the data runs to "
                    f"{words.month_name(end.label)}, before the action's start "
                    f"({words.month_name(start_label)}).",
                )
            )
            continue
        series = figures.monthly(end, [indicator_id], _months_back(before_spans[0], end))
        s = series[indicator_id]

        b_vals, b_nums, b_dens = _pick(s, before_spans)
        a_vals, a_nums, a_dens = _pick(s, after_spans)
        before = after = p = None
        small = False
        if unit == "percent" and any(b_dens) and any(a_dens):
            bx, bn = _pooled(b_nums, b_dens)
            ax, an = _pooled(a_nums, a_dens)
            if bn and an:
                before, after = 100 * bx / bn, 100 * ax / an
                p = two_proportion_test(ax, an, bx, bn)
                small = any(0 < v <= threshold for v in (bx, bn, ax, an))
        else:
            bv = [v for v in b_vals if v is not None]
            av = [v for v in a_vals if v is not None]
            if bv and av:
                before, after = sum(bv) / len(bv), sum(av) / len(av)
                p = welch_t(av, bv) if len(av) >= 2 and len(bv) >= 2 else None
        hidden = audience == "viewer" and small
        if before is None or after is None:
            verdict = TOO_EARLY if not any(v is not None for v in a_vals) else NO_CLEAR_CHANGE
            sentence = f"{ind.title}: not enough data either side of the action to compare."
        else:
            verdict = _verdict(after - before, p, polarity)
            b_text = words.value(before, unit, hidden)
            a_text = words.value(after, unit, hidden)
            sentence = (
                f"{ind.title}: {b_text} in the {len(before_spans)} months before "
                f"{words.month_name(start_label)}, {a_text} in the {len(after_spans)} "
                f"month{'s' if len(after_spans) != 1 else ''} since ({verdict}"
                f"{'' if p is None else f', p = {p:.3f}' if p >= 0.001 else ', p < 0.001'})."
            )
        out.append(
            Movement(
                indicator_id,
                ind.title,
                unit,
                None if hidden else before,
                None if hidden else after,
                [m.label for m in before_spans],
                [m.label for m in after_spans],
                p,
                verdict,
                sentence,
                hidden,
            )
        )
    return out


def _pick(s: MonthlySeries, spans: list[Period]) -> tuple[list[float | None], ...]:
    """Values, numerators and denominators of the series in these months."""
    idx = [s.labels.index(p.label) for p in spans if p.label in s.labels]
    return (
        [s.values[i] for i in idx],
        [s.numerators[i] for i in idx],
        [s.denominators[i] for i in idx],
    )


def _months_back(first: Period, end: Period) -> int:
    return (end.start.year - first.start.year) * 12 + end.start.month - first.start.month + 1


__all__ = [
    "AFTER_MONTHS",
    "BEFORE_MONTHS",
    "FELL",
    "IMPROVED",
    "NO_CLEAR_CHANGE",
    "ROSE",
    "TOO_EARLY",
    "WORSENED",
    "Movement",
    "movement",
]
