"""Care leavers aged 17 to 21 (DfE SSDA903 OC3)."""

from __future__ import annotations

from typing import ClassVar

import ibis

from csc_insight.indicators.dimensions import age_in_years
from csc_insight.indicators.expressions import Span
from csc_insight.indicators.registry import (
    InPeriod,
    Polarity,
    Statistic,
    Tables,
    Unit,
    register,
)

IN_EDUCATION_EMPLOYMENT_OR_TRAINING = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5")


class _CareLeavers(InPeriod):
    """Care leavers in the return for the year, with their age group at their birthday."""

    tables: ClassVar[tuple[str, ...]] = ("care_leavers", "children")
    statistic = Statistic.SHARE
    unit = Unit.PERCENT
    polarity = Polarity.HIGHER_IS_BETTER
    record_dimensions: ClassVar[tuple[str, ...]] = ("leaver_age",)
    span = Span.RETURN_YEAR
    dates = ("collection_year",)

    def candidates(self, t: Tables) -> ibis.Table:
        c = t.children.select("la_code", "child_id", "date_of_birth")
        return t.care_leavers.left_join(c, ["la_code", "child_id"])

    def within(self, records: ibis.Table, keys: list[str], end: ibis.Value) -> ibis.Table:
        # Age on 31 March is the age reached at the birthday the return describes.
        age = age_in_years(records.date_of_birth, end)
        group = ibis.cases(
            (age.between(17, 18), "17 to 18"), (age.between(19, 21), "19 to 21"), else_="Other"
        )
        return records.mutate(leaver_age=group)


@register
class InTouch(_CareLeavers):
    """Share of care leavers the authority is in touch with."""

    id = "leavers.in_touch_pct"
    title = "Care leavers in touch"
    definition = (
        "Care leavers aged 17 to 21 in the return for the year with whom the authority was in "
        "touch around their birthday, as a percentage of those care leavers (break down by "
        "leaver_age for DfE's 17 to 18 and 19 to 21 groups)."
    )
    dfe_table = "la_care_leavers_activity"

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.mutate(hit=o.in_touch.upper() == "YES")


@register
class InEducationEmploymentOrTraining(_CareLeavers):
    """Share of care leavers in education, employment or training."""

    id = "leavers.eet_pct"
    title = "Care leavers in education, employment or training"
    definition = (
        "Care leavers aged 17 to 21 in education, employment or training around their "
        "birthday, as a percentage of care leavers in the return."
    )
    dfe_table = "la_care_leavers_activity"

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        return o.mutate(hit=o.activity.upper().isin(IN_EDUCATION_EMPLOYMENT_OR_TRAINING))


@register
class SuitableAccommodation(_CareLeavers):
    """Share of care leavers in suitable accommodation."""

    id = "leavers.suitable_accom_pct"
    title = "Care leavers in suitable accommodation"
    definition = (
        "Care leavers aged 17 to 21 whose accommodation was suitable (accommodation code "
        "ending in 1), as a percentage of care leavers in the return."
    )
    dfe_table = "la_care_leavers_accommodation_suitability"

    def candidates(self, t: Tables) -> ibis.Table:
        o = super().candidates(t)
        code = o.accommodation.fill_null("").strip()
        return o.mutate(hit=(code.length() == 2) & code.endswith("1"))
