"""Adoption (DfE SSDA903 and the adoption scorecard measures A1 and A2)."""

from __future__ import annotations

from typing import ClassVar

import ibis

from csc_insight.indicators.cla import episodes
from csc_insight.indicators.expressions import Bounds, Window, as_date, days_between
from csc_insight.indicators.registry import (
    InPeriod,
    Polarity,
    Statistic,
    Tables,
    Unit,
    register,
)

ADOPTED = ("E11", "E12")
PLACED_FOR_ADOPTION = ("A5", "A6")
PLACED_WITH_FOSTER_CARERS = ("A3", "A4")  # placed for adoption with current foster carers
PLACEMENT_ORDER = "E1"
SCORECARD_YEARS = 3


def adopted_children(t: Tables) -> ibis.Table:
    """Children adopted (a row per adoption), with their dates of entering care and placement.

    Entering care is the start (RNE S) of the period of care ending in adoption; moving in
    with the adoptive family is the first adoptive placement (A5/A6) in that period, or the
    start of the foster placement that became adoptive for a foster carer adoption.
    """
    e = episodes(t)
    adopted = e.filter(e.rec.isin(ADOPTED)).select("la_code", "child_id", adopted_on=e.dec)
    history = e.join(adopted, ["la_code", "child_id"])
    history = history.filter(history.decom <= history.adopted_on)
    keys = ["la_code", "child_id", "adopted_on"]
    per_child = history.group_by(keys).aggregate(
        entered_care=history.decom.max(where=history.rne == "S"),
        adoptive=history.decom.min(where=history.place.isin(PLACED_FOR_ADOPTION)),
        with_carers=history.decom.min(where=history.place.isin(PLACED_WITH_FOSTER_CARERS)),
        placement_order=history.decom.min(where=history.ls == PLACEMENT_ORDER),
    )
    # A child adopted by its foster carers moved in with its adoptive family when it moved in
    # with those carers: the start of the placement just before it became adoptive (A3/A4).
    marked = history.join(per_child.select(*keys, "with_carers"), keys)
    carers_start = marked.group_by(keys).aggregate(
        carers_start=marked.decom.max(
            where=(marked.decom < marked.with_carers)
            & (marked.rne != "L")
            & ~marked.place.isin(PLACED_FOR_ADOPTION + PLACED_WITH_FOSTER_CARERS)
        )
    )
    per_child = per_child.left_join(carers_start, keys)
    by_carers = per_child.with_carers.notnull() & (
        per_child.adoptive.isnull() | (per_child.with_carers < per_child.adoptive)
    )
    per_child = per_child.mutate(
        placed=ibis.ifelse(
            by_carers,
            ibis.coalesce(per_child.carers_start, per_child.with_carers),
            per_child.adoptive,
        )
    ).select(*keys, "entered_care", "placed", "placement_order")
    a = t.adoptions.select("la_code", "child_id", "date_match", "foster_care")
    return per_child.left_join(a, ["la_code", "child_id"])


def scorecard_window(period: Bounds) -> Bounds:
    """The three years ending with the period, as the adoption scorecard averages them.

    Three years back from the day after the period ends, so a quarter or a month still
    averages over 36 months (1 April 2022 to 31 March 2025 for 2024-25 and for its Q4).
    """
    end = as_date(period.end)
    return Window((end + ibis.interval(days=1)) - ibis.interval(years=SCORECARD_YEARS), end)


class _Scorecard(InPeriod):
    """Children adopted in the three years ending with the period (adoption scorecard)."""

    unit = Unit.DAYS
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.MEAN
    tables: ClassVar[tuple[str, ...]] = ("cla_episodes", "adoptions")
    dfe_table = "national_cla_adopted_average_time_between_adoption_process_stages"
    dates = ("adopted_on",)

    def reach(self, period: Bounds) -> Bounds:
        return scorecard_window(period)


@register
class ChildrenAdopted(InPeriod):
    """Children adopted in the period."""

    id = "adoption.adopted"
    title = "Children adopted"
    definition = "Children who left care through an adoption order (E11 or E12) in the period."
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    tables = ("cla_episodes",)
    dfe_table = "cla_ceased"
    per_child = True
    age_at = "dec"
    dates = ("dec",)

    def candidates(self, t: Tables) -> ibis.Table:
        e = episodes(t)
        return e.filter(e.rec.isin(ADOPTED))


@register
class EnteringCareToAdoptivePlacement(_Scorecard):
    """A1: average days from entering care to moving in with the adoptive family."""

    id = "adoption.a1_days"
    title = "A1: entering care to moving in with the adoptive family"
    definition = (
        "Average days between a child entering care and moving in with their adoptive "
        "family, for children adopted in the three years ending with the period (adoption "
        "scorecard A1)."
    )

    def candidates(self, t: Tables) -> ibis.Table:
        a = adopted_children(t)
        a = a.filter(a.entered_care.notnull() & a.placed.notnull())
        return a.mutate(value=days_between(a.entered_care, a.placed).cast("float64"))


@register
class AuthorityToPlaceToMatch(_Scorecard):
    """A2: average days from court authority to place to the match with adopters."""

    id = "adoption.a2_days"
    title = "A2: placement order to match with adoptive family"
    definition = (
        "Average days between the authority receiving court authority to place a child "
        "(placement order, legal status E1) and deciding on a match with an adoptive family, "
        "for children adopted in the three years ending with the period (adoption scorecard "
        "A2)."
    )

    def candidates(self, t: Tables) -> ibis.Table:
        a = adopted_children(t)
        a = a.filter(a.placement_order.notnull() & a.date_match.notnull())
        return a.mutate(value=days_between(a.placement_order, a.date_match).cast("float64"))
