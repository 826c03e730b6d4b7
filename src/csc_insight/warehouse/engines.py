"""Engines behind the warehouse, chosen by URL: embedded DuckDB, PostgreSQL or Spark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import ibis
from ibis.backends import BaseBackend

from csc_insight.errors import ConfigError


@dataclass(frozen=True)
class Engine:
    """A kind of warehouse engine: its URL schemes and how to open one."""

    name: str
    schemes: tuple[str, ...]
    extra: str
    description: str


ENGINES: tuple[Engine, ...] = (
    Engine(
        "duckdb",
        ("duckdb",),
        "",
        "Embedded DuckDB file: one authority on one machine (the default).",
    ),
    Engine(
        "postgres",
        ("postgres", "postgresql"),
        "postgres",
        "A PostgreSQL server: a shared warehouse for a team or region.",
    ),
    Engine(
        "pyspark",
        ("pyspark", "spark"),
        "pyspark",
        "A Spark session (local[N] or a cluster): regional or national pooling.",
    ),
)


def engine_for(url: str) -> Engine:
    """The engine a warehouse URL names."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else url.lower()
    for engine in ENGINES:
        if scheme in engine.schemes:
            return engine
    known = ", ".join(s for e in ENGINES for s in e.schemes)
    raise ConfigError(
        f"The warehouse URL {url!r} names no engine csc-insight knows (use one of: {known})."
    )


def duckdb_path(url: str) -> Path | None:
    """The database file of a duckdb:// URL, or None for an in-memory database."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    if rest in ("", ":memory:", "/:memory:"):
        return None
    # duckdb:///abs/path -> /abs/path; duckdb://relative/path -> relative/path
    return Path(rest)


def connect(url: str) -> BaseBackend:
    """Open an Ibis connection for a warehouse URL."""
    engine = engine_for(url)
    try:
        if engine.name == "duckdb":
            path = duckdb_path(url)
            if path is None:
                return ibis.duckdb.connect()
            path.parent.mkdir(parents=True, exist_ok=True)
            return ibis.duckdb.connect(str(path))
        if engine.name == "postgres":
            return ibis.connect(url.replace("postgresql://", "postgres://", 1))
        return _connect_spark(url)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"The {engine.name} engine needs extra packages: pip install "
            f"'csc-insight[{engine.extra}]' ({exc.name} is missing)."
        ) from exc


def spark_settings(url: str) -> tuple[str, dict[str, str]]:
    """The master and Spark settings of a pyspark:// URL.

    ``pyspark://local[2]`` names the master (plain ``pyspark`` means local on all cores); query
    parameters are Spark settings, e.g. ``?spark.sql.catalogImplementation=hive`` to keep the
    tables in a metastore between runs, or ``?spark.sql.warehouse.dir=/data/warehouse``.
    """
    # Not urlparse: it takes local[2] for a malformed IPv6 host.
    rest = url.split("://", 1)[1] if "://" in url else ""
    master, _, query = rest.partition("?")
    master = master or "local[*]"
    settings = {
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    settings.update(parse_qsl(query, keep_blank_values=True))
    return master, settings


def _connect_spark(url: str) -> BaseBackend:
    from pyspark.sql import SparkSession

    master, settings = spark_settings(url)
    builder = SparkSession.builder.master(master).appName("csc-insight")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return ibis.pyspark.connect(builder.getOrCreate())
