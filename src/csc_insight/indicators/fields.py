"""Which fields of which tables each indicator really needs ("useful data before big data").

Worked out rather than declared, so it cannot go stale: an indicator's records are built
against schema-only tables with one column taken away at a time; a column whose absence
breaks the expression is one the indicator needs.
"""

from __future__ import annotations

from functools import cache

import ibis

from csc_insight.indicators.periods import financial_year
from csc_insight.indicators.registry import REGISTRY, Indicator
from csc_insight.warehouse.model import LINEAGE, table

_LINEAGE = {c.name for c in LINEAGE}
_PROBE_PERIOD = financial_year(2024)


class _SchemaTables:
    """Schema-only canonical tables, optionally without one column of one table."""

    def __init__(self, without: tuple[str, str] | None = None) -> None:
        self._without = without

    def __getattr__(self, name: str) -> ibis.Table:
        schema = dict(table(name).schema().items())
        if self._without and self._without[0] == name:
            schema.pop(self._without[1])
        return ibis.table(schema, name=name)


def _builds(indicator: Indicator, tables: _SchemaTables) -> bool:
    try:
        indicator.records(tables, _PROBE_PERIOD)  # type: ignore[arg-type]
    except (AttributeError, KeyError, ibis.common.exceptions.IbisError):
        return False
    return True


@cache
def fields_needed(indicator_id: str) -> dict[str, tuple[str, ...]]:
    """{table: columns} the indicator cannot be computed without (lineage left out)."""
    indicator = REGISTRY[indicator_id]
    if indicator.child_level:
        return dict(indicator.child_level_fields)
    needed: dict[str, tuple[str, ...]] = {}
    for name in indicator.tables:
        if name == "population":
            needed[name] = ("la_code", "year", "age_band", "population")
            continue
        columns = [
            c.name
            for c in table(name).columns
            if c.name not in _LINEAGE
            and (
                (indicator.per_child and c.name in ("la_code", "child_id"))
                or not _builds(indicator, _SchemaTables((name, c.name)))
            )
        ]
        needed[name] = tuple(columns)
    return needed
