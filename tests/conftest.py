"""Shared fixtures: real warehouses in temporary folders and on real servers.

Helpers other test modules use (``Rows``, ``load_rows``, ``open_engine``) live in
tests/engines.py: import them from ``engines``, not from ``conftest`` (tests/rules has its own
conftest, and the two collide as a module name).

``warehouse``/``warehouse_with`` are DuckDB files. ``engine``/``engine_with`` run a test once
per engine (DuckDB, PostgreSQL, PySpark), each real and started by the tests themselves
(see tests/engines.py). ``@pytest.mark.known_gap("pyspark", reason=...)`` marks what one
engine cannot do yet: the test still runs there and must fail (strict xfail).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from csc_insight.warehouse.store import Warehouse
from engines import (
    ENGINES,
    EngineUnavailable,
    PostgresServer,
    Rows,
    SparkConnectServer,
    load_rows,
    open_engine,
    start_spark,
)


@pytest.fixture(scope="session", autouse=True)
def compiled_sql_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Compiled validation SQL kept in the test run's own folder, not the user's cache."""
    folder = tmp_path_factory.mktemp("compiled-sql")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSC_INSIGHT_SQL_CACHE", str(folder))
        yield folder


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """An empty warehouse on a real DuckDB file."""
    return Warehouse.connect(f"duckdb://{tmp_path / 'warehouse.duckdb'}")


@pytest.fixture
def warehouse_with(warehouse: Warehouse) -> Callable[[Rows], Warehouse]:
    """A warehouse loaded with the given hand-built rows."""

    def make(rows: Rows) -> Warehouse:
        load_rows(warehouse, rows)
        return warehouse

    return make


# --- every engine -------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Turn ``known_gap(engine, ...)`` into a strict xfail on that engine's test instance."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on = params.get("engine", params.get("engine_name"))
        for mark in item.iter_markers("known_gap"):
            unknown = set(mark.args) - set(ENGINES)
            reason = mark.kwargs.get("reason")
            if not mark.args or unknown or not reason:
                raise pytest.UsageError(
                    f"{item.nodeid}: known_gap needs engine names from {ENGINES} and a reason"
                )
            if on in mark.args:
                # raises=...: only that failure is the gap; any other error still fails.
                xfail = pytest.mark.xfail(
                    strict=True,
                    reason=f"known gap on {on}: {reason}",
                    raises=mark.kwargs.get("raises"),
                )
                item.add_marker(xfail)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on loopback for the whole test session."""
    try:
        server = PostgresServer()
        server.start()
    except EngineUnavailable as exc:
        pytest.fail(f"Cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session (local[2]) for the whole test session."""
    try:
        session = start_spark(tmp_path_factory.mktemp("spark"))
    except EngineUnavailable as exc:
        pytest.fail(f"Cannot start Spark for the tests: {exc}", pytrace=False)
    except Exception as exc:  # e.g. Java present but unable to start the gateway
        pytest.fail(f"Cannot start Spark for the tests: {exc}", pytrace=False)
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """An empty warehouse on each engine in turn: DuckDB, PostgreSQL, PySpark."""
    with open_engine(request.param, request, tmp_path) as w:
        yield w


@pytest.fixture
def engine_with(engine: Warehouse) -> Callable[[Rows], Warehouse]:
    """A warehouse on each engine, loaded with the given hand-built rows."""

    def make(rows: Rows) -> Warehouse:
        load_rows(engine, rows)
        return engine

    return make


@pytest.fixture(scope="session")
def spark_connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkConnectServer]:
    """A local Spark Connect server (sc://127.0.0.1:PORT) for the whole test session."""
    try:
        server = SparkConnectServer(tmp_path_factory.mktemp("spark-connect"))
        server.start()
    except EngineUnavailable as exc:
        pytest.fail(f"Cannot start Spark Connect for the tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
