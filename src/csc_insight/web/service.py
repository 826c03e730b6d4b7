"""The data behind the pages: computed once per data load, cached, shared by every request.

Indicators take seconds to compute on a large authority, so every figure a page needs is
computed once per data version (the latest ``load_id`` and the latest validation run) and
kept in memory; a new load or validation run starts a fresh cache. Concurrent requests for
the same figure wait for one computation instead of each starting their own. A background
thread works out the overview (the latest year, and its 12 monthly trend points together in
one batch) after start and after every load, so the first visitor does not wait.

Each thread keeps its own warehouse connection (DuckDB serves several connections in one
process, and each read sees the last committed load: a load in progress is invisible until
it commits).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from csc_insight.indicators import REGISTRY, IndicatorResult, latest_period, targets
from csc_insight.indicators.compute import (
    compute_for,
    compute_indicator,
    compute_series_for,
    dimensions_for,
)
from csc_insight.indicators.dimensions import with_child_dimensions
from csc_insight.indicators.escalation import candidates
from csc_insight.indicators.periods import Period, months_between, parse
from csc_insight.indicators.registry import Statistic, Tables
from csc_insight.privacy.disclosure import suppress
from csc_insight.warehouse.model import FACT_TABLES, TABLES
from csc_insight.warehouse.store import Warehouse

log = logging.getLogger(__name__)
T = TypeVar("T")
FILTER_DIMENSIONS = ("team", "locality", "service")
POPULATION_DIMS = frozenset({"sex", "age_band", "ethnic_group", "ethnicity", "locality"})
CACHE_ENTRIES = 2000
VERSION_TTL_SECONDS = 1.0
# How long a page waits for an analysis before saying it is being worked out.
ANALYSIS_WAIT_SECONDS = 3.0
# How long the API waits for one (API callers such as Power BI would rather wait).
API_WAIT_SECONDS = 300.0
FACT_TABLE_NAMES = frozenset(t.name for t in FACT_TABLES)


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the view to; every field comes from the URL."""

    period: str | None = None
    team: str | None = None
    locality: str | None = None
    service: str | None = None

    def dims(self) -> list[str]:
        return [d for d in FILTER_DIMENSIONS if getattr(self, d)]

    def values(self) -> dict[str, str]:
        return {d: str(getattr(self, d)) for d in self.dims()}

    def query(self, **override: str | None) -> dict[str, str]:
        """URL query parameters for these filters (with some replaced)."""
        out = {k: v for k, v in {"period": self.period, **self.values()}.items() if v}
        for k, v in override.items():
            if v:
                out[k] = v
            else:
                out.pop(k, None)
        return out


@dataclass(frozen=True)
class Choices:
    """What the filters offer, from the loaded data."""

    periods: list[tuple[str, str]]
    teams: list[str]
    localities: list[str]
    services: list[str]


@dataclass(frozen=True)
class TableCount:
    """Rows in one canonical table, with what the table holds."""

    name: str
    description: str
    rows: int
    about_children: bool


def period_text(period: Period) -> str:
    """A period in words: 'Financial year 2024-25', 'June 2024', '2024-25 Q1 (April to June)'."""
    label = period.label
    if label.startswith("12m to"):
        return f"12 months to {period.end:%B %Y}"
    if "Q" in label:
        return f"{label} ({period.start:%B} to {period.end:%B %Y})"
    if period.start.month == period.end.month and period.start.year == period.end.year:
        return f"{period.start:%B %Y}"
    return f"Financial year {label}"


class DataService:
    """Cached access to the warehouse for the web app (one per app)."""

    def __init__(self, warehouse_url: str, home: Path | None, threshold: int) -> None:
        self.warehouse_url = warehouse_url
        self.home = home
        self.threshold = threshold
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._inflight: dict[tuple[Any, ...], threading.Lock] = {}
        self._version: tuple[str | None, str | None] | None = None
        self._version_checked = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._warming: set[tuple[Any, ...]] = set()
        self._targets: tuple[float, targets.AuthorityConfig] | None = None
        self._analysis_pool: ThreadPoolExecutor | None = None
        self._futures: dict[tuple[Any, ...], Future[Any]] = {}
        self.analysis_wait = ANALYSIS_WAIT_SECONDS

    # --- connections and versions -------------------------------------------------------------
    def warehouse(self) -> Warehouse:
        """This thread's warehouse connection (opened on first use)."""
        wh: Warehouse | None = getattr(self._local, "warehouse", None)
        if wh is None:
            wh = Warehouse.connect(self.warehouse_url)
            self._local.warehouse = wh
        return wh

    def _submit(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the one background thread (started on first use)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csc-warm")
            pool = self._pool
        pool.submit(work)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            analyses, self._analysis_pool = self._analysis_pool, None
        for p in (pool, analyses):
            if p is not None:
                p.shutdown(wait=False, cancel_futures=True)
        wh = getattr(self._local, "warehouse", None)
        if wh is not None:
            wh.close()
            self._local.warehouse = None

    def version(self) -> tuple[str | None, str | None]:
        """(latest load_id, latest validation run_id): the data version pages are cached by."""
        now = time.monotonic()
        if self._version is not None and now - self._version_checked < VERSION_TTL_SECONDS:
            return self._version
        wh = self.warehouse()
        loads = wh.table("loads")
        latest = loads.order_by([loads.finished_at.desc(), loads.load_id.desc()]).limit(1)
        rows = latest.select("load_id").to_pyarrow().to_pylist()
        load_id = str(rows[0]["load_id"]) if rows else None
        run = wh.table("validation_findings").run_id.max().execute()
        version = (load_id, None if run is None or run != run else str(run))
        with self._lock:
            if version != self._version:
                self._cache.clear()
            self._version = version
            self._version_checked = now
        return version

    def invalidate(self) -> None:
        """Forget the cache now (after a load in this process)."""
        with self._lock:
            self._version = None
            self._cache.clear()

    def cached(self, key: tuple[Any, ...], work: Callable[[], T]) -> T:
        """``work()``, computed once per data version and key (concurrent callers wait)."""
        full = (self.version(), *key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]  # type: ignore[no-any-return]
            gate = self._inflight.setdefault(full, threading.Lock())
        with gate:
            with self._lock:
                if full in self._cache:
                    return self._cache[full]  # type: ignore[no-any-return]
            value = work()
            with self._lock:
                self._cache[full] = value
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
                self._inflight.pop(full, None)
        return value

    def store(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` for this data version."""
        full = (self.version(), *key)
        with self._lock:
            self._cache[full] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def analysis(
        self, key: tuple[Any, ...], work: Callable[[], T], wait: float | None = None
    ) -> tuple[bool, T | None]:
        """A heavy analysis (forecast back-tests, equity, impact), once per data version and key.

        The work runs on the analysis threads; this waits up to ``wait`` seconds (default
        ``analysis_wait``) and returns (True, result), or (False, None) while it is still being
        worked out (the page says so; the next request picks up the same computation). A
        failure is raised to the caller that sees it, and the next request tries again.
        """
        full = (self.version(), "analysis", *key)
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return True, self._cache[full]
            future = self._futures.get(full)
            if future is None:
                if self._analysis_pool is None:
                    self._analysis_pool = ThreadPoolExecutor(
                        max_workers=2, thread_name_prefix="csc-analysis"
                    )
                future = self._analysis_pool.submit(self._run_analysis, full, work)
                self._futures[full] = future
        try:
            return True, future.result(timeout=self.analysis_wait if wait is None else wait)
        except FutureTimeout:
            return False, None

    def _run_analysis(self, full: tuple[Any, ...], work: Callable[[], T]) -> T:
        try:
            value = work()
        except BaseException:
            with self._lock:
                self._futures.pop(full, None)
            raise
        with self._lock:  # kept before the future is forgotten: no second computation
            self._cache[full] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
            self._futures.pop(full, None)
        return value

    def peek(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        full = (self.version(), *key)
        with self._lock:
            if full in self._cache:
                return True, self._cache[full]
        return False, None

    # --- what is loaded --------------------------------------------------------------------
    def counts(self) -> list[TableCount]:
        def work() -> list[TableCount]:
            counts = self.warehouse().counts()
            return [
                TableCount(t.name, t.description, counts.get(t.name, 0), t.name in FACT_TABLE_NAMES)
                for t in TABLES
            ]

        return self.cached(("counts",), work)

    def is_empty(self) -> bool:
        return not any(c.rows for c in self.counts() if c.about_children)

    def la_codes(self) -> list[str]:
        def work() -> list[str]:
            found: set[str] = set()
            wh = self.warehouse()
            for c in self.counts():
                if c.rows and c.about_children and "la_code" in wh.table(c.name).columns:
                    t = wh.table(c.name)
                    values = t.select("la_code").distinct().to_pyarrow().column(0).to_pylist()
                    found.update(str(v) for v in values if v)
            return sorted(found)

        return self.cached(("la_codes",), work)

    def latest_period(self) -> str | None:
        return self.cached(("latest_period",), lambda: latest_period(self.warehouse()))

    def _distinct(self, table: str, column: str) -> list[str]:
        t = self.warehouse().table(table)
        values = t.select(column).distinct().to_pyarrow().column(0).to_pylist()
        return [str(v) for v in values if v not in (None, "")]

    def choices(self) -> Choices:
        def work() -> Choices:
            latest = self.latest_period()
            periods: list[tuple[str, str]] = []
            if latest:
                fy = parse(latest)
                first = self._first_date()
                start_year = first.year if first else fy.start.year
                for year in range(fy.start.year, start_year - 1, -1):
                    label = f"{year}-{(year + 1) % 100:02d}"
                    periods.append((label, period_text(parse(label))))
                for q in range(4, 0, -1):
                    label = f"{latest} Q{q}"
                    periods.append((label, period_text(parse(label))))
                for m in reversed(months_between(fy.start, fy.end)):
                    periods.append((m.label, period_text(m)))
            teams = sorted(
                set(self._distinct("referrals", "team"))
                | set(self._distinct("assessments", "team"))
                | set(self._distinct("service_involvements", "team"))
            )
            return Choices(
                periods=periods,
                teams=teams,
                localities=sorted(self._distinct("children", "locality")),
                services=sorted(self._distinct("service_involvements", "service")),
            )

        return self.cached(("choices",), work)

    def _first_date(self) -> date | None:
        value = self.warehouse().table("referrals").referral_date.min().execute()
        if value is None or value != value:
            return None
        return value if isinstance(value, date) else None

    # --- indicators ------------------------------------------------------------------------
    def authority(self) -> targets.AuthorityConfig:
        """Owners and targets from authority.toml (re-read when the file changes)."""
        if self.home is None:
            return targets.AuthorityConfig({}, targets.EscalationThresholds(), {})
        path = self.home / targets.CONFIG_FILE
        stamp = path.stat().st_mtime if path.exists() else 0.0
        if self._targets is None or self._targets[0] != stamp:
            self._targets = (stamp, targets.load(self.home))
        return self._targets[1]

    @staticmethod
    def _raw_ids(dims: tuple[str, ...]) -> list[str]:
        """The figures a page shows broken down by ``dims``.

        A rate needs the population of each group: the population table has localities but
        no teams or services, so such rates are not split.
        """
        return [
            i.id
            for i in REGISTRY.values()
            if not i.child_level
            and not (i.statistic is Statistic.RATE and not set(dims) <= POPULATION_DIMS)
        ]

    def raw(self, period: str, dims: tuple[str, ...] = ()) -> list[IndicatorResult]:
        """Every indicator for a period, broken down by ``dims`` (unsuppressed, cached)."""
        return self.cached(
            ("raw", period, dims),
            lambda: compute_for(
                Tables(self.warehouse()), parse(period), self._raw_ids(dims), list(dims)
            ),
        )

    def raw_series(self, periods: list[str], dims: tuple[str, ...] = ()) -> None:
        """Work out ``raw`` for many periods together and keep each period's results.

        One query per indicator for all the periods (``compute_series_for``) instead of one
        per indicator and period: a 12-month trend costs about what two periods did.
        """
        missing = tuple(p for p in periods if not self.peek(("raw", p, dims))[0])
        if not missing:
            return

        def work() -> dict[str, list[IndicatorResult]]:
            results = compute_series_for(
                Tables(self.warehouse()),
                [parse(p) for p in missing],
                self._raw_ids(dims),
                list(dims),
            )
            by_period: dict[str, list[IndicatorResult]] = {p: [] for p in missing}
            for r in results:  # indicator by indicator: each period keeps registry order
                by_period[r.period].append(r)
            return by_period

        for period, results in self.cached(("raw_series", missing, dims), work).items():
            self.store(("raw", period, dims), results)

    def indicators(
        self, period: str, filters: Filters, *, suppressed: bool, ids: list[str] | None = None
    ) -> list[IndicatorResult]:
        """Headline figures for a period and filters, with targets and status.

        With filters, each figure is its group of the breakdown by the filtered dimensions;
        for viewers the whole breakdown is disclosure-controlled first (primary and secondary
        suppression), so a filtered figure is hidden exactly when the breakdown hides it.
        Indicators that cannot be split by a filtered dimension are left out.
        """
        dims = tuple(filters.dims())
        results = self.raw(period, dims)
        if dims and suppressed:
            results = suppress(results, self.threshold)
        if dims:
            wanted = filters.values()
            results = [
                replace(r, breakdown=None, extra={**r.extra, "filtered_by": wanted})
                for r in results
                if r.breakdown == wanted
            ]
        if ids is not None:
            results = [r for r in results if r.id in ids]
        return targets.apply(results, self.authority())

    def breakdown(
        self, indicator_id: str, period: str, dim: str, filters: Filters, *, suppressed: bool
    ) -> list[IndicatorResult]:
        """One indicator split by ``dim`` within the filters (suppressed for viewers)."""
        dims = tuple(dict.fromkeys([*filters.dims(), dim]))
        done, every = self.peek(("raw", period, dims))
        if done:
            results = [r for r in every if r.id == indicator_id]
        else:  # one indicator is much quicker than all of them split the same way
            results = self.cached(
                ("raw_one", indicator_id, period, dims),
                lambda: compute_indicator(
                    REGISTRY[indicator_id], Tables(self.warehouse()), parse(period), list(dims)
                ),
            )
        if suppressed:
            results = suppress(results, self.threshold)
        wanted = filters.values()
        return [
            r
            for r in results
            if r.breakdown and all(r.breakdown.get(k) == v for k, v in wanted.items())
        ]

    def trend_months(self, period: str) -> list[Period]:
        """The 12 months ending with the period's last month."""
        end = parse(period).end
        start_year, start_month = (
            (end.year, end.month - 11)
            if end.month > 11
            else (
                end.year - 1,
                end.month + 1,
            )
        )
        return months_between(date(start_year, start_month, 1), end)

    def trend(
        self, period: str, filters: Filters, *, suppressed: bool, wait: bool
    ) -> dict[str, list[tuple[Period, IndicatorResult | None]]] | None:
        """Monthly figures over the 12 months to the period's end, per indicator.

        With ``wait`` False, returns None (and starts the work in the background) when the
        months are not worked out yet.
        """
        months = self.trend_months(period)
        dims = tuple(filters.dims())
        if not wait:
            missing = [m for m in months if not self.peek(("raw", m.label, dims))[0]]
            if missing:
                self.warm_months([m.label for m in missing], dims)
                return None
        self.raw_series([m.label for m in months], dims)
        out: dict[str, list[tuple[Period, IndicatorResult | None]]] = {}
        for m in months:
            by_id = {
                r.id: r
                for r in self.indicators(
                    m.label, replace(filters, period=m.label), suppressed=suppressed
                )
            }
            for indicator_id in REGISTRY:
                out.setdefault(indicator_id, []).append((m, by_id.get(indicator_id)))
        return out

    def warm_months(self, labels: list[str], dims: tuple[str, ...] = ()) -> None:
        """Work out these months in the background (once)."""
        key = ("months", tuple(labels), dims, self.version())
        with self._lock:
            if key in self._warming:
                return
            self._warming.add(key)

        def work() -> None:
            try:
                self.raw_series(labels, dims)
            except Exception:  # pragma: no cover - a warm-up fault shows when a page asks
                log.exception("warming the cache failed")
            finally:
                with self._lock:
                    self._warming.discard(key)

        self._submit(work)

    def prepare_overview(self) -> None:
        """Work out what the overview shows: the latest year and its 12 months, together.

        The year's records are placed in the same batch as its months, so the overview costs
        one query per indicator (see docs/performance.md).
        """
        if self.is_empty():
            return
        self.choices()
        latest = self.latest_period()
        if latest:
            self.raw_series([latest, *(m.label for m in self.trend_months(latest))])

    def warm(self) -> None:
        """Work out the overview in the background, after start and after every load."""

        def work() -> None:
            try:
                self.prepare_overview()
            except Exception:  # pragma: no cover
                log.exception("warming the cache failed")

        self._submit(work)

    # --- child-level lists (analysts only; the views check and audit) ------------------------
    def records(self, indicator_id: str, period: str, filters: Filters) -> pa.Table:
        """The records behind a figure: one row per record, pseudonymised child ids."""
        indicator = REGISTRY[indicator_id]
        t = Tables(self.warehouse())
        chosen = parse(period)
        records = indicator.records(t, chosen)
        child_dims = [d for d in filters.dims() if d == "locality"]
        if child_dims:
            records = with_child_dimensions(records, t.children, child_dims, None, chosen.end)
        for dim, value in filters.values().items():
            if dim not in records.columns:
                if dim in dimensions_for(indicator):
                    continue
                return pa.table({"child_id": pa.array([], pa.string())})
            records = records.filter(records[dim].cast("string") == value)
        return records.to_pyarrow()

    def escalation(self, period: str) -> list[dict[str, object]]:
        return self.cached(
            ("escalation", period),
            lambda: candidates(
                Tables(self.warehouse()), parse(period).end, self.authority().escalation
            ),
        )

    # --- data quality ----------------------------------------------------------------------
    def findings_by_rule(self) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            from csc_insight.rules import REGISTRY as RULES

            f = self.warehouse().table("validation_findings")
            rows = (
                f.group_by(["rule_code", "severity", "target_table", "message"])
                .aggregate(findings=f.count(), children=f.child_id.nunique())
                .order_by([f.count().desc()])
                .to_pyarrow()
                .to_pylist()
            )
            for row in rows:
                rule = RULES.get(str(row["rule_code"]))
                row["source"] = str(rule.source) if rule else ""
            return sorted(rows, key=lambda r: (-int(r["findings"]), str(r["rule_code"])))

        return self.cached(("findings_by_rule",), work)

    def findings(self, rule_code: str | None, limit: int = 5000) -> pa.Table:
        f = self.warehouse().table("validation_findings")
        if rule_code:
            f = f.filter(f.rule_code == rule_code)
        return (
            f.order_by(["rule_code", "child_id", "source_file", "source_row"])
            .limit(limit)
            .to_pyarrow()
        )

    def validation_run(self) -> str | None:
        return self.version()[1]

    def loads(self) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            t = self.warehouse().table("loads")
            return list(
                t.order_by([t.finished_at.desc(), t.load_id.desc()]).to_pyarrow().to_pylist()
            )

        return self.cached(("loads",), work)

    def load_files(self) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            t = self.warehouse().table("load_files")
            return list(
                t.order_by([t.load_id.desc(), t.source_file, t.target_table])
                .to_pyarrow()
                .to_pylist()
            )

        return self.cached(("load_files",), work)

    def quarantine_reasons(self) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            q = self.warehouse().table("quarantine")
            return list(
                q.group_by(["load_id", "target_table", "reason"])
                .aggregate(rows=q.count())
                .order_by([q.load_id.desc(), q.count().desc()])
                .limit(500)
                .to_pyarrow()
                .to_pylist()
            )

        return self.cached(("quarantine_reasons",), work)
