"""The indicator registry: every measure is one small class, registered here.

Built-in families register through ``register`` exactly as an extension would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import ibis
import ibis.expr.types as ir

from csc_insight.indicators.periods import Period
from csc_insight.warehouse.store import Warehouse


class Unit(StrEnum):
    """How a value is expressed."""

    COUNT = "count"
    PERCENT = "percent"
    RATE_PER_10K = "rate_per_10k"
    DAYS = "days"
    WORKING_DAYS = "working_days"


class Polarity(StrEnum):
    """Which direction is better."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEITHER = "neither"


class Tables:
    """Lazy access to canonical tables for indicator expressions."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    def __getattr__(self, name: str) -> ibis.Table:
        return self._warehouse.table(name)


class Indicator:
    """A measure: numerator over denominator (or a single statistic) for a period."""

    id: ClassVar[str]
    title: ClassVar[str]
    definition: ClassVar[str]
    unit: ClassVar[Unit]
    polarity: ClassVar[Polarity]
    dfe_table: ClassVar[str | None] = None
    tables: ClassVar[tuple[str, ...]] = ()

    def numerator(self, t: Tables, period: Period) -> ir.Scalar:
        """The count or statistic on top."""
        raise NotImplementedError

    def denominator(self, t: Tables, period: Period) -> ir.Scalar | None:
        """What the numerator is divided by; None for counts and single statistics."""
        return None


REGISTRY: dict[str, Indicator] = {}


def register(cls: type[Indicator]) -> type[Indicator]:
    """Add an indicator class to the registry (its id must be new)."""
    if cls.id in REGISTRY:
        raise ValueError(f"indicator {cls.id} is registered twice")
    for attr in ("title", "definition", "unit", "polarity"):
        if not getattr(cls, attr, None):
            raise ValueError(f"indicator {cls.id} has no {attr}")
    REGISTRY[cls.id] = cls()
    return cls


@dataclass(frozen=True)
class IndicatorResult:
    """One computed value, ready for a table, a chart or JSON."""

    id: str
    title: str
    definition: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    polarity: str
    breakdown: dict[str, str] | None = None
    suppressed: bool = False


ValueFn = Callable[[float | None, float | None], float | None]


def ratio_value(unit: Unit) -> ValueFn:
    """How a numerator and denominator become the reported value for a unit."""

    def value(num: float | None, den: float | None) -> float | None:
        if num is None:
            return None
        if unit in (Unit.PERCENT, Unit.RATE_PER_10K):
            if not den:
                return None
            return num / den * (100 if unit is Unit.PERCENT else 10_000)
        return num

    return value
