"""The newest return wins whatever order returns are loaded in, on every engine.

Two collection years of the same authority overlap: an episode or referral open on 31 March
is in both returns. Whichever is loaded first, the warehouse must end up the same, holding
the newer return's version (docs/ingest.md section 6).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pytest

from csc_insight.ingest import IngestReport, ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.model import FACT_TABLES
from csc_insight.warehouse.model import table as model_table
from csc_insight.warehouse.store import Warehouse
from engines import ENGINES, open_engine

FIXTURES = Path(__file__).parent / "fixtures"
PSEUDO = Pseudonymiser(b"precedence-test!" * 2)
LA = "E10000011"
C001 = PSEUDO.child_id(LA, "C001")
C002 = PSEUDO.child_id(LA, "C002")
C003 = PSEUDO.child_id(LA, "C003")
_903 = ("episodes.csv", "header.csv", "ad1.csv", "placed_for_adoption.csv")


def _returns(root: Path) -> dict[int, Path]:
    """The 2023-24 returns (the fixtures) and a 2024-25 return that repeats and changes them."""
    old, new = root / "2024", root / "2025"
    for folder in (old, new):
        folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "cin" / "cin_2024.xml", old / "cin.xml")
    for name in _903:
        shutil.copy(FIXTURES / "ssda903" / name, old / name)
    cin = (FIXTURES / "cin" / "cin_2024.xml").read_text()
    # The referral open on 31 March 2024 is repeated, now closed and with another need.
    open_referral = "<PrimaryNeedCode>N2</PrimaryNeedCode>"
    assert cin.count(open_referral) == 1
    cin = cin.replace("<Year>2024", "<Year>2025").replace(
        open_referral,
        "<PrimaryNeedCode>N3</PrimaryNeedCode><CINclosureDate>2024-06-01</CINclosureDate>"
        "<ReasonForClosure>RC2</ReasonForClosure>",
    )
    (new / "cin.xml").write_text(cin)
    episodes = (FIXTURES / "ssda903" / "episodes.csv").read_text()
    open_episode = "C001,10/10/2022,P,C2,N1,U4,PR1,,,,"
    assert open_episode in episodes
    (new / "episodes.csv").write_text(
        episodes.replace(open_episode, "C001,10/10/2022,P,C2,N1,U4,PR1,01/06/2024,E11,,")
    )
    header = (FIXTURES / "ssda903" / "header.csv").read_text()
    # C003's sex is corrected; C002's ethnicity is missing from the newer return.
    (new / "header.csv").write_text(
        header.replace("C003,1,", "C003,2,").replace("C002,2,15/11/2015,BAFR", "C002,2,15/11/2015,")
    )
    for name in ("ad1.csv", "placed_for_adoption.csv"):
        # Repeated unchanged, but not byte for byte: identical bytes are loaded only once.
        (new / name).write_text((FIXTURES / "ssda903" / name).read_text() + "\n")
    return {2024: old, 2025: new}


def _load(w: Warehouse, folder: Path, year: int) -> IngestReport:
    return ingest([folder], w, PSEUDO, la_code=LA, collection_year=year)


def _contents(w: Warehouse) -> dict[str, list[str]]:
    """Every fact table's rows (the load that wrote them aside), in a comparable order."""
    out: dict[str, list[str]] = {}
    for t in FACT_TABLES:
        rows = w.table(t.name).drop("load_id").to_pyarrow().to_pylist()
        out[t.name] = sorted(repr(sorted(r.items())) for r in rows)
    return out


def _superseded(report: IngestReport) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in report.files:
        for t in f.tables.values():
            out[t.table] = out.get(t.table, 0) + t.superseded
    return out


def _one(w: Warehouse, name: str, **where: Any) -> dict[str, Any]:
    t = w.table(name)
    for column, value in where.items():
        t = t.filter(t[column] == value)
    [row] = t.to_pyarrow().to_pylist()
    return row


@pytest.mark.parametrize("engine_name", ENGINES)
def test_the_newest_return_wins_whatever_the_load_order(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    returns = _returns(tmp_path / "returns")
    contents: list[dict[str, list[str]]] = []
    for order in ((2024, 2025), (2025, 2024)):
        folder = tmp_path / f"{engine_name}-{order[0]}"
        folder.mkdir()
        with open_engine(engine_name, request, folder) as w:
            first = _load(w, returns[order[0]], order[0])
            second = _load(w, returns[order[1]], order[1])
            assert not any(_superseded(first).values())
            if order == (2024, 2025):
                # A newer return replaces: nothing of it gives way.
                assert not any(_superseded(second).values())
            else:
                # The older return's repeated records give way to the newer ones, counted
                # per table (its rows are still loaded: read = loaded + quarantined).
                given_way = _superseded(second)
                assert given_way["referrals"] >= 1 and given_way["cla_episodes"] >= 1
                assert given_way["children"] >= 1
                for f in second.files:
                    for t in f.tables.values():
                        assert t.read == t.loaded + t.quarantined
                        assert t.superseded <= t.loaded
                files = w.table("load_files").to_pyarrow().to_pylist()
                assert sum(r["rows_superseded"] or 0 for r in files) == sum(given_way.values())
            referral = _one(w, "referrals", child_id=C001, primary_need="N3")
            assert referral["closure_reason"] == "RC2" and referral["return_year"] == 2025
            assert str(referral["closure_date"]) == "2024-06-01"
            episode = _one(w, "cla_episodes", child_id=C001, rec="E11")
            assert str(episode["dec"]) == "2024-06-01" and episode["return_year"] == 2025
            assert _one(w, "children", child_id=C003)["sex"] == "2"  # the newer value
            # A value the newer return lacks is filled from the older one.
            assert _one(w, "children", child_id=C002)["ethnicity"] == "BAFR"
            contents.append(_contents(w))
    assert contents[0] == contents[1]


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_changed_file_of_the_same_year_still_replaces(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    returns = _returns(tmp_path / "returns")
    corrected = tmp_path / "corrected"
    corrected.mkdir()
    cin = (returns[2025] / "cin.xml").read_text()
    need = "<PrimaryNeedCode>N{}</PrimaryNeedCode>"
    (corrected / "cin.xml").write_text(cin.replace(need.format(3), need.format(4)))
    with open_engine(engine_name, request, tmp_path) as w:
        _load(w, returns[2025], 2025)
        before = w.count("referrals")
        again = _load(w, corrected, 2025)
        assert not any(_superseded(again).values())
        assert w.count("referrals") == before
        assert _one(w, "referrals", child_id=C001, primary_need="N4")["closure_reason"] == "RC2"
        assert w.table("referrals").filter(lambda t: t.primary_need == "N3").count().execute() == 0


# --- Annex A gives way to the returns -------------------------------------------------------


def _annex_a(path: Path, *, s47: bool = False) -> Path:
    """Lists 3 and 4 repeating C001's open referral and its assessment from the CIN census
    (with other values), a referral only Annex A knows, and optionally a section 47 enquiry
    whose referral began before list 3's months."""
    import xlsxwriter

    from csc_insight.datasets.formats import ANNEX_A_LISTS

    lists = {a.number: a for a in ANNEX_A_LISTS}
    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "dd/mm/yyyy"})

    def sheet(number: int, rows: list[list[object]]) -> None:
        ws = book.add_worksheet(lists[number].sheet)
        ws.write_row(0, 0, lists[number].columns)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, str) and value[:2] == "20" and len(value) == 10:
                    ws.write_datetime(r, c, datetime.fromisoformat(value), day)
                elif value is not None:
                    ws.write(r, c, value)

    person = ["C001", "Male", "WBRI", "2010-05-03", 13]
    sheet(
        3,
        [
            [*person, "2024-01-15", "1A", "No", 1, "Team North", "Worker 1"],
            ["A900", "Female", "WBRI", "2012-02-02", 11, "2024-02-20", "5A", "Yes", 1, "Team S"],
        ],
    )
    sheet(4, [[*person, "No", "2024-01-16", "2024-02-01", "Yes", "Team North", "Worker 1"]])
    if s47:
        sheet(5, [[*person, "No", "2023-05-20", "No", "2023-06-01", "Yes", "Team North"]])
    book.close()
    return path


@pytest.mark.parametrize("engine_name", ENGINES)
def test_annex_a_and_the_cin_census_make_one_row_per_record_in_either_order(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    cin = tmp_path / "cin"
    cin.mkdir()
    shutil.copy(FIXTURES / "cin" / "cin_2024.xml", cin / "cin.xml")
    book = _annex_a(tmp_path / "annex_a.xlsx")
    contents: list[dict[str, list[str]]] = []
    for first, second in ((book, cin), (cin, book)):
        folder = tmp_path / f"{engine_name}-{first.name}"
        folder.mkdir()
        with open_engine(engine_name, request, folder) as w:
            ingest([first], w, PSEUDO, la_code=LA)
            last = ingest([second], w, PSEUDO, la_code=LA)
            # The CIN census has 3 referrals; Annex A adds only the one it alone knows.
            assert w.count("referrals") == 4
            referral = _one(w, "referrals", child_id=C001, referral_source="5A")
            # The return's values stand; Annex A only fills what the return lacks.
            assert referral["primary_need"] == "N2" and referral["team"] == "Team North"
            assert referral["return_year"] == 2024 and referral["source_file"] == "cin.xml"
            assessment = _one(w, "assessments", referral_id=referral["referral_id"])
            assert str(assessment["authorised_date"]) == "2024-02-01"
            assert assessment["team"] == "Team North" and assessment["return_year"] == 2024
            annex_only = _one(w, "referrals", child_id=PSEUDO.child_id(LA, "A900"))
            assert annex_only["return_year"] is None and annex_only["referral_nfa"] is True
            if second == book:
                given_way = _superseded(last)
                assert given_way["referrals"] == 1 and given_way["assessments"] == 1
                assert any("superseded" in n for f in last.files for n in f.notes)
            contents.append(_contents(w))
    # Lineage aside (which file a row was first read from), the warehouses agree.
    assert contents[0] == contents[1]


def test_an_annex_a_record_is_linked_to_a_referral_of_the_cin_census_loaded_with_it(
    tmp_path: Path,
) -> None:
    book = _annex_a(tmp_path / "annex_a.xlsx", s47=True)
    with Warehouse.connect(f"duckdb:///{tmp_path / 'alone.duckdb'}") as w:
        alone = ingest([book], w, PSEUDO, la_code=LA)
        [reason] = w.table("quarantine").to_pyarrow().column("reason").to_pylist()
        assert "does not say which referral" in reason and "CIN census" in reason
        assert alone.totals()["quarantined"] == 1
    with Warehouse.connect(f"duckdb:///{tmp_path / 'together.duckdb'}") as w:
        together = ingest([book, FIXTURES / "cin" / "cin_2024.xml"], w, PSEUDO, la_code=LA)
        [annex] = [f for f in together.files if f.dataset == "annex_a"]
        assert not any(t.quarantined for t in annex.tables.values())
        # The enquiry of the CIN census's 2023 referral: one row, not two.
        enquiry = _one(w, "section47", child_id=C001)
        assert enquiry["return_year"] == 2024 and str(enquiry["icpc_date"]) == "2023-06-01"


def test_a_warehouse_made_before_return_year_gets_the_column(engine: Warehouse) -> None:
    # An older csc-insight made referrals and load_files without the new columns.
    for name, column in (("referrals", "return_year"), ("load_files", "rows_superseded")):
        schema = model_table(name).schema()
        engine.con.drop_table(name)
        engine.con.create_table(
            name, schema=ibis.schema({n: schema[n] for n in schema.names if n != column})
        )
    engine.ensure_schema()
    assert "return_year" in engine.table("referrals").columns
    assert "rows_superseded" in engine.table("load_files").columns
    report = ingest([FIXTURES / "cin" / "cin_2024.xml"], engine, PSEUDO)
    assert report.totals()["loaded"] and engine.count("referrals") == 3
