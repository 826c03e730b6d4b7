"""The web app against a real DuckDB warehouse: pages, GOV.UK template, suppression."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from lxml import html as lxml_html

from csc_insight.indicators import compute
from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import FileTableReport, LoadBatch, Warehouse, arrow_schema
from csc_insight.web.app import STATIC, create_app
from csc_insight.web.formatting import Formatter, format_datetime

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx
    from fastapi.testclient import TestClient

LA = "E06000001"
CHILDREN = 40
NFA = 3  # referrals with no further action: a small number
MISSING = 2  # missing episodes: a small number of rows


def _rows(name: str, rows: list[dict[str, Any]], load_id: str) -> pa.Table:
    lineage = {"load_id": load_id, "source_file": f"{name}.csv"}
    full = [{**lineage, "source_row": i + 1, **r} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(full, schema=arrow_schema(table(name)))


def load_sample(url: str) -> None:
    """One load through the real store: 40 children and referrals, 3 NFA, 2 missing rows."""
    with Warehouse.connect(url) as warehouse:
        batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
        children = [{"la_code": LA, "child_id": f"c{i}", "sex": "1"} for i in range(CHILDREN)]
        referrals = [
            {
                "la_code": LA,
                "child_id": f"c{i}",
                "referral_id": f"r{i}",
                "referral_date": date(2024, 5 + i % 6, 1 + i % 28),
                "referral_nfa": i < NFA,
            }
            for i in range(CHILDREN)
        ]
        missing = [
            {"la_code": LA, "child_id": f"c{i}", "start_date": date(2024, 7, 1 + i)}
            for i in range(MISSING)
        ]
        batch.add("children", _rows("children", children, batch.load_id))
        batch.add("referrals", _rows("referrals", referrals, batch.load_id))
        batch.add("missing", _rows("missing", missing, batch.load_id))
        read = CHILDREN * 2 + MISSING + 4
        batch.files.append(
            FileTableReport("sample.csv", "0" * 64, "local", "children", 2025, read, read - 4, 4)
        )
        warehouse.commit_load(batch)


@pytest.fixture(scope="module")
def loaded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('wh') / 'warehouse.duckdb'}"
    load_sample(url)
    return url


@pytest.fixture(scope="module")
def viewer(loaded_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(loaded_url)) as client:
        yield client


@pytest.fixture(scope="module")
def analyst(loaded_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(loaded_url, role="analyst")) as client:
        yield client


@pytest.fixture(scope="module")
def viewer_page(viewer: TestClient) -> lxml_html.HtmlElement:
    response = viewer.get("/")
    assert response.status_code == 200
    return lxml_html.fromstring(response.text)


@pytest.fixture
def empty(tmp_path: Path) -> TestClient:
    return TestClient(create_app(f"duckdb:///{tmp_path / 'empty.duckdb'}"))


def text(el: lxml_html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


def table_by_caption(doc: lxml_html.HtmlElement, start: str) -> lxml_html.HtmlElement:
    for t in doc.findall(".//table"):
        caption = t.find("caption")
        if caption is not None and text(caption).startswith(start):
            return t
    raise AssertionError(f"no table captioned {start!r}")


def row_cells(t: lxml_html.HtmlElement) -> dict[str, list[str]]:
    """Body rows keyed by their row header."""
    out: dict[str, list[str]] = {}
    for tr in t.findall("./tbody/tr"):
        header = tr.find("th")
        assert header is not None and header.get("scope") == "row"
        out[text(header)] = [text(td) for td in tr.findall("td")]
    return out


# --- pages ----------------------------------------------------------------------------------
def test_healthz(empty: TestClient) -> None:
    response = empty.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_empty_warehouse_is_friendly(empty: TestClient) -> None:
    response = empty.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    doc = lxml_html.fromstring(response.text)
    assert [text(h) for h in doc.findall(".//h1")] == ["No data loaded yet"]
    assert "csc-insight ingest PATH" in response.text
    assert "csc-insight demo" in response.text
    data = empty.get("/data")
    assert data.status_code == 200
    assert "Nothing has been loaded yet" in data.text


def test_govuk_assets_are_served(empty: TestClient) -> None:
    css = empty.get("/static/govuk/govuk-frontend.min.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".govuk-template" in css.text
    assert "GDS Transport" not in css.text  # csc-insight is not on GOV.UK
    for path in ("/static/govuk/govuk-frontend.min.js", "/static/app.js"):
        js = empty.get(path)
        assert js.status_code == 200
        assert "javascript" in js.headers["content-type"]
    assert "initAll" in empty.get("/static/app.js").text


def test_vendored_govuk_frontend_is_small_and_recorded() -> None:
    folder = STATIC / "govuk"
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 2_000_000
    assert (folder / "VERSION").read_text().startswith("govuk-frontend 6.6.0")
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert not list(folder.rglob("*.map"))


def test_page_uses_the_govuk_template(viewer: TestClient, viewer_page: Any) -> None:
    doc = viewer_page
    assert "govuk-template" in doc.get("class").split()
    assert doc.get("lang") == "en"
    body = doc.find("body")
    assert body.get("class") == "govuk-template__body"
    script = body.find("script")
    assert script is not None and "govuk-frontend-supported" in (script.text or "")
    skip = doc.find(".//a[@class='govuk-skip-link']")
    assert skip is not None and skip.get("href") == "#main-content"
    assert doc.find(".//header[@class='govuk-template__header']") is not None
    assert "csc-insight" in text(doc.find(".//div[@class='govuk-generic-header']"))
    assert "Alpha" in text(doc.find(".//div[@class='govuk-phase-banner govuk-width-container']"))
    main = doc.find(".//main[@id='main-content']")
    assert main is not None and "govuk-main-wrapper" in main.get("class")
    assert doc.find(".//footer[@class='govuk-template__footer']") is not None
    assert doc.find(".//*[@class='govuk-footer__link govuk-footer__copyright-logo']") is None
    stylesheet = doc.find(".//link[@rel='stylesheet']").get("href")
    assert viewer.get(stylesheet).status_code == 200
    module = doc.find(".//script[@type='module']").get("src")
    assert viewer.get(module).status_code == 200
    assert "style=" not in lxml_html.tostring(main, encoding="unicode")


def test_overview_is_well_formed(loaded_url: str, viewer_page: Any) -> None:
    doc = viewer_page
    assert [text(h) for h in doc.findall(".//h1")] == ["Overview"]
    summary = text(doc.find(".//dl[@class='govuk-summary-list']"))
    assert LA in summary
    assert "Financial year 2024-25 (1 April 2024 to 31 March 2025)" in summary
    assert "4 rows were set aside (quarantined) in the latest load" in summary
    with Warehouse.connect(loaded_url) as warehouse:
        finished = warehouse.table("loads").finished_at.max().execute()
    assert format_datetime(finished) in summary  # e.g. "25 November 2026 at 7:16pm"
    for t in doc.findall(".//table"):
        assert t.get("class") == "govuk-table"
        assert t.find("caption") is not None
        heads = t.findall("./thead/tr/th")
        assert heads and all(th.get("scope") == "col" for th in heads)
    headline = table_by_caption(doc, "Headline indicators, 2024-25")
    numeric = [th for th in headline.findall("./thead/tr/th") if "--numeric" in th.get("class")]
    assert [text(th) for th in numeric] == ["Value", "Numerator", "Denominator"]
    for tr in headline.findall("./tbody/tr"):
        assert all("govuk-table__cell--numeric" in td.get("class") for td in tr[1:4])


def test_overview_for_a_chosen_period(viewer: TestClient) -> None:
    response = viewer.get("/", params={"period": "2023-24"})
    assert response.status_code == 200
    assert "Headline indicators, 2023-24" in response.text


def test_bad_period_is_explained_not_a_500(viewer: TestClient) -> None:
    response = viewer.get("/", params={"period": "last year"})
    assert response.status_code == 400
    assert "financial year such as" in response.text
    assert response.text.count("<h1") == 1


def test_unknown_page_and_unopenable_warehouse(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    client = TestClient(create_app(f"duckdb:///{blocked / 'warehouse.duckdb'}"))
    response = client.get("/")
    assert response.status_code == 503
    assert "The warehouse cannot be opened" in response.text
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.text


def test_viewer_sees_c_for_small_numbers_analyst_sees_them(
    loaded_url: str, viewer_page: Any, analyst: TestClient
) -> None:
    analyst_page = lxml_html.fromstring(analyst.get("/").text)
    caption = "Rows in each table"
    viewer_counts = row_cells(table_by_caption(viewer_page, caption))
    analyst_counts = row_cells(table_by_caption(analyst_page, caption))
    assert viewer_counts["missing"][0] == "c"
    assert analyst_counts["missing"][0] == str(MISSING)
    assert viewer_counts["children"][0] == analyst_counts["children"][0] == str(CHILDREN)

    # Every headline row shows what the formatter makes of the computed indicator.
    with Warehouse.connect(loaded_url) as warehouse:
        results = compute(warehouse, "2024-25")
    for page, role in ((viewer_page, "viewer"), (analyst_page, "analyst")):
        shown = row_cells(table_by_caption(page, "Headline indicators"))
        formatter = Formatter(role, 5)
        for result in results:
            row = formatter.indicator(result)
            assert shown[result.title][0] == row.value
    viewer_values = [
        cells[0] for cells in row_cells(table_by_caption(viewer_page, "Headline")).values()
    ]
    analyst_values = [
        cells[0] for cells in row_cells(table_by_caption(analyst_page, "Headline")).values()
    ]
    assert "c" in viewer_values  # 3 referrals with no further action
    assert "c" not in analyst_values
    assert "You are seeing every figure" in text(analyst_page)


def test_data_page_lists_tables_and_loads(viewer: TestClient, analyst: TestClient) -> None:
    response = viewer.get("/data")
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.text)
    assert [text(h) for h in doc.findall(".//h1")] == ["Data loaded"]
    counts = row_cells(table_by_caption(doc, "Rows in each table"))
    assert counts["missing"][0] == "c"
    assert counts["loads"][0] == "1"  # about loads, not children: never suppressed
    loads = table_by_caption(doc, "Loads, newest first")
    (row,) = row_cells(loads).values()
    read = CHILDREN * 2 + MISSING + 4
    assert row[2:] == [str(read), str(read - 4), "4"]
    analyst_doc = lxml_html.fromstring(analyst.get("/data").text)
    assert row_cells(table_by_caption(analyst_doc, "Rows in each table"))["missing"][0] == "2"


def test_warehouse_errors_never_show_a_password() -> None:
    client = TestClient(create_app("postgres://analyst:s3cret@127.0.0.1:1/warehouse"))
    response = client.get("/")
    assert response.status_code in (400, 503)  # no server there, or no postgres extra
    assert "s3cret" not in response.text
    assert response.text.count("<h1") == 1
