"""Parsing to Parquet, then loading the parsed folder, on every engine.

The promise: ``parse`` then ``load`` leaves the warehouse exactly as ``ingest`` of the same
files would (same rows, same quarantine, same reconciliation; only load ids differ), a
second load adds nothing, and the Parquet files never hold a raw child identifier.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from csc_insight.cli import app
from csc_insight.errors import InputError
from csc_insight.ingest import ingest
from csc_insight.parsed import MANIFEST, load_parsed, parse, parse_part
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.model import TABLES
from csc_insight.warehouse.store import Warehouse
from fixtures.annex_a_workbook import write_annex_a

FIXTURES = Path(__file__).parent / "fixtures"
PSEUDO = Pseudonymiser(b"parsed-test-key!" * 2)
RAW_IDS = ("C001", "C002", "C003", "C004", "L778")
# What differs between two loads of the same files: when, and under which load id.
LOAD_SPECIFIC = {"load_id", "started_at", "finished_at"}


def _returns(tmp_path: Path) -> Path:
    """Two overlapping CIN years (the newer says otherwise), 903 tables, local extracts."""
    root = tmp_path / "returns"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    newer = (FIXTURES / "cin" / "cin_2024.xml").read_text()
    newer = newer.replace("<Year>2024", "<Year>2025").replace(">1B<", ">2A<")
    (root / "cin" / "cin_2025.xml").write_text(newer)
    write_annex_a(root / "annex_a.xlsx")
    return root


def _contents(w: Warehouse) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, without what is specific to one load, in a stable order."""
    out = {}
    for t in TABLES:
        rows: pa.Table = w.table(t.name).to_pyarrow()
        keep = [c for c in rows.column_names if c not in LOAD_SPECIFIC]
        records = rows.select(keep).to_pylist()
        out[t.name] = sorted(records, key=lambda r: json.dumps(r, default=str, sort_keys=True))
    return out


def test_parse_then_load_is_the_same_as_ingest(engine: Warehouse, tmp_path: Path) -> None:
    returns = _returns(tmp_path)
    with Warehouse.connect(f"duckdb:///{tmp_path / 'direct.duckdb'}") as direct:
        ingested = ingest([returns], direct, PSEUDO, la_code="E10000011").to_json()
        expected = _contents(direct)

    parsed = parse([returns], tmp_path / "parsed", PSEUDO, la_code="E10000011").to_json()
    loaded = load_parsed([tmp_path / "parsed"], engine).to_json()

    assert _contents(engine) == expected
    assert engine.count("referrals") and engine.count("quarantine")
    # The newer return wins the referral both years hold, as in one ingest (the Annex A
    # workbook's own referrals are other records).
    sources = {
        r["referral_source"] for r in expected["referrals"] if r["source_file"].endswith(".xml")
    }
    assert "2A" in sources and "1B" not in sources
    for report in (parsed, loaded):
        assert report["totals"] == ingested["totals"]
        assert report["quarantine_reasons"] == ingested["quarantine_reasons"]
        totals = report["totals"]
        assert totals["read"] == totals["loaded"] + totals["quarantined"]
    assert [f["tables"] for f in loaded["files"]] == [f["tables"] for f in ingested["files"]]
    assert [f["notes"] for f in loaded["files"] if "notes" in f] == [
        f["notes"] for f in ingested["files"] if "notes" in f
    ]

    # Loading the same folder again adds nothing, not even a loads row.
    again = load_parsed([tmp_path / "parsed"], engine).to_json()
    assert again["load_id"] is None and again["nothing_loaded"] is None
    assert len(again["already_loaded"]) == len(loaded["files"])
    assert _contents(engine) == expected
    assert engine.count("loads") == 1


def test_a_file_ingested_directly_is_not_loaded_again_from_parquet(tmp_path: Path) -> None:
    with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as w:
        ingest([FIXTURES / "cin"], w, PSEUDO)
        parse([FIXTURES / "cin"], tmp_path / "parsed", PSEUDO)
        report = load_parsed([tmp_path / "parsed"], w)
        assert report.load_id is None and len(report.already_loaded) == 1
        assert w.count("loads") == 1


def test_parquet_files_hold_no_raw_child_identifiers(tmp_path: Path) -> None:
    parse([_returns(tmp_path)], tmp_path / "parsed", PSEUDO, la_code="E10000011")
    files = [p for p in (tmp_path / "parsed").rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        data = path.read_bytes()
        for raw in RAW_IDS:
            assert raw.encode() not in data, f"{raw} in {path}"


def test_parsing_again_or_in_shares_saves_each_file_once(tmp_path: Path) -> None:
    returns = _returns(tmp_path)
    whole = parse([returns], tmp_path / "whole", PSEUDO, la_code="E10000011")
    again = parse([returns], tmp_path / "whole", PSEUDO, la_code="E10000011").to_json()
    assert again["files"] == [] and len(again["already_parsed"]) == len(whole.saved)
    assert "already parsed" in again["already_parsed"][0]["message"]
    assert again["nothing_parsed"] is None

    shares = [
        parse([returns], tmp_path / "shared", PSEUDO, la_code="E10000011", part=(k, 3))
        for k in (1, 2, 3)
    ]
    assert sum(len(s.saved) for s in shares) == len(whole.saved)
    folders = lambda root: sorted(p.parent.name for p in root.glob(f"*/{MANIFEST}"))  # noqa: E731
    assert folders(tmp_path / "shared") == folders(tmp_path / "whole")
    # No half-written folder is left behind.
    assert not [p for p in (tmp_path / "shared").iterdir() if p.name.startswith(".")]
    with pytest.raises(InputError, match="K/N"):
        parse_part("3/2")


def test_folders_parsed_with_another_key_are_refused(tmp_path: Path) -> None:
    parse([FIXTURES / "cin"], tmp_path / "parsed", PSEUDO)
    with (
        Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as w,
        pytest.raises(InputError, match="different pseudonymisation key"),
    ):
        load_parsed([tmp_path / "parsed"], w, key=Pseudonymiser(b"another-key-0123" * 2))
    (tmp_path / "empty").mkdir()
    with (
        Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as w,
        pytest.raises(InputError, match="No parsed files"),
    ):
        load_parsed([tmp_path / "empty"], w)


def test_cli_parse_then_load(tmp_path: Path) -> None:
    runner = CliRunner()
    home = str(tmp_path / "home")
    parsed = runner.invoke(
        app, ["parse", str(FIXTURES / "cin"), "--out", str(tmp_path / "p"), "--home", home]
    )
    assert parsed.exit_code == 0, parsed.output
    loaded = runner.invoke(app, ["load", str(tmp_path / "p"), "--home", home, "--json"])
    assert loaded.exit_code == 0, loaded.output
    payload = json.loads(loaded.stdout)
    assert payload["load_id"] and payload["totals"]["loaded"] > 0
    again = runner.invoke(app, ["load", str(tmp_path / "p"), "--home", home])
    assert again.exit_code == 0 and "Already loaded" in again.stdout
    # A workspace without the parsing key refuses the load, in plain words.
    other = subprocess.run(
        [sys.executable, "-m", "csc_insight.cli", "load", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        env=os.environ | {"CSC_INSIGHT_HOME": str(tmp_path / "other")},
        check=False,
    )
    assert other.returncode == 2
    assert "has no pseudonymisation key: copy the" in " ".join(other.stderr.split())
    assert "Traceback" not in other.stderr + other.stdout
