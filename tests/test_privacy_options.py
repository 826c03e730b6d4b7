"""Privacy options: date of birth and postcode precision, the re-identification lookup, and
no raw identifier anywhere a viewer could see it."""

from __future__ import annotations

import csv
import json
import logging
import re
import stat
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from csc_insight.cli import app
from csc_insight.errors import ConfigError, CscInsightError
from csc_insight.ingest import ingest
from csc_insight.privacy.options import PrivacyOptions, first_of_month, reduce_postcodes
from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
from csc_insight.privacy.reidentification import LOOKUP_FILE, reidentify
from csc_insight.synth import generate
from csc_insight.warehouse.model import TABLES
from csc_insight.warehouse.store import Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
PSEUDO = Pseudonymiser(b"privacy-options-k" * 2)
LA = "E10000011"


@pytest.mark.parametrize(
    ("postcode", "district", "sector"),
    [
        ("BN21 4TY", "BN21", "BN21 4"),
        ("bn214ty", "BN21", "BN21 4"),
        (" W1A 1AA ", "W1A", "W1A 1"),
        ("M1 1AE", "M1", "M1 1"),
        ("EC1A 1BB", "EC1A", "EC1A 1"),
        ("BN21", "BN21", "BN21"),  # only the district was recorded
        ("", None, None),
        (None, None, None),
    ],
)
def test_postcode_precision(postcode: str | None, district: str | None, sector: str | None) -> None:
    values = pa.array([postcode], pa.string())
    assert reduce_postcodes(values, "district").to_pylist() == [district]
    assert reduce_postcodes(values, "sector").to_pylist() == [sector]
    if sector:
        assert sector.split(" ")[0] == district


def test_first_of_month_keeps_nulls() -> None:
    days = pa.array([date(2016, 2, 29), None, date(2024, 12, 31)], pa.date32())
    assert first_of_month(days).to_pylist() == [date(2016, 2, 1), None, date(2024, 12, 1)]


def test_options_come_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert PrivacyOptions.from_settings(tmp_path) == PrivacyOptions(home=tmp_path)
    monkeypatch.setenv("CSC_INSIGHT_DOB_PRECISION", "Month")
    monkeypatch.setenv("CSC_INSIGHT_POSTCODE_PRECISION", "sector")
    monkeypatch.setenv("CSC_INSIGHT_REIDENTIFICATION_LOOKUP", "on")
    options = PrivacyOptions.from_settings(tmp_path)
    assert (options.dob_precision, options.postcode_precision) == ("month", "sector")
    assert options.reidentification_lookup
    assert not PrivacyOptions.from_settings(tmp_path, keep_lookup=False).reidentification_lookup
    monkeypatch.setenv("CSC_INSIGHT_POSTCODE_PRECISION", "full")
    with pytest.raises(ConfigError, match="postcode_precision"):
        PrivacyOptions.from_settings(tmp_path)
    monkeypatch.setenv("CSC_INSIGHT_POSTCODE_PRECISION", "district")
    monkeypatch.setenv("CSC_INSIGHT_REIDENTIFICATION_LOOKUP", "maybe")
    with pytest.raises(ConfigError, match="on or off"):
        PrivacyOptions.from_settings(tmp_path)


def test_ingest_degrades_dates_of_birth_and_postcodes(tmp_path: Path) -> None:
    options = PrivacyOptions(dob_precision="month", postcode_precision="sector")
    with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as wh:
        ingest([FIXTURES], wh, PSEUDO, privacy=options)
        children = wh.table("children").to_pyarrow()
        episodes = wh.table("cla_episodes").to_pyarrow()
    dobs = [d for d in children.column("date_of_birth").to_pylist() if d is not None]
    assert dobs and all(d.day == 1 for d in dobs)
    homes = [p for p in episodes.column("home_postcode_district").to_pylist() if p]
    assert homes and all(re.fullmatch(r"[A-Z0-9]{2,4} \d", p) for p in homes)


def test_lookup_is_separate_private_and_reidentifies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = Pseudonymiser(load_or_create_key(home))
    with Warehouse.connect(f"duckdb:///{home / 'warehouse.duckdb'}") as wh:
        ingest([FIXTURES], wh, key, privacy=PrivacyOptions(home=home))
        assert not (home / LOOKUP_FILE).exists()  # off unless asked for
        with pytest.raises(CscInsightError, match="--keep-lookup"):
            reidentify(home, "0" * 20)
    # The lookup covers what is loaded while it is on (files already loaded are skipped).
    with Warehouse.connect(f"duckdb:///{home / 'second.duckdb'}") as wh:
        ingest([FIXTURES], wh, key, privacy=PrivacyOptions(reidentification_lookup=True, home=home))
        table_names = set(wh.con.list_tables())
    path = home / LOOKUP_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert table_names == {t.name for t in TABLES}  # nothing of the lookup in the warehouse
    pseudonym = key.child_id(LA, "C001")
    assert reidentify(home, pseudonym) == [(LA, "C001")]
    assert reidentify(home, pseudonym.upper()) == [(LA, "C001")]
    assert reidentify(home, "f" * 20) == []
    result = CliRunner().invoke(app, ["reidentify", pseudonym, "--home", str(home)])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{LA}\tC001"
    result = CliRunner().invoke(app, ["reidentify", "f" * 20, "--home", str(home)])
    assert result.exit_code == 1


def _raw_ids(folder: Path) -> set[str]:
    """Every child identifier the synthetic authority's files hold."""
    ids: set[str] = set()
    for path in folder.rglob("*.csv"):
        with path.open() as fh:
            for row in csv.DictReader(fh):
                ids.update(v for k, v in row.items() if k in ("CHILD", "child_id") and v)
    for path in folder.rglob("*.xml"):
        ids.update(re.findall(r"<LAchildID>([^<]+)</LAchildID>", path.read_text()))
    return ids


def _found(ids: set[str], text: str) -> set[str]:
    # Identifiers as whole tokens: a 6-digit ID inside a 20-hex-digit pseudonym or a hash is
    # not the ID.
    tokens = set(re.findall(r"[0-9A-Za-z]+", text))
    return ids & tokens


def test_no_raw_identifier_in_warehouse_logs_or_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = tmp_path / "synthetic"
    generate(files, scale="small", seed=5, years=1, la_code=LA)
    ids = _raw_ids(files)
    assert len(ids) > 100
    # Bad rows, so quarantine messages are written too.
    header = next(files.rglob("header.csv"))
    lines = header.read_text().splitlines()
    first = lines[1].split(",")
    first[2] = "31/02/2010"
    lines[1] = ",".join(first)
    header.write_text("\n".join(lines) + "\n")
    home = tmp_path / "home"
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    result = runner.invoke(
        app, ["ingest", str(files), "--home", str(home), "--json", "--keep-lookup"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["totals"]["quarantined"] >= 1
    shown = result.stdout + result.stderr + caplog.text
    assert not _found(ids, shown)

    warehouse = home / "warehouse.duckdb"
    for path in home.iterdir():
        if path.name.startswith("warehouse"):
            assert not _found(ids, path.read_bytes().decode("latin-1")), path.name
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        values: list[str] = []
        for t in TABLES:
            columns = [c for c in t.column_names if t.column(c).dtype == "string"]
            for row in con.execute(f"SELECT {', '.join(columns)} FROM {t.name}").fetchall():
                values.extend(str(v) for v in row if v is not None)
        reasons = con.execute("SELECT reason FROM quarantine").fetchall()
    finally:
        con.close()
    assert reasons
    assert not _found(ids, "\n".join(values))
    # The one place raw identifiers are kept, when asked for: the separate lookup.
    lookup = duckdb.connect(str(home / LOOKUP_FILE), read_only=True)
    try:
        rows = lookup.execute("SELECT local_child_id FROM reidentification").fetchall()
        kept = {r[0] for r in rows}
    finally:
        lookup.close()
    assert kept >= ids - {""}
