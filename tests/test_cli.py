"""CLI smoke tests: the commands a user types, end to end on a real DuckDB warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csc_insight import __version__
from csc_insight.cli import app
from csc_insight.indicators import REGISTRY

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_indicator_catalogue_lists_every_indicator() -> None:
    result = runner.invoke(app, ["indicators", "--list", "--format", "markdown"])
    assert result.exit_code == 0
    for indicator_id in REGISTRY:
        assert f"`{indicator_id}`" in result.stdout


def test_indicators_on_an_empty_warehouse_say_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["indicators", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "csc-insight ingest" in result.stderr


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nowhere"), "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "Cannot find" in result.stderr


def test_a_bad_period_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    # Through the real console script, so the top-level error handling is exercised too.
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from csc_insight.cli import run; run()",
            "indicators",
            "--home",
            str(tmp_path),
            "--period",
            "2024",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "financial year" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    result = runner.invoke(
        app, ["synth", "--out", str(out), "--scale", "small", "--seed", "3", "--years", "2"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_synth_ingest_indicators_round_trip(synthetic: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["ingest", str(synthetic), "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"load_id", "files", "totals"}
    for f in report["files"]:
        assert set(f) >= {"path", "dataset", "tables"}
        for t in f["tables"]:
            assert t["read"] == t["loaded"] + t["quarantined"]
    totals = report["totals"]
    assert totals["read"] == totals["loaded"] + totals["quarantined"] > 0
    assert totals["quarantined"] == 0

    result = runner.invoke(app, ["indicators", "--home", str(home), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    figures = {i for i, ind in REGISTRY.items() if not ind.child_level}
    assert {r["id"] for r in rows} == figures
    for r in rows:
        assert set(r) >= {
            "id",
            "title",
            "period",
            "value",
            "numerator",
            "denominator",
            "unit",
            "breakdown",
            "suppressed",
        }
    by_id = {r["id"]: r for r in rows}
    assert by_id["cin.referrals"]["value"] > 0


def test_demo_without_serving(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--no-serve", "--scale", "small", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "quarantined" in result.stdout
    assert "cin.referrals" in result.stdout


def _exit_in_child(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import atexit, pathlib, sys, threading, time\n"
        "from csc_insight import cli\n"
        f"out = pathlib.Path({str(tmp_path)!r})\n" + body
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_quick_exit_runs_exit_handlers_and_keeps_the_status(tmp_path: Path) -> None:
    done = _exit_in_child(
        tmp_path,
        "atexit.register(lambda: (out / 'handler').write_text('ran'))\n"
        "print('report', flush=False)\n"
        "cli._exit(5)\n",
    )
    assert done.returncode == 5
    assert done.stdout == "report\n"  # flushed before the process ended
    assert (tmp_path / "handler").read_text() == "ran"
    message = _exit_in_child(tmp_path, "cli._exit('Nothing was loaded.')\n")
    assert message.returncode == 1 and "Nothing was loaded." in message.stderr


def test_the_quick_exit_waits_for_threads_still_at_work(tmp_path: Path) -> None:
    done = _exit_in_child(
        tmp_path,
        "def work():\n"
        "    time.sleep(0.5)\n"
        "    (out / 'finished').write_text('yes')\n"
        "threading.Thread(target=work).start()\n"
        "cli._exit(0)\n",
    )
    assert done.returncode == 0
    assert (tmp_path / "finished").read_text() == "yes"
