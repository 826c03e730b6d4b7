"""Real engines for the backend-agnostic tests: a PostgreSQL server and a Spark session.

Both are started by the tests themselves, once per test session, and torn down at its end:

* PostgreSQL: ``initdb`` into a fresh temporary directory and ``pg_ctl start`` on a free
  loopback port (the server refuses to run as root, so under root both run as the
  ``postgres`` OS user). Each test gets its own database.
* Spark: one ``local[2]`` session with the UI off and a temporary warehouse directory,
  shared by every test; each test gets its own Spark database.

Nothing here skips: if PostgreSQL or Java is missing, the error says how to install it
(``make test`` installs both through ``scripts/install-system-deps.sh``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from csc_insight.warehouse.engines import spark_backend
from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import LoadBatch, Warehouse

ENGINES = ("duckdb", "postgres", "pyspark")

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


INSTALL_HINT = "run `make test` (or `make system-deps`) to install the system packages"


class EngineUnavailable(RuntimeError):
    """A real engine the tests need could not be started."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bin(name: str) -> str:
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found:
        return found
    raise EngineUnavailable(
        f"PostgreSQL's {name} was not found under /usr/lib/postgresql/*/bin or on PATH: "
        f"the PostgreSQL tests need the Debian package postgresql ({INSTALL_HINT})."
    )


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1, owned by the test session."""

    def __init__(self) -> None:
        self.initdb = _postgres_bin("initdb")
        self.pg_ctl = _postgres_bin("pg_ctl")
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                raise EngineUnavailable(
                    "Running as root, and there is no `postgres` OS user to run the server "
                    f"as ({INSTALL_HINT}; the postgresql package creates the user)."
                ) from None
        # Directly under /tmp (not pytest's 0700 tmp folder), so the postgres user can reach
        # it, and short, so the Unix socket path stays under its 107-byte limit.
        self.root = Path(tempfile.mkdtemp(prefix="csc-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "run"
        self.sockets.mkdir()
        self.log = self.root / "server.log"
        if self.user is not None:
            for path in (self.root, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise EngineUnavailable(
                f"{' '.join(args[:1])} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{log}"
            )
        return result

    def start(self) -> None:
        """initdb and start the server (a few seconds)."""
        self._run(
            self.initdb,
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.sockets}",
                "-c listen_addresses=127.0.0.1",
                # a disposable cluster: durability only costs time here
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=50",
            ]
        )
        self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start"
        )
        self.started = True

    def stop(self) -> None:
        """Stop the server and delete its files."""
        try:
            if self.started:
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            self.started = False
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A csc-insight warehouse URL for a database on this server."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as con:
            con.execute(sql)  # type: ignore[arg-type]

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh, empty database for one test; dropped afterwards. Yields its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_spark(root: Path) -> Any:
    """One local Spark session for the whole test run (about 10-20 s to start)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineUnavailable(
            "Spark needs Java (17 or 21) and none was found on PATH or in JAVA_HOME: "
            f"install a JRE, e.g. the Debian package openjdk-17-jre-headless ({INSTALL_HINT})."
        )
    from pyspark.sql import SparkSession

    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("csc-insight-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # Tiny data: planning and code generation cost more than they save.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.warehouse.dir", str(root / "spark-warehouse"))
        .config("spark.local.dir", str(root / "spark-local"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root / 'derby'}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sql("SELECT 1").collect()
    session.conf.set("csc_insight.tests.startup_seconds", f"{time.monotonic() - started:.1f}")
    return session


class SparkConnectServer:
    """A local Spark Connect server (the one in the pyspark package) on a loopback port.

    Started with ``spark-submit --class ...SparkConnectServer`` in its own process group and
    stopped by that group's id, so nothing else on the machine is touched.
    """

    CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"

    def __init__(self, root: Path) -> None:
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise EngineUnavailable(
                "Spark Connect needs Java (17 or 21) and none was found on PATH or in "
                f"JAVA_HOME ({INSTALL_HINT})."
            )
        import pyspark

        self.spark_home = Path(pyspark.__file__).parent
        self.root = root
        self.port = _free_port()
        self.log = root / "connect-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        """Start the server and wait until it accepts connections (10 to 40 s)."""
        self.root.mkdir(parents=True, exist_ok=True)
        settings = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.ui.enabled": "false",
            "spark.driver.memory": "1g",
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.adaptive.enabled": "false",
            "spark.sql.warehouse.dir": str(self.root / "spark-warehouse"),
            "spark.local.dir": str(self.root / "spark-local"),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={self.root / 'derby'}",
        }
        command = [str(self.spark_home / "bin" / "spark-submit"), "--master", "local[2]"]
        for key, value in settings.items():
            command += ["--conf", f"{key}={value}"]
        command += ["--class", self.CLASS, "--name", "csc-insight-tests-connect", "spark-internal"]
        env = os.environ | {"SPARK_HOME": str(self.spark_home)}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineUnavailable(
                    f"The Spark Connect server exited ({self.process.returncode}):\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            if "Spark Connect server started" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.5)
        self.stop()
        raise EngineUnavailable(
            f"The Spark Connect server did not start within {timeout:.0f} s:\n"
            + self.log.read_text(errors="replace")[-3000:]
        )

    def stop(self) -> None:
        """Stop the server's process group (spark-submit and its JVM)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@contextmanager
def spark_database(session: Any) -> Iterator[str]:
    """A fresh Spark database, made current for one test; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    session.sql(f"CREATE DATABASE {name}")
    session.catalog.setCurrentDatabase(name)
    try:
        yield name
    finally:
        session.catalog.setCurrentDatabase("default")
        session.sql(f"DROP DATABASE IF EXISTS {name} CASCADE")


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
            yield Warehouse(spark_backend(session), "pyspark://local[2]")
