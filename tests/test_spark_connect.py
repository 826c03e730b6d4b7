"""Spark Connect (``--backend sc://host:port``): the same loads and figures as DuckDB.

A real Spark Connect server is started for the test session (tests/engines.py). The
commands run as separate ``csc-insight`` processes, as an analyst would run them: a Spark
Connect client switches PySpark into Connect mode for its whole process, which the local
Spark session the other tests share must not see.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engines import SparkConnectServer

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.slow


def _cli(home: Path, *args: str, backend: str | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSC_INSIGHT_")}
    env |= {"CSC_INSIGHT_HOME": str(home), "COLUMNS": "200"}
    command = [sys.executable, "-m", "csc_insight.cli", *args]
    if backend:
        command += ["--backend", backend]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_spark_connect_loads_and_computes_as_duckdb(
    spark_connect_server: SparkConnectServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    parsed = tmp_path / "parsed"
    _cli(
        home,
        "parse",
        str(FIXTURES / "ssda903"),
        str(FIXTURES / "local"),
        "--la-code",
        "E10000011",
        "--collection-year",
        "2024",
        "--out",
        str(parsed),
        "--json",
    )
    duck = f"duckdb:///{tmp_path / 'w.duckdb'}"
    results: dict[str, dict[str, Any]] = {}
    for name, backend in (("duckdb", duck), ("connect", spark_connect_server.url)):
        # Files straight in (Arrow sent to the server) and a parsed folder (read by Spark).
        ingested = _cli(home, "ingest", str(FIXTURES / "cin"), "--json", backend=backend)
        loaded = _cli(home, "load", str(parsed), "--json", backend=backend)
        again = _cli(home, "load", str(parsed), "--json", backend=backend)
        assert again["load_id"] is None and again["already_loaded"]
        indicators = _cli(
            home,
            "indicators",
            "--period",
            "2023-24",
            "--format",
            "json",
            "--role",
            "analyst",
            backend=backend,
        )
        findings = _cli(home, "validate", "--json", backend=backend)
        results[name] = {
            "totals": (ingested["totals"], loaded["totals"]),
            "indicators": {i["id"]: i for i in indicators},
            "findings": sorted((r["code"], r["table"], r["count"]) for r in findings["by_rule"]),
        }

    duckdb, connect = results["duckdb"], results["connect"]
    assert connect["totals"] == duckdb["totals"]
    assert connect["findings"] == duckdb["findings"] and duckdb["findings"]
    assert connect["indicators"].keys() == duckdb["indicators"].keys()
    assert any(i["value"] for i in duckdb["indicators"].values())
    for key, expected in duckdb["indicators"].items():
        got = connect["indicators"][key]
        for field in ("value", "numerator", "denominator"):
            assert _close(got[field], expected[field]), (key, field, got[field], expected[field])


def test_an_unreachable_spark_connect_server_is_a_plain_error(tmp_path: Path) -> None:
    from engines import _free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("CSC_INSIGHT_")}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "csc_insight.cli", "indicators"),
            *("--backend", f"sc://127.0.0.1:{_free_port()}", "--home", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        env=env | {"COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 2
    assert "Could not reach the Spark Connect server" in done.stderr
    assert "Traceback" not in done.stderr
