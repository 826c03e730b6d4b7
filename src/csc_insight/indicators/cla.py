"""Children looked after (DfE SSDA903 tables), excluding short-break-only care."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from csc_insight.indicators.expressions import SHORT_BREAK_LEGAL_STATUSES, during, open_at
from csc_insight.indicators.periods import Period
from csc_insight.indicators.registry import Indicator, Polarity, Tables, Unit, register


def _episodes(t: Tables) -> ibis.Table:
    e = t.cla_episodes
    return e.filter(~e.ls.isin(SHORT_BREAK_LEGAL_STATUSES))


@register
class ChildrenLookedAfterAt31March(Indicator):
    """Children looked after at the end of the period."""

    id = "cla.children_31mar"
    title = "Children looked after at 31 March"
    definition = (
        "Children looked after on the last day of the period, excluding children looked "
        "after only under a series of short breaks (legal status V3 or V4)."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    dfe_table = "cla_number_and_rate_per_10k_children"
    tables = ("cla_episodes",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        e = _episodes(t)
        e = e.filter(open_at(e.decom, e.dec, period.end))
        return e.select("la_code", "child_id").distinct().count()


@register
class ChildrenStartedToBeLookedAfter(Indicator):
    """Children who started to be looked after in the period."""

    id = "cla.started"
    title = "Children who started to be looked after"
    definition = (
        "Children with a new period of care (episode with reason for new episode S) starting "
        "in the period, excluding short-break-only care."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    dfe_table = "cla_number_and_rate_per_10k_children"
    tables = ("cla_episodes",)

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        e = _episodes(t)
        e = e.filter((e.rne == "S") & during(e.decom, period))
        return e.select("la_code", "child_id").distinct().count()
