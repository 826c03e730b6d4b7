"""SSDA903 XML: the same return as CSV or XML loads to the same warehouse."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from csc_insight.datasets import ssda903_xml
from csc_insight.datasets.detect import SSDA903_XML, detect
from csc_insight.errors import InputError
from csc_insight.ingest import ingest
from csc_insight.privacy.options import PrivacyOptions
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.synth import generate
from csc_insight.synth.writers.ssda903_xml import write_ssda903_xml
from csc_insight.warehouse.model import FACT_TABLES, LINEAGE
from csc_insight.warehouse.store import Warehouse

PSEUDO = Pseudonymiser(b"xml-903-test-key" * 2)
LA = "E08000036"
LINEAGE_COLUMNS = [c.name for c in LINEAGE]

# The layout of the sector validator's test file: CHILD straight under the root, EPISODE
# straight under CHILD, no return-level header.
VALIDATOR_LAYOUT = """<?xml version='1.0' encoding='us-ascii'?>
<EXPSSDA903><CHILD><HEADER><CHILDID>947390</CHILDID><UPN>E095867270650</UPN><SEX>1</SEX>
<DOB>02/03/2013</DOB><ETHNIC>BOTH</ETHNIC><UASC>0</UASC><AREVIEW><REVIEW>28/01/2024</REVIEW>
<REVIEW_CODE>PN3</REVIEW_CODE></AREVIEW><MOTHER /><MC_DOB /></HEADER><EPISODE>
<DECOM>11/11/2023</DECOM><RNE>L</RNE><LS>V3</LS><CIN>N1</CIN><PL>A3</PL>
<PL_POST>BN21 4TY</PL_POST><HOME_POST>TN34 1AA</HOME_POST><URN>1594525</URN>
<PLACE_PROVIDER>PR4</PLACE_PROVIDER><DEC>26/04/2024</DEC><REC>E7</REC>
<REASON_PLACE_CHANGE /></EPISODE></CHILD><CHILD><HEADER><CHILDID>97318</CHILDID>
<SEX>2</SEX><DOB>19/12/2007</DOB><ETHNIC>APKN</ETHNIC><UASC>1</UASC><DUC>19/12/2025</DUC>
</HEADER></CHILD></EXPSSDA903>
"""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, scale="small", seed=3, years=1, la_code=LA)
    return next((out / "ssda903").iterdir())


def _contents(wh: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    """Every fact table without its lineage, as sorted rows."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for t in FACT_TABLES:
        rows = wh.table(t.name).to_pyarrow()
        rows = rows.drop_columns([c for c in LINEAGE_COLUMNS if c in rows.column_names])
        out[t.name] = sorted(
            (tuple(r.values()) for r in rows.to_pylist()), key=lambda r: tuple(map(str, r))
        )
    return out


def test_csv_and_xml_of_one_return_load_identically(synthetic: Path, tmp_path: Path) -> None:
    xml = write_ssda903_xml(synthetic, tmp_path / "return.xml", la_code=LA, collection_year=2025)
    with Warehouse.connect(f"duckdb:///{tmp_path / 'csv.duckdb'}") as from_csv:
        csv_report = ingest([synthetic], from_csv, PSEUDO, la_code=LA)
        csv_rows = _contents(from_csv)
    with Warehouse.connect(f"duckdb:///{tmp_path / 'xml.duckdb'}") as from_xml:
        # The XML's own header says which authority and year: nothing needs giving.
        xml_report = ingest([xml], from_xml, PSEUDO)
        xml_rows = _contents(from_xml)
        quarantined = from_xml.count("quarantine")
    assert {f.collection_year for f in csv_report.files} == {2025}
    assert [(f.dataset, f.la_code, f.collection_year) for f in xml_report.files] == [
        (SSDA903_XML, LA, 2025)
    ]
    for name in ("children", "cla_episodes", "cla_reviews", "missing", "oc2", "care_leavers"):
        assert csv_rows[name], f"the synthetic return has no {name}"
    assert csv_rows == xml_rows
    assert quarantined == csv_report.totals()["quarantined"]
    out = xml_report.to_json()
    assert out["totals"]["read"] == out["totals"]["loaded"] + out["totals"]["quarantined"]


def test_xml_without_a_header_takes_the_year_from_its_episodes(
    synthetic: Path, tmp_path: Path
) -> None:
    xml = write_ssda903_xml(synthetic, tmp_path / "return.xml")
    d = detect(xml)
    assert (d.dataset, d.la_code, d.collection_year) == (SSDA903_XML, None, None)
    result = ssda903_xml.read(xml)
    assert result.collection_year == 2025
    oc2 = result.tables["oc2"][0]
    assert oc2.constants["collection_year"] == 2025
    with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as wh:
        with pytest.raises(InputError, match="la-code"):
            ingest([xml], wh, PSEUDO)
        report = ingest([xml], wh, PSEUDO, la_code=LA)
    assert report.files[0].collection_year == 2025


def test_validator_layout_reads_with_element_numbers(tmp_path: Path) -> None:
    path = tmp_path / "fake_903.xml"
    path.write_text(VALIDATOR_LAYOUT)
    result = ssda903_xml.read(path, postcode_precision="sector")
    header = result.tables["header"][0]
    assert header.table == "children"
    assert header.data.column("child_id").to_pylist() == ["947390", "97318"]
    # Element numbers: EXPSSDA903 is 1, the first CHILD 2; its HEADER holds 12 elements
    # (HEADER itself, 8 fields, AREVIEW and its 2), so the EPISODE is element 15.
    assert header.data.column("source_row").to_pylist() == [2, 28]
    episodes, known = result.tables["episodes"]
    assert episodes.data.column("source_row").to_pylist() == [15]
    assert episodes.data.column("place").to_pylist() == ["A3"]  # <PL> is PLACE
    assert episodes.data.column("placement_postcode_district").to_pylist() == ["BN21 4"]
    assert episodes.data.column("home_postcode_district").to_pylist() == ["TN34 1"]
    reviews = result.tables["reviews"][0]
    assert reviews.data.column("review_date").to_pylist() == ["28/01/2024"]
    assert reviews.data.column("source_row").to_pylist() == [10]
    # UASC 0 is not UASC; UASC 1 with its DUC is.
    uasc = result.tables["uasc"][0]
    assert uasc.data.column("child_id").to_pylist() == ["97318"]
    assert uasc.constants == {"uasc": True}
    assert known.data.column("child_id").to_pylist() == ["947390"]


def test_namespaced_xml_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ns.xml"
    path.write_text(
        VALIDATOR_LAYOUT.replace("<EXPSSDA903>", '<EXPSSDA903 xmlns="urn:dfe:ssda903">')
    )
    assert detect(path).dataset == SSDA903_XML
    assert ssda903_xml.read(path).tables["episodes"][0].data.num_rows == 1


def test_return_header_names_the_authority_and_year(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text(
        VALIDATOR_LAYOUT.replace(
            "<EXPSSDA903>", "<EXPSSDA903><HEADER><LA>845</LA><YEAR>2023-24</YEAR></HEADER>"
        )
    )
    d = detect(path)
    assert (d.dataset, d.la_code, d.collection_year) == (SSDA903_XML, "845", 2024)
    result = ssda903_xml.read(path)
    assert result.collection_year == 2024
    # The return header's fields are not mistaken for a child's.
    assert result.tables["header"][0].data.num_rows == 2


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<EXPSSDA903><CHILD><HEADER><CHILDID>&x;</CHILDID><SEX>1</SEX></HEADER></CHILD>"
        "</EXPSSDA903>"
    )
    result = ssda903_xml.read(path, collection_year=2024)
    assert "TOPSECRET" not in str(result.tables["header"][0].data.to_pylist())


def test_malformed_xml_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(VALIDATOR_LAYOUT[:700])
    with pytest.raises(InputError, match="malformed"):
        ssda903_xml.read(path)


def test_outcomes_without_any_year_are_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "oc3.xml"
    path.write_text(
        "<EXPSSDA903><CHILD><HEADER><CHILDID>1</CHILDID><DOB>01/01/2005</DOB>"
        "<IN_TOUCH>YES</IN_TOUCH><ACTIV>F2</ACTIV><ACCOM>S1</ACCOM></HEADER></CHILD></EXPSSDA903>"
    )
    with pytest.raises(InputError, match="collection year"):
        ssda903_xml.read(path)
    result = ssda903_xml.read(path, collection_year=2024)
    care_leavers = result.tables["oc3"][0]
    assert care_leavers.table == "care_leavers"
    assert care_leavers.data.column("in_touch").to_pylist() == ["YES"]


def test_xml_honours_privacy_options_through_ingest(tmp_path: Path) -> None:
    path = tmp_path / "fake_903.xml"
    path.write_text(VALIDATOR_LAYOUT)
    options = PrivacyOptions(dob_precision="month", postcode_precision="sector")
    with Warehouse.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as wh:
        ingest([path], wh, PSEUDO, la_code=LA, privacy=options)
        episodes = wh.table("cla_episodes").to_pyarrow()
        children = wh.table("children").to_pyarrow()
    assert episodes.column("placement_postcode_district").to_pylist() == ["BN21 4"]
    dobs = {str(d) for d in children.column("date_of_birth").to_pylist()}
    assert dobs == {"2013-03-01", "2007-12-01"}
    assert isinstance(children, pa.Table)
