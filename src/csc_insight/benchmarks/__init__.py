"""Benchmarking: the authority's indicators beside DfE's published figures.

* ``published``: import DfE's Explore Education Statistics tables, the ONS child population
  and the statistical-neighbour groupings into the warehouse (``csc-insight benchmarks
  import``);
* ``mapping``: which published figure each local indicator is compared with, and where the
  definitions differ;
* ``compare``: England, region, statistical neighbours, rank, quartile band and trend for the
  authority's own LA code (``csc-insight benchmarks show``);
* ``view``: tidy tables and Vega-Lite chart specs for the dashboard and reports.

The published files are never bundled: docs/benchmarking.md says where to download them.
"""

from __future__ import annotations

from csc_insight.benchmarks.compare import Comparison, Neighbour, authority_code, compare
from csc_insight.benchmarks.mapping import BENCHMARKS, BENCHMARKS_BY_ID, Benchmark
from csc_insight.benchmarks.published import SYMBOLS, ImportReport, import_files

__all__ = [
    "BENCHMARKS",
    "BENCHMARKS_BY_ID",
    "SYMBOLS",
    "Benchmark",
    "Comparison",
    "ImportReport",
    "Neighbour",
    "authority_code",
    "compare",
    "import_files",
]
