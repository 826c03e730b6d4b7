"""Areas of concern and of improvement, found automatically: ``find`` for a period.

* ``spc``: control charts (p-chart for percentages, XmR otherwise) and the three rules;
* ``series``: indicator values month by month and year by year, computed once per call;
* ``detect``: evidence from targets, control charts, benchmarks, equity, impact and data
  quality, gathered per indicator, ranked and said in plain English.
"""

from __future__ import annotations

from csc_insight.concerns.detect import (
    AREAS,
    CONCERN,
    IMPROVEMENT,
    SOURCES,
    Coverage,
    DataQuality,
    Evidence,
    Finding,
    Findings,
    area,
    find,
)
from csc_insight.concerns.series import Figures, MonthlySeries

__all__ = [
    "AREAS",
    "CONCERN",
    "IMPROVEMENT",
    "SOURCES",
    "Coverage",
    "DataQuality",
    "Evidence",
    "Figures",
    "Finding",
    "Findings",
    "MonthlySeries",
    "area",
    "find",
]
