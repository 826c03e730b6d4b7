"""Loads are atomic, idempotent and supersede by natural key.

* kill -9 in the middle of a commit leaves the warehouse exactly as the previous load left
  it (a real process, paused inside the commit by the test-only environment variable
  CSC_INSIGHT_TEST_PAUSE_IN_COMMIT);
* a load that fails while writing changes nothing;
* a file that cannot be read costs only itself: the other files load, it is reported;
* loading the same files again adds nothing and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csc_insight.cli import app
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.synth import generate
from csc_insight.warehouse.model import TABLES
from csc_insight.warehouse.store import TEST_PAUSE_ENV, Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
PSEUDO = Pseudonymiser(b"atomic-load-test" * 2)
runner = CliRunner()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two synthetic authorities: one loaded first, one whose load is killed."""
    root = tmp_path_factory.mktemp("synthetic")
    first = generate(root / "first", scale="small", seed=11, years=1).out
    second = generate(root / "second", scale="small", seed=12, years=2).out
    return first, second


def _snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Rows and a content digest of every table (order-independent)."""
    out: dict[str, tuple[int, str]] = {}
    with Warehouse.connect(url) as wh:
        for t in TABLES:
            rows = sorted(
                json.dumps(r, default=str) for r in wh.table(t.name).to_pyarrow().to_pylist()
            )
            out[t.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def test_kill_9_inside_the_commit_leaves_the_previous_load(
    synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = synthetic
    home = tmp_path / "home"
    url = f"duckdb://{home / 'warehouse.duckdb'}"
    result = runner.invoke(app, ["ingest", str(first), "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    before = _snapshot(url)
    assert before["referrals"][0] > 0 and before["loads"][0] == 1

    marker = tmp_path / "inside-commit"
    env = {**os.environ, TEST_PAUSE_ENV: str(marker)}
    cmd = [sys.executable, "-c", "from csc_insight.cli import run; run()", "ingest"]
    proc = subprocess.Popen(
        [*cmd, str(second), "--home", str(home), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the load never reached its commit"
            time.sleep(0.05)
        # The first table of the new load is written (uncommitted) when the marker appears.
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    assert _snapshot(url) == before


def test_a_load_failing_while_writing_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    with Warehouse.connect(url) as wh:
        ingest([FIXTURES / "cin"], wh, PSEUDO)
    before = _snapshot(url)

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Warehouse, "_append_duckdb", broken)
    with Warehouse.connect(url) as wh, pytest.raises(OSError, match="disk full"):
        ingest([FIXTURES / "ssda903"], wh, PSEUDO, la_code="E10000011", collection_year=2024)
    monkeypatch.undo()
    assert _snapshot(url) == before


def test_one_unreadable_file_costs_only_itself(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    shutil.copytree(FIXTURES / "ssda903", folder / "ssda903")
    cin = (FIXTURES / "cin" / "cin_2024.xml").read_text()
    (folder / "cin_cut_off.xml").write_text(cin[: len(cin) // 2])
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    with Warehouse.connect(url) as wh:
        out = ingest([folder], wh, PSEUDO, la_code="E10000011", collection_year=2024).to_json()
        assert {Path(f["path"]).name for f in out["failed"]} == {"cin_cut_off.xml"}
        assert "ends early" in out["failed"][0]["reason"]
        assert wh.count("cla_episodes") > 0 and wh.count("referrals") == 0
        assert wh.count("loads") == 1
        names = set(wh.table("load_files").execute().source_file)
        assert "cin_cut_off.xml" not in names


def test_loading_a_folder_twice_adds_nothing(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    with Warehouse.connect(url) as wh:
        first = ingest([FIXTURES], wh, PSEUDO).to_json()
    before = _snapshot(url)
    with Warehouse.connect(url) as wh:
        second = ingest([FIXTURES], wh, PSEUDO).to_json()
    assert _snapshot(url) == before  # not even a loads row
    assert second["load_id"] is None and second["files"] == []
    assert second["totals"] == {"read": 0, "loaded": 0, "quarantined": 0, "superseded": 0}
    assert second["nothing_loaded"] is None  # not a failure: there was nothing new
    already = {Path(a["path"]).name for a in second["already_loaded"]}
    assert already == {Path(f["path"]).name for f in first["files"]}
    assert {a["loaded_in"] for a in second["already_loaded"]} == {first["load_id"]}
    assert all("nothing was added" in a["message"] for a in second["already_loaded"])


def test_a_copy_of_a_file_in_the_same_load_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "cin" / "cin_2024.xml", folder / "cin.xml")
    shutil.copy(FIXTURES / "cin" / "cin_2024.xml", folder / "cin (copy).xml")
    with Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        out = ingest([folder], wh, PSEUDO).to_json()
    assert len(out["files"]) == 1
    [copy] = out["already_loaded"]
    assert copy["loaded_in"] == out["load_id"] and "same content" in copy["message"]


def test_a_later_load_supersedes_overlapping_records(tmp_path: Path) -> None:
    # The 2024-25 return repeats an open referral of 2023-24, now closed: one row, the
    # newer one, whatever files came with it.
    cin = (FIXTURES / "cin" / "cin_2024.xml").read_text()
    later = cin.replace("<Year>2024</Year>", "<Year>2025</Year>").replace(
        "<ReasonForClosure>RC1</ReasonForClosure>", "<ReasonForClosure>RC8</ReasonForClosure>"
    )
    (tmp_path / "cin_2025.xml").write_text(later)
    with Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        ingest([FIXTURES / "cin"], wh, PSEUDO)
        first = wh.count("referrals")
        ingest([tmp_path / "cin_2025.xml"], wh, PSEUDO)
        rows = wh.table("referrals").execute()
    assert len(rows) == first
    assert "RC1" not in set(rows.closure_reason) and "RC8" in set(rows.closure_reason)


def test_within_one_load_the_newer_return_wins_whatever_the_file_order(tmp_path: Path) -> None:
    cin = (FIXTURES / "cin" / "cin_2024.xml").read_text()
    newer = cin.replace("<Year>2024</Year>", "<Year>2025</Year>").replace(
        "<ReasonForClosure>RC1</ReasonForClosure>", "<ReasonForClosure>RC8</ReasonForClosure>"
    )
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_newer.xml").write_text(newer)  # read first by name, but it is 2024-25
    (folder / "b_older.xml").write_text(cin)
    with Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        ingest([folder], wh, PSEUDO)
        reasons = set(wh.table("referrals").execute().closure_reason)
    assert "RC8" in reasons and "RC1" not in reasons
