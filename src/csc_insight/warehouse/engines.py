"""Engines behind the warehouse, chosen by URL: embedded DuckDB, PostgreSQL or Spark."""

from __future__ import annotations

import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
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
        ("pyspark", "spark", "sc"),
        "pyspark",
        "A Spark session (local[N], a cluster's master, or a Spark Connect server sc://): "
        "regional or national pooling.",
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
    except ImportError as exc:  # PySpark reports Spark Connect's missing packages this way
        missing = exc.name or str(exc)
        raise ConfigError(
            f"The {engine.name} engine needs extra packages: pip install "
            f"'csc-insight[{engine.extra}]' ({missing} is missing)."
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


def is_spark_connect(url: str) -> bool:
    """Whether ``url`` names a Spark Connect server (``sc://host:15002``)."""
    return url.lower().startswith("sc://")


def _connect_spark(url: str) -> BaseBackend:
    from pyspark.sql import SparkSession

    if is_spark_connect(url):
        return _connect_spark_connect(url)
    master, settings = spark_settings(url)
    builder = SparkSession.builder.master(master).appName("csc-insight")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return spark_backend(builder.getOrCreate())


def _connect_spark_connect(url: str) -> BaseBackend:
    """A session on a Spark Connect server: the URL goes to PySpark as it is.

    ``sc://host:port/;token=...;use_ssl=true`` carries Spark Connect's own parameters. The
    server owns its settings (UI, warehouse, catalog); the session's time zone is set to UTC
    as for every other engine, as dates and times are kept without one.
    """
    from pyspark.sql import SparkSession

    # Ibis passes verifySchema when it sends rows; Spark Connect ignores it and says so on
    # every call, which is noise to an analyst.
    warnings.filterwarnings("ignore", message="'verifySchema' is ignored", category=UserWarning)
    _check_reachable(url)
    try:
        session = SparkSession.builder.remote(url).getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
    except ImportError:
        raise
    except Exception as exc:  # gRPC's own errors are long and not the user's vocabulary
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"Could not reach the Spark Connect server at {url}: is it running, and is the "
            f"port right? ({reason[:300]})"
        ) from exc
    return spark_backend(session)


def _check_reachable(url: str) -> None:
    """Fail at once when nothing listens at the URL's port (the client retries for minutes)."""
    netloc = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    try:
        with socket.create_connection((host.strip("[]"), int(port or 15002)), timeout=10):
            return
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Could not reach the Spark Connect server at {url}: is it running, and is the "
            f"port right? ({exc})"
        ) from exc


def spark_backend(session: Any) -> BaseBackend:
    """An Ibis connection on a Spark session (local, cluster or Spark Connect)."""
    return _spark_backend().connect(session)


def _spark_backend() -> BaseBackend:
    """Ibis's PySpark backend, sending in-memory tables to Spark as Arrow.

    Ibis turns an in-memory table (validation findings, the working-day calendar) into pandas
    before handing it to Spark, a workaround for PySpark before 4.0. Under pandas 3 Spark's
    Arrow conversion of that frame fails on Arrow-backed text columns ("Cannot convert
    pyarrow.lib.ChunkedArray to pyarrow.lib.Array"): Spark Connect then stops, and a local
    session falls back to converting row by row, with a warning. PySpark 4 takes Arrow as
    it is.
    """
    from ibis.backends.pyspark import Backend

    # Loading the backend through Ibis is what registers its options (ibis.options.pyspark),
    # which its compiler reads; importing the class alone does not.
    ibis.load_backend("pyspark")

    class ArrowSparkBackend(Backend):  # type: ignore[misc]
        def _register_in_memory_table(self, op: Any) -> None:
            rows = op.data.to_pyarrow(op.schema)
            self._session.createDataFrame(rows).createOrReplaceTempView(op.name)

    return ArrowSparkBackend()
