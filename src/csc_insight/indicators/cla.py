"""Children looked after (DfE SSDA903), excluding care only under a series of short breaks."""

from __future__ import annotations

from typing import Any, ClassVar

import ibis

from csc_insight.indicators.dimensions import age_in_years
from csc_insight.indicators.expressions import (
    SHORT_BREAK_LEGAL_STATUSES,
    PeriodSeries,
    Placement,
    Span,
)
from csc_insight.indicators.registry import (
    Indicator,
    InPeriod,
    Placed,
    Polarity,
    Statistic,
    Tables,
    Unit,
    register,
)

# Reasons an episode ends without the child leaving care (a new episode follows).
STILL_IN_CARE = ("X1",)
# A strengths and difficulties score of 17 or more is a cause for concern.
SDQ_CONCERN = 17
DISTANT_MILES = 20


def episodes(t: Tables) -> ibis.Table:
    """Looked-after episodes other than short-break-only care."""
    e = t.cla_episodes
    return e.filter(~e.ls.isin(SHORT_BREAK_LEGAL_STATUSES))


def _one_per_child(e: ibis.Table, order_by: list[Any], keys: list[str]) -> ibis.Table:
    """The first episode of each child (in each group of ``keys``) in the given order."""
    window = ibis.window(group_by=[*keys, "la_code", "child_id"], order_by=order_by)
    e = e.mutate(_occasion=ibis.row_number().over(window))
    return e.filter(e._occasion == 0).drop("_occasion")


class _LookedAfterAt31March(InPeriod):
    """Children looked after at the end of the period."""

    tables: ClassVar[tuple[str, ...]] = ("cla_episodes",)
    dfe_table = "cla_number_and_rate_per_10k_children"
    per_child = True
    span = Span.OPEN_AT_END
    dates = ("decom", "dec")

    def candidates(self, t: Tables) -> ibis.Table:
        return episodes(t)


@register
class ChildrenLookedAfterAt31March(_LookedAfterAt31March):
    """Children looked after at the end of the period."""

    id = "cla.children_31mar"
    title = "Children looked after at 31 March"
    definition = (
        "Children looked after on the last day of the period, excluding children looked "
        "after only under a series of short breaks (legal status V3 or V4)."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER


@register
class LookedAfterRate(_LookedAfterAt31March):
    """Children looked after at the end of the period per 10,000 children."""

    id = "cla.rate_31mar"
    title = "Children looked after at 31 March, rate"
    definition = (
        "Children looked after on the last day of the period per 10,000 children aged 0 to "
        "17, excluding short-break-only care."
    )
    unit = Unit.RATE_PER_10K
    polarity = Polarity.NEITHER
    statistic = Statistic.RATE
    tables = ("cla_episodes", "population")


@register
class ChildrenStartedToBeLookedAfter(InPeriod):
    """Children who started to be looked after in the period."""

    id = "cla.started"
    title = "Children who started to be looked after"
    definition = (
        "Children with a new period of care (episode with reason for new episode S) starting "
        "in the period, excluding short-break-only care."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    tables = ("cla_episodes",)
    dfe_table = "cla_number_and_rate_per_10k_children"
    per_child = True
    age_at = "decom"
    dates = ("decom",)

    def candidates(self, t: Tables) -> ibis.Table:
        e = episodes(t)
        return e.filter(e.rne == "S")

    def within(self, records: ibis.Table, keys: list[str], end: ibis.Value) -> ibis.Table:
        # DfE counts only the first occasion a child started in the year (ages are then).
        return _one_per_child(records, [records.decom], keys)


@register
class ChildrenCeasedToBeLookedAfter(InPeriod):
    """Children who ceased to be looked after in the period."""

    id = "cla.ceased"
    title = "Children who ceased to be looked after"
    definition = (
        "Children whose period of care ended in the period (an episode ceased for any reason "
        "other than X1, a change within care), excluding short-break-only care."
    )
    unit = Unit.COUNT
    polarity = Polarity.NEITHER
    tables = ("cla_episodes",)
    dfe_table = "cla_number_and_rate_per_10k_children"
    per_child = True
    age_at = "dec"
    dates = ("dec",)

    def candidates(self, t: Tables) -> ibis.Table:
        e = episodes(t)
        return e.filter(~e.rec.fill_null("").isin(STILL_IN_CARE))

    def within(self, records: ibis.Table, keys: list[str], end: ibis.Value) -> ibis.Table:
        # DfE counts only the last occasion a child ceased in the year (ages are then).
        return _one_per_child(records, [records.dec.desc(), records.decom.desc()], keys)


class _PerChildAt31March(Placed):
    """One row per child looked after at 31 March, with facts about their year."""

    tables: ClassVar[tuple[str, ...]] = ("cla_episodes",)
    dfe_table = "la_cla_placement_stability"

    def at_31_march(self, t: Tables, at: Placement) -> ibis.Table:
        e = at.place(episodes(t), Span.OPEN_AT_END, ("decom", "dec"))
        return e.select(*at.keys, "la_code", "child_id").distinct()


@register
class ThreeOrMorePlacements(_PerChildAt31March):
    """Share of children looked after at 31 March with three or more placements in the year."""

    id = "cla.placements_3plus_pct"
    title = "Children looked after with three or more placements"
    definition = (
        "Children looked after at 31 March who had three or more placements during the "
        "year, as a percentage of children looked after at 31 March. An episode that only "
        "changes legal status (reason for new episode L) is not a new placement."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE

    def placed(self, t: Tables, at: Placement) -> ibis.Table:
        year = at.place(episodes(t), Span.OVERLAPS, ("decom", "dec"))
        new_placement = ~((year.rne == "L") & (year.decom >= at.start(year)))
        keys = [*at.keys, "la_code", "child_id"]
        counts = year.filter(new_placement).group_by(keys).aggregate(placements=ibis._.count())
        joined = self.at_31_march(t, at).left_join(counts, keys)
        return joined.mutate(hit=joined.placements.fill_null(0) >= 3)


@register
class LongTermStability(_PerChildAt31March):
    """Share of long-term looked-after children under 16 in the same placement two years."""

    id = "cla.long_term_stability_pct"
    title = "Long-term placement stability"
    definition = (
        "Children aged under 16 at 31 March who had been looked after for two and a half "
        "years or more and had been in the same placement for two years or more, as a "
        "percentage of children under 16 looked after for two and a half years or more."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    statistic = Statistic.SHARE
    tables = ("cla_episodes", "children")

    def series_records(self, t: Tables, series: PeriodSeries) -> ibis.Table:
        # Each period's records unioned rather than joined: every episode would join every
        # later period (most of five years of history, 60 times over), which measured
        # slower on DuckDB than aggregating each period's history separately.
        return Indicator.series_records(self, t, series)

    def placed(self, t: Tables, at: Placement) -> ibis.Table:
        e = at.place(episodes(t), Span.BEGUN, ("decom",))
        keys = [*at.keys, "la_code", "child_id"]
        starts = e.group_by(keys).aggregate(
            care_start=e.decom.max(where=e.rne == "S"),
            placement_start=e.decom.max(where=e.rne != "L"),
        )
        kids = self.at_31_march(t, at).join(starts, keys)
        c = t.children.select("la_code", "child_id", "date_of_birth")
        kids = kids.left_join(c, ["la_code", "child_id"])
        end = at.end(kids)
        under_16 = age_in_years(kids.date_of_birth, end) < 16
        long_term = kids.care_start + ibis.interval(months=30) <= end
        kids = kids.filter(under_16 & long_term)
        return kids.mutate(hit=kids.placement_start + ibis.interval(years=2) <= end)


@register
class PlacedOver20Miles(InPeriod):
    """Share of children looked after at 31 March placed more than 20 miles from home."""

    id = "cla.placed_20_miles_pct"
    title = "Placed more than 20 miles from home"
    definition = (
        "Children looked after at 31 March placed more than 20 miles from their home, as a "
        "percentage of those whose placement distance is known (it needs a placement "
        "distance from the 903 XML or Annex A)."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE
    tables = ("cla_episodes",)
    dfe_table = "la_cla_during_year_new_placements"
    span = Span.OPEN_AT_END
    dates = ("decom", "dec")

    def candidates(self, t: Tables) -> ibis.Table:
        e = episodes(t)
        e = e.filter(e.placement_distance_miles.notnull())
        return e.mutate(hit=e.placement_distance_miles > DISTANT_MILES)


@register
class WentMissing(Placed):
    """Share of children looked after during the year who went missing."""

    id = "cla.missing_pct"
    title = "Children looked after who went missing"
    definition = (
        "Children looked after at any point in the period who had at least one missing "
        "incident (missing type M) starting in the period, as a percentage of children looked "
        "after during the period."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE
    tables = ("cla_episodes", "missing")
    dfe_table = "cla_missing"

    def placed(self, t: Tables, at: Placement) -> ibis.Table:
        keys = [*at.keys, "la_code", "child_id"]
        kids = at.place(episodes(t), Span.OVERLAPS, ("decom", "dec")).select(*keys).distinct()
        m = t.missing
        went = (
            at.place(m.filter(m.missing_type.upper() == "M"), Span.DATED, ("start_date",))
            .select(*keys)
            .distinct()
            .mutate(hit=ibis.literal(True))
        )
        joined = kids.left_join(went, keys)
        return joined.mutate(hit=joined.hit.fill_null(False))


class _Outcomes(InPeriod):
    """OC2 outcomes for children looked after continuously for 12 months at 31 March."""

    tables: ClassVar[tuple[str, ...]] = ("oc2",)
    dfe_table = "cla_outcomes"
    span = Span.RETURN_YEAR
    dates = ("collection_year",)

    def candidates(self, t: Tables) -> ibis.Table:
        return t.oc2


@register
class HealthAssessments(_Outcomes):
    """Share of children looked after 12 months whose annual health assessment is up to date."""

    id = "cla.health_check_pct"
    title = "Health assessments up to date"
    definition = (
        "Children looked after continuously for 12 months at 31 March whose annual health "
        "assessment was up to date, as a percentage of those children."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.mutate(hit=o.health_assessment.fill_null(False))


@register
class DentalChecks(_Outcomes):
    """Share of children looked after 12 months who had a dental check."""

    id = "cla.dental_check_pct"
    title = "Dental checks"
    definition = (
        "Children looked after continuously for 12 months at 31 March who had their teeth "
        "checked by a dentist during the year, as a percentage of those children."
    )
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.mutate(hit=o.teeth_check.fill_null(False))


class _Scored(_Outcomes):
    """Children with a strengths and difficulties questionnaire score."""

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.filter(o.sdq_score.notnull() & o.sdq_score.between(0, 40))


@register
class MeanSdqScore(_Scored):
    """Average strengths and difficulties questionnaire score."""

    id = "cla.sdq_mean"
    title = "Average SDQ score"
    definition = (
        "Mean strengths and difficulties questionnaire total score (0 to 40) of children "
        "aged 4 to 16 looked after continuously for 12 months at 31 March who have a score."
    )
    unit = Unit.SCORE
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.MEAN

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.mutate(value=o.sdq_score.cast("float64"))


@register
class SdqConcern(_Scored):
    """Share of scored children whose SDQ score is a cause for concern."""

    id = "cla.sdq_concern_pct"
    title = "SDQ score a cause for concern"
    definition = (
        "Children with a strengths and difficulties questionnaire score of 17 or more (a "
        "cause for concern), as a percentage of children with a score."
    )
    unit = Unit.PERCENT
    polarity = Polarity.LOWER_IS_BETTER
    statistic = Statistic.SHARE

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.mutate(hit=o.sdq_score >= SDQ_CONCERN)
