"""Readers and detection on small hand-made fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from csc_insight.datasets import annex_a, cin_census, local, ssda903
from csc_insight.datasets.conform import conform
from csc_insight.datasets.detect import detect, walk
from csc_insight.datasets.la_codes import ons_code
from csc_insight.errors import InputError
from csc_insight.privacy.pseudonymise import Pseudonymiser
from fixtures.annex_a_workbook import write_annex_a

FIXTURES = Path(__file__).parent / "fixtures"
CIN = FIXTURES / "cin" / "cin_2024.xml"
PSEUDO = Pseudonymiser(b"test-key" * 4)
POPULATION = Path("/work/shared/reference/dfe/ons_mid-year_population_estimates_2012_to_2024.csv")


@pytest.mark.parametrize(
    ("name", "dataset"),
    [
        ("ssda903/header.csv", "ssda903.header"),
        ("ssda903/episodes.csv", "ssda903.episodes"),
        ("ssda903/reviews.csv", "ssda903.reviews"),
        ("ssda903/uasc.csv", "ssda903.uasc"),
        ("ssda903/missing.csv", "ssda903.missing"),
        ("ssda903/oc2.csv", "ssda903.oc2"),
        ("ssda903/oc3.csv", "ssda903.oc3"),
        ("ssda903/ad1.csv", "ssda903.ad1"),
        ("ssda903/placed_for_adoption.csv", "ssda903.placed_for_adoption"),
        ("ssda903/previous_permanence.csv", "ssda903.previous_permanence"),
        ("cin/cin_2024.xml", "cin_census"),
        ("local/services.csv", "local.service_involvements"),
        ("local/attendance.csv", "local.attendance"),
        ("local/feedback.csv", "local.feedback"),
    ],
)
def test_detected_by_content_even_when_renamed(tmp_path: Path, name: str, dataset: str) -> None:
    renamed = tmp_path / "export_0001.dat"
    shutil.copy(FIXTURES / name, renamed)
    assert detect(renamed).dataset == dataset


def test_annex_a_detected_by_content(tmp_path: Path) -> None:
    assert detect(write_annex_a(tmp_path / "upload.bin")).dataset == "annex_a"


@pytest.mark.parametrize(
    ("content", "reason_part"),
    [
        (b"", "empty"),
        (b"a,b,c\n1,2,3\n", "match no SSDA903 table"),
        (b"CHILD,DOB,REVIEW_CODE\nC1,01/01/2010,PN1\n", "looks like SSDA903 reviews"),
        (b"<Other><x/></Other>", "root element <Other>"),
        (
            b"<Message><Header><CollectionDetails><Collection>SSDA903</Collection>"
            b"</CollectionDetails></Header></Message>",
            "SSDA903 collection",
        ),
        (b"\x00\x01\x02binary", "binary"),
        (b"involvement_id,child_id,service\n", "looks like a local service_involvements"),
    ],
)
def test_unrecognised_files_say_why(tmp_path: Path, content: bytes, reason_part: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    d = detect(path)
    assert d.dataset is None
    assert d.reason is not None and reason_part in d.reason


def test_walk_is_recursive_and_rejects_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.csv").write_text("x\n")
    assert [p.name for p, _ in walk([tmp_path])] == ["f.csv"]
    with pytest.raises(InputError, match="no such file"):
        walk([tmp_path / "nope"])


def test_903_episodes_reduce_postcodes_to_districts() -> None:
    raw, *_ = ssda903.read(FIXTURES / "ssda903" / "episodes.csv", "episodes", collection_year=None)
    out = conform(raw, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
    assert out.rows.column("home_postcode_district").to_pylist() == ["BN21", "BN21", "BN21"]
    assert out.rows.column("placement_postcode_district").to_pylist() == ["BN1", "TN34", "BN21"]
    assert out.quarantine.column("reason").to_pylist() == [
        "DECOM '32/01/2023' is not a date in a format we accept (dd/mm/yyyy or yyyy-mm-dd)"
    ]
    assert out.rows.column_names[-3:] == ["load_id", "source_file", "source_row"]


def test_903_outcomes_need_a_collection_year() -> None:
    with pytest.raises(InputError, match="collection year"):
        ssda903.read(FIXTURES / "ssda903" / "oc2.csv", "oc2", collection_year=None)
    raw, *_ = ssda903.read(FIXTURES / "ssda903" / "oc2.csv", "oc2", collection_year=2024)
    out = conform(raw, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
    assert out.rows.column("sdq_score").to_pylist() == [14]
    assert out.rows.column("collection_year").to_pylist() == [2024]
    assert out.rows.column("health_check").to_pylist() == [True]


def test_cin_census_reads_every_record_with_element_numbers() -> None:
    raws, header = cin_census.read(CIN)
    assert (header.lea, header.collection_year) == ("845", 2024)
    by_table = {r.table: r for r in raws}
    assert {t: r.data.num_rows for t, r in by_table.items()} == {
        "children": 3,
        "referrals": 5,
        "assessments": 3,
        "section47": 1,
        "cin_plans": 1,
        "cp_plans": 1,
        "cp_reviews": 2,
    }
    # Message=1, Header..DateTime=2..13, Children=14, so the first Child is element 15.
    assert by_table["children"].data.column("source_row").to_pylist()[0] == 15
    s47 = by_table["section47"].data.to_pylist()[0]
    assert s47["icpc_date"] == "2023-06-01"
    assessment = by_table["assessments"].data.to_pylist()[0]
    assert assessment["factors"] == "2A,3B"
    child = by_table["children"].data.to_pylist()[0]
    assert (child["disabilities"], child["disability"]) == ("LD,AUT", "true")


def test_cin_ids_are_stable_across_returns_and_hide_the_child(tmp_path: Path) -> None:
    # The same referral in next year's return, with other children around it.
    text = CIN.read_text().replace("<Year>2024</Year>", "<Year>2025</Year>")
    text = text.replace(
        "<Children>",
        "<Children><Child><ChildIdentifiers><LAchildID>Z9"
        "</LAchildID><GenderCurrent>1</GenderCurrent></ChildIdentifiers>"
        "</Child>",
    )
    later = tmp_path / "cin_2025.xml"
    later.write_text(text)

    def referral_ids(path: Path) -> set[str]:
        raws, _ = cin_census.read(path)
        raw = next(r for r in raws if r.table == "referrals")
        out = conform(raw, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
        return set(out.rows.column("referral_id").to_pylist())

    first, second = referral_ids(CIN), referral_ids(later)
    assert first == second and len(first) == 3
    assert not any("C001" in i for i in first)


def test_cin_streaming_handles_namespaces(tmp_path: Path) -> None:
    text = CIN.read_text().replace("<Message>", '<Message xmlns="http://www.dfe.gov.uk/CIN">')
    path = tmp_path / "ns.xml"
    path.write_text(text)
    raws, header = cin_census.read(path)
    assert header.lea == "845"
    assert next(r for r in raws if r.table == "referrals").data.num_rows == 5


def test_cin_ignores_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<Message><Header><Source><LEA>845</LEA></Source></Header><Children><Child>"
        "<ChildIdentifiers><LAchildID>&x;</LAchildID><GenderCurrent>1</GenderCurrent>"
        "</ChildIdentifiers></Child></Children></Message>"
    )
    raws, _ = cin_census.read(path)
    assert "TOPSECRET" not in str(raws[0].data.to_pylist())


def test_malformed_cin_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(CIN.read_text()[:2000])
    with pytest.raises(InputError, match="malformed"):
        cin_census.read(path)


def test_local_service_extract_feeds_children_once_per_child() -> None:
    raws = local.read(FIXTURES / "local" / "services.csv", "service_involvements")
    services, children = raws
    assert services.table == "service_involvements" and children.table == "children"
    rows = children.data.to_pylist()
    assert [r["child_id"] for r in rows] == ["C001", "L777", "L778"]
    # Row 2 repeats C001 with blanks: the earlier characteristics survive.
    assert rows[0]["locality"] == "Eastbourne" and rows[0]["sex"] == "1"


def test_local_feedback_scores_one_row_per_answer() -> None:
    feedback, scores, children = local.read(FIXTURES / "local" / "feedback.csv", "feedback")
    assert children.data.column("child_id").to_pylist() == ["L777"]
    out = conform(scores, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
    assert out.read == 5
    assert sorted(out.rows.column("item").to_pylist()) == [
        "helpful",
        "helpful",
        "helpful",
        "listened",
    ]
    assert out.quarantine.column("reason").to_pylist() == ["the score is not between 1 and 5"]
    f = conform(feedback, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
    assert f.rows.column("response_date").to_pylist()[1].isoformat() == "2023-10-02"


@pytest.mark.parametrize(
    ("sheet", "number"),
    [
        ("List 1", 1),
        ("list1 contacts", 1),
        ("L1 - Contacts", 1),
        ("List 10 - Adoption", 10),
        ("Contacts", 1),
        ("list 2 early help", 2),
        ("Summary", None),
    ],
)
def test_annex_a_sheet_names(sheet: str, number: int | None) -> None:
    assert annex_a.list_for_sheet(sheet) == number


def test_annex_a_headers_tolerate_case_punctuation_and_spelling() -> None:
    cells = ["CHILD UNIQUE ID.", "sex", "Date-of-Birth", "Date of Contatc", "Contact Source"]
    found = annex_a.match_header(cells, annex_a.LISTS[1].columns)
    assert found == {
        "Child Unique ID": 0,
        "Gender": 1,
        "Date of Birth": 2,
        "Date of Contact": 3,
        "Contact Source": 4,
    }


def test_annex_a_workbook_reads_lists(tmp_path: Path) -> None:
    lists, others = annex_a.sheets(write_annex_a(tmp_path / "a.xlsx"))
    assert [s.number for s in lists] == [1, 2, 3] and others == ["Notes"]
    contacts, children = annex_a.read_sheet(lists[0])
    assert contacts.data.column("child_id").to_pylist() == ["12345", "A777", "A778"]
    assert contacts.data.column("contact_date").to_pylist()[0] == "2024-01-10"
    assert children.data.column("sex").to_pylist() == ["1", "2", "2"]
    assert children.data.column("ethnicity").to_pylist()[0] == "WBRI"
    early, _ = annex_a.read_sheet(lists[1])
    out = conform(early, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
    assert out.table == "early_help_assessments"
    assert len(set(out.rows.column("assessment_id").to_pylist())) == 2


def test_la_codes_map_old_codes() -> None:
    assert ons_code("845") == "E10000011"
    assert ons_code("E09000001") == "E09000001"
    assert ons_code("999") == "999"
    assert ons_code("999", {"999": "E06000999"}) == "E06000999"


@pytest.mark.skipif(not POPULATION.exists(), reason="shared reference data not present")
def test_la_codes_agree_with_published_estimates() -> None:
    import pandas as pd

    ref = pd.read_csv(POPULATION, dtype=str)
    ref = ref[(ref.geographic_level == "Local authority") & (ref.time_period == "2024")]
    pairs = dict(zip(ref.old_la_code, ref.new_la_code, strict=True))
    assert pairs, "reference file had no 2024 authorities"
    assert all(ons_code(old) == new for old, new in pairs.items())


def test_raw_tables_are_strings() -> None:
    raws, _ = cin_census.read(CIN)
    for raw in raws:
        for name in raw.data.column_names:
            if name not in ("source_row", "_parent_row"):
                assert raw.data.schema.field(name).type == pa.string()
