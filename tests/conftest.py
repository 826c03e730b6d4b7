"""Shared fixtures: real warehouses in temporary folders and on real servers.

``warehouse``/``warehouse_with`` are DuckDB files. ``engine``/``engine_with`` run a test once
per engine (DuckDB, PostgreSQL, PySpark), each real and started by the tests themselves
(see tests/engines.py). ``@pytest.mark.known_gap("pyspark", reason=...)`` marks what one
engine cannot do yet: the test still runs there and must fail (strict xfail).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import LoadBatch, Warehouse
from engines import ENGINES, EngineUnavailable, PostgresServer, spark_database, start_spark

Rows = dict[str, list[dict[str, Any]]]


def load_rows(warehouse: Warehouse, rows: Rows) -> None:
    """Write hand-built canonical rows (lineage and la_code filled in) through a real load."""
    batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
    for name, records in rows.items():
        schema = table(name).schema().to_pyarrow()
        full = [
            {
                "la_code": "E06000001",
                "load_id": batch.load_id,
                "source_file": "fixture.csv",
                "source_row": i + 1,
            }
            | record
            for i, record in enumerate(records)
        ]
        batch.add(name, pa.Table.from_pylist(full, schema=schema))
    warehouse.commit_load(batch)


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
                item.add_marker(
                    pytest.mark.xfail(strict=True, reason=f"known gap on {on}: {reason}")
                )


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


@contextmanager
def open_engine(name: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[Warehouse]:
    """An empty warehouse on engine ``name`` (DuckDB file in ``folder``, or on the servers)."""
    if name == "duckdb":
        with Warehouse.connect(f"duckdb://{folder / 'warehouse.duckdb'}") as w:
            yield w
    elif name == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        with server.database() as url, Warehouse.connect(url) as w:
            yield w
    else:
        session = request.getfixturevalue("spark_session")
        with spark_database(session):
            # Not closed: closing an Ibis PySpark connection stops the shared session.
            yield Warehouse(ibis.pyspark.connect(session), "pyspark://local[2]")


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
