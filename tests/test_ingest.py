"""Ingest end to end into a real DuckDB warehouse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from csc_insight.errors import InputError
from csc_insight.ingest import IngestReport, ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.store import Warehouse
from fixtures.annex_a_workbook import write_annex_a

FIXTURES = Path(__file__).parent / "fixtures"
PSEUDO = Pseudonymiser(b"ingest-test-key!" * 2)


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}")


def _reconciles(report: IngestReport) -> dict[str, object]:
    out = report.to_json()
    json.dumps(out)  # the interface other tools read
    assert set(out) >= {"load_id", "files", "totals"}
    for f in out["files"]:
        assert set(f) >= {"path", "dataset", "tables"}
        for t in f["tables"]:
            assert set(t) == {"table", "read", "loaded", "quarantined", "superseded"}
            assert t["read"] == t["loaded"] + t["quarantined"]
            assert 0 <= t["superseded"] <= t["loaded"]
    totals = out["totals"]
    assert totals["read"] == totals["loaded"] + totals["quarantined"]
    assert totals["read"] == sum(t["read"] for f in out["files"] for t in f["tables"])
    return out


def test_fixtures_load_and_reconcile(wh: Warehouse) -> None:
    report = ingest([FIXTURES], wh, PSEUDO)
    out = _reconciles(report)
    datasets = {f["dataset"] for f in out["files"]}
    assert {"cin_census", "ssda903.episodes", "local.feedback"} <= datasets
    # Everything in the CIN file is for the authority its header names (845).
    assert {f["la_code"] for f in out["files"]} == {"E10000011"}
    assert wh.count("quarantine") == out["totals"]["quarantined"] == 10
    assert wh.count("referrals") == 3
    assert wh.count("cla_episodes") == 3
    assert wh.count("feedback_scores") == 4
    load_files = wh.table("load_files").execute()
    assert int(load_files.rows_read.sum()) == out["totals"]["read"]
    reasons = " ".join(wh.table("quarantine").execute().reason)
    for raw_id in ("C001", "C003", "C004", "L778"):
        assert raw_id not in reasons


def test_children_merge_what_each_dataset_knows(wh: Warehouse) -> None:
    ingest([FIXTURES], wh, PSEUDO)
    c001 = PSEUDO.child_id("E10000011", "C001")
    row = wh.table("children").filter(lambda t: t.child_id == c001).execute().iloc[0]
    assert row.disabilities == "LD,AUT"  # CIN census
    assert row.locality == "Eastbourne"  # local extract
    assert str(row.date_of_birth.date()) == "2010-05-03"  # 903 header and CIN
    c002 = PSEUDO.child_id("E10000011", "C002")
    uasc = wh.table("children").filter(lambda t: t.child_id == c002).execute().iloc[0]
    assert bool(uasc.uasc) is True


def test_adoption_files_merge_by_child(wh: Warehouse) -> None:
    ingest([FIXTURES / "ssda903"], wh, PSEUDO, la_code="E10000011", collection_year=2024)
    rows = wh.table("adoptions").execute()
    assert len(rows) == 2
    c002 = rows[rows.child_id == PSEUDO.child_id("E10000011", "C002")].iloc[0]
    assert str(c002.date_int.date()) == "2024-02-01"
    assert str(c002.date_should_be_placed.date()) == "2024-01-10"


def test_reloading_an_overlapping_return_does_not_duplicate(wh: Warehouse, tmp_path: Path) -> None:
    later = tmp_path / "next_year"
    later.mkdir()
    text = (FIXTURES / "cin" / "cin_2024.xml").read_text().replace("<Year>2024", "<Year>2025")
    (later / "cin.xml").write_text(text)
    ingest([FIXTURES / "cin"], wh, PSEUDO)
    first = {t: wh.count(t) for t in ("referrals", "assessments", "cp_plans", "cp_reviews")}
    ingest([later], wh, PSEUDO)
    assert {t: wh.count(t) for t in first} == first


def test_annex_a_loads_contacts_early_help_and_referrals(wh: Warehouse, tmp_path: Path) -> None:
    book = write_annex_a(tmp_path / "annex.xlsx")
    out = _reconciles(ingest([book], wh, PSEUDO, la_code="845"))
    [f] = out["files"]
    assert f["dataset"] == "annex_a" and f["la_code"] == "E10000011"
    assert wh.count("contacts") == 2  # one impossible date quarantined
    assert wh.count("early_help_assessments") == 2
    [referral] = wh.table("referrals").to_pyarrow().to_pylist()
    assert referral["team"] == "Team A" and referral["referral_nfa"] is False
    assert referral["return_year"] is None  # Annex A is not a return: it gives way to one
    assert f["collection_year"] == 2024  # from the workbook's latest date
    assert any("no sheet for Annex A list 4 (assessments)" in n for n in f["notes"])
    q = wh.table("quarantine").execute()
    assert list(q.column_name) == ["Date of Contact"]


def test_unrecognised_files_are_skipped_not_fatal(wh: Warehouse, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "local" / "attendance.csv", folder / "renamed.txt")
    (folder / "notes.csv").write_text("what,is,this\n1,2,3\n")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    out = _reconciles(ingest([folder], wh, PSEUDO, la_code="E10000011"))
    assert [f["dataset"] for f in out["files"]] == ["local.attendance"]
    assert {Path(s["path"]).name for s in out["skipped"]} == {"notes.csv", "photo.png"}


def test_files_without_an_authority_need_one(wh: Warehouse) -> None:
    with pytest.raises(InputError, match="la-code"):
        ingest([FIXTURES / "local"], wh, PSEUDO)
    assert wh.count("loads") == 0


def test_an_unreadable_file_is_reported_and_the_others_load(wh: Warehouse, tmp_path: Path) -> None:
    # One file that cannot be read costs nothing but itself (see docs/ingest.md).
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "local" / "attendance.csv", folder / "a.csv")
    (folder / "broken.xml").write_text((FIXTURES / "cin" / "cin_2024.xml").read_text()[:3000])
    out = _reconciles(ingest([folder], wh, PSEUDO, la_code="E10000011"))
    [failed] = out["failed"]
    assert Path(failed["path"]).name == "broken.xml" and "ends early" in failed["reason"]
    assert wh.count("attendance") > 0 and wh.count("loads") == 1
    assert wh.count("referrals") == 0


def test_progress_is_reported(wh: Warehouse) -> None:
    seen: list[float] = []
    ingest(
        [FIXTURES / "local"], wh, PSEUDO, la_code="E10000011", progress=lambda _m, f: seen.append(f)
    )
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_synthetic_authority_round_trips(wh: Warehouse, tmp_path: Path) -> None:
    generator = pytest.importorskip("csc_insight.synth.generator")
    result = generator.generate(tmp_path / "synth", scale="small", seed=1, years=2)
    report = ingest([tmp_path / "synth"], wh, PSEUDO)
    out = _reconciles(report)
    quarantine = wh.table("quarantine").execute()
    assert out["totals"]["quarantined"] == 0, quarantine.head(20).to_string()
    # The generator's ground truth sits beside the data; it is not a dataset.
    assert all(s["path"].endswith(".json") for s in out["skipped"]), out["skipped"]
    counts = {t: wh.count(t) for t in result.counts}
    assert counts == result.counts


def test_reading_in_two_processes_loads_exactly_what_one_does(tmp_path: Path) -> None:
    import duckdb

    from csc_insight.ingest import commit_files, read_files
    from csc_insight.privacy.options import PrivacyOptions
    from csc_insight.privacy.reidentification import lookup_path

    generator = pytest.importorskip("csc_insight.synth.generator")
    generator.generate(tmp_path / "synth", scale="small", seed=2, years=2)
    bad = tmp_path / "synth" / "broken.xml"
    bad.write_text("<Message><Header>", encoding="utf-8")
    seen: dict[int, tuple[object, ...]] = {}
    for processes in (1, 2):
        home = tmp_path / f"home{processes}"
        wh = Warehouse.connect(f"duckdb:///{tmp_path / f'w{processes}.duckdb'}")
        read = read_files(
            [tmp_path / "synth"],
            PSEUDO,
            load_id="one-load",
            earlier={},
            processes=processes,
            privacy=PrivacyOptions(reidentification_lookup=True, home=home),
        )
        out = commit_files(read, wh).to_json()
        contents = _contents(wh)
        with duckdb.connect(str(lookup_path(home)), read_only=True) as con:
            lookup = con.execute(
                "SELECT la_code, child_id, local_child_id FROM reidentification ORDER BY ALL"
            ).fetchall()
        seen[processes] = (out["files"], out["failed"], out["totals"], contents, lookup)
        wh.close()
    assert seen[1][1], "the broken file is reported"
    assert contents["referrals"] and lookup
    assert seen[2] == seen[1]


def _contents(wh: Warehouse) -> dict[str, list[str]]:
    """Every table's rows, sorted (``loads`` left out: its row says when the load ran)."""
    from csc_insight.warehouse.model import TABLES

    return {
        t.name: sorted(map(repr, wh.table(t.name).to_pyarrow().to_pylist()))
        for t in TABLES
        if t.name != "loads"
    }


def test_a_first_load_writes_what_the_full_upsert_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into empty tables a load takes a shorter way (one INSERT per table, a plain copy where
    no key repeats); it must give what the general upsert gives."""
    from csc_insight.ingest import commit_files, read_files
    from csc_insight.warehouse import store

    generator = pytest.importorskip("csc_insight.synth.generator")
    # Seven years of returns and an Annex A workbook: keys repeat across returns and lists.
    generator.generate(tmp_path / "synth", scale="small", seed=3, years=2)
    read = read_files([tmp_path / "synth"], PSEUDO, load_id="one-load", earlier={})
    seen = {}
    for way in ("short", "full"):
        if way == "full":
            monkeypatch.setattr(store, "_empty_tables", lambda _raw, _names: set())
        wh = Warehouse.connect(f"duckdb:///{tmp_path / f'{way}.duckdb'}")
        out = commit_files(read, wh).to_json()
        seen[way] = (out["files"], _contents(wh))
        wh.close()
    assert seen["short"][1]["children"] and seen["short"][1]["referrals"]
    assert seen["short"] == seen["full"]


def test_repeated_keys_are_found_blank_values_included() -> None:
    import pyarrow as pa

    from csc_insight.warehouse.upsert import keys_unique

    rows = pa.table({"a": ["x", "x", None, None], "b": [1, 2, 3, 3], "c": [1, 1, 1, 1]})
    assert keys_unique(rows, ["a", "b"]) is False  # (None, 3) twice
    assert keys_unique(rows.slice(0, 3), ["a", "b"]) is True
    assert keys_unique(rows, ["c"]) is False
