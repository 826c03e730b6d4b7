"""The web app against a real DuckDB warehouse: pages, GOV.UK template, suppression."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from csc_insight.indicators import compute
from csc_insight.warehouse.store import Warehouse
from csc_insight.web.app import STATIC, create_app
from csc_insight.web.formatting import Formatter, format_datetime
from web_support import CHILDREN, LA, MISSING, TestClient, load_sample, make_state, signed_in


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def loaded_url(home: Path) -> str:
    url = f"duckdb:///{home / 'warehouse.duckdb'}"
    load_sample(url)
    return url


@pytest.fixture(scope="module")
def app(loaded_url: str, home: Path) -> Any:
    return create_app(loaded_url, home=home, state=make_state(home), warm=False)


@pytest.fixture(scope="module")
def viewer(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "viewer") as client:
        yield client


@pytest.fixture(scope="module")
def analyst(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "analyst") as client:
        yield client


@pytest.fixture(scope="module")
def viewer_page(viewer: TestClient) -> lxml_html.HtmlElement:
    response = viewer.get("/")
    assert response.status_code == 200
    return lxml_html.fromstring(response.text)


@pytest.fixture
def empty(tmp_path: Path) -> TestClient:
    app = create_app(
        f"duckdb:///{tmp_path / 'empty.duckdb'}",
        home=tmp_path,
        state=make_state(tmp_path),
        warm=False,
    )
    return signed_in(app, "viewer")


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
def test_healthz_needs_no_sign_in(tmp_path: Path) -> None:
    app = create_app(f"duckdb:///{tmp_path / 'w.duckdb'}", home=tmp_path, warm=False)
    response = TestClient(app).get("/healthz")
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
    data = empty.get("/data-quality")
    assert data.status_code == 200
    assert "Nothing has been loaded yet" in data.text


def test_assets_are_served_locally(empty: TestClient) -> None:
    css = empty.get("/static/govuk/govuk-frontend.min.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".govuk-template" in css.text
    assert "GDS Transport" not in css.text  # csc-insight is not on GOV.UK
    for path in (
        "/static/govuk/govuk-frontend.min.js",
        "/static/app.js",
        "/static/js-enabled.js",
        "/static/charts.js",
        "/static/upload.js",
        "/static/vendor/vega.min.js",
        "/static/vendor/vega-lite.min.js",
        "/static/vendor/vega-embed.min.js",
    ):
        js = empty.get(path)
        assert js.status_code == 200, path
        assert "javascript" in js.headers["content-type"]
    assert "initAll" in empty.get("/static/app.js").text


def test_vendored_javascript_is_recorded() -> None:
    folder = STATIC / "govuk"
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 2_000_000
    assert (folder / "VERSION").read_text().startswith("govuk-frontend 6.6.0")
    assert "MIT License" in (folder / "LICENSE").read_text()
    vendor = (STATIC / "vendor" / "VERSION").read_text()
    for package in ("vega 6.4.0", "vega-lite 6.5.0", "vega-embed 7.3.0"):
        assert package in vendor
    for name in ("vega", "vega-lite", "vega-embed"):
        assert "BSD" in (STATIC / "vendor" / f"LICENSE-{name}").read_text() or (
            "Redistribution" in (STATIC / "vendor" / f"LICENSE-{name}").read_text()
        )
    assert not list(STATIC.rglob("*.map"))
    for js in STATIC.rglob("*.js"):
        assert "sourceMappingURL" not in js.read_text(errors="ignore"), js


def test_page_uses_the_govuk_template_without_inline_script(
    viewer: TestClient, viewer_page: Any
) -> None:
    doc = viewer_page
    assert "govuk-template" in doc.get("class").split()
    assert doc.get("lang") == "en"
    body = doc.find("body")
    assert body.get("class") == "govuk-template__body"
    for script in doc.iter("script"):
        kind = script.get("type")
        if kind == "application/json":
            continue
        assert script.get("src"), "inline script would break the Content-Security-Policy"
        assert not (script.text or "").strip()
    first = body.find("script")
    assert first is not None and first.get("src").endswith("js-enabled.js")
    assert "govuk-frontend-supported" in viewer.get(first.get("src")).text
    skip = doc.find(".//a[@class='govuk-skip-link']")
    assert skip is not None and skip.get("href") == "#main-content"
    assert doc.find(".//header[@class='govuk-template__header']") is not None
    assert "csc-insight" in text(doc.find(".//div[@class='govuk-generic-header']"))
    main = doc.find(".//main[@id='main-content']")
    assert main is not None and "govuk-main-wrapper" in main.get("class")
    assert doc.find(".//footer[@class='govuk-template__footer']") is not None
    assert doc.find(".//*[@class='govuk-footer__link govuk-footer__copyright-logo']") is None
    for link in doc.findall(".//link[@rel='stylesheet']"):
        assert viewer.get(link.get("href")).status_code == 200
    assert "style=" not in lxml_html.tostring(doc, encoding="unicode")
    assert "Signed in as" in text(doc) and "viewer" in text(doc)


def test_navigation_shows_only_pages_the_role_may_open(viewer_page: Any, app: Any) -> None:
    nav = [text(a) for a in viewer_page.findall(".//nav//a")]
    # No feedback or local services in the sample: Voice and Outcomes and impact are left out.
    assert nav[:9] == [
        "Overview",
        "Timeliness",
        "Demand",
        "Repeat use",
        "Characteristics and equal access",
        "Benchmarks",
        "Actions",
        "Data quality",
        "Indicator catalogue",
    ]
    assert "Upload" not in nav and "Users" not in nav and "Audit log" not in nav
    with signed_in(app, "admin") as admin:
        doc = lxml_html.fromstring(admin.get("/").text)
    admin_nav = [text(a) for a in doc.findall(".//nav//a")]
    assert {"Upload", "Users", "Audit log"} <= set(admin_nav)


def test_overview_is_well_formed(loaded_url: str, viewer_page: Any) -> None:
    doc = viewer_page
    assert [text(h) for h in doc.findall(".//h1")] == ["Overview"]
    summary = text(doc.find(".//dl[@class='govuk-summary-list']"))
    assert LA in summary
    assert "Financial year 2024-25 (1 April 2024 to 31 March 2025)" in summary
    assert "4 rows were set aside (quarantined) in the latest load" in summary
    # The sentence is a real link to the data-quality page, not escaped markup.
    link = doc.find(".//dl[@class='govuk-summary-list']//a[@href='/data-quality']")
    assert link is not None and text(link).startswith("4 rows were set aside")
    assert "&lt;a" not in lxml_html.tostring(doc, encoding="unicode")
    with Warehouse.connect(loaded_url) as warehouse:
        finished = warehouse.table("loads").finished_at.max().execute()
    assert format_datetime(finished) in summary
    for t in doc.findall(".//table"):
        assert "govuk-table" in t.get("class")
        assert t.find("caption") is not None
        heads = t.findall("./thead/tr/th")
        assert heads and all(th.get("scope") == "col" for th in heads)
    referrals = table_by_caption(doc, "Referrals")
    heads = [text(th) for th in referrals.findall("./thead/tr/th")]
    assert heads == ["Indicator", "Value", "Target", "Status", "Last 12 months"]
    assert doc.find(".//form[@class='app-filters']") is not None


def test_overview_for_a_chosen_period_and_filter(viewer: TestClient) -> None:
    response = viewer.get("/", params={"period": "2023-24"})
    assert response.status_code == 200
    assert "Financial year 2023-24" in response.text
    filtered = viewer.get("/", params={"period": "2024-25", "team": "Team A"})
    assert filtered.status_code == 200
    assert "Only team: Team A" in " ".join(
        lxml_html.fromstring(filtered.text).text_content().split()
    )
    # The filter form keeps the choice, so the URL can be shared.
    doc = lxml_html.fromstring(filtered.text)
    team = doc.find(".//select[@name='team']/option[@selected]")
    assert team is not None and team.get("value") == "Team A"


def test_bad_period_is_explained_not_a_500(viewer: TestClient) -> None:
    response = viewer.get("/", params={"period": "last year"})
    assert response.status_code == 400
    assert "financial year such as" in response.text
    assert response.text.count("<h1") == 1


def test_unknown_page_and_unopenable_warehouse(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    app = create_app(
        f"duckdb:///{blocked / 'warehouse.duckdb'}",
        home=tmp_path,
        state=make_state(tmp_path),
        warm=False,
    )
    client = signed_in(app, "viewer")
    response = client.get("/")
    assert response.status_code == 503
    assert "The warehouse cannot be opened" in response.text
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.text


def test_viewer_sees_c_for_small_numbers_analyst_sees_them(
    loaded_url: str, viewer_page: Any, analyst: TestClient, viewer: TestClient
) -> None:
    analyst_page = lxml_html.fromstring(analyst.get("/").text)
    with Warehouse.connect(loaded_url) as warehouse:
        results = {r.id: r for r in compute(warehouse, "2024-25")}
    for page, role in ((viewer_page, "viewer"), (analyst_page, "analyst")):
        shown = row_cells(table_by_caption(page, "Referrals"))
        formatter = Formatter(role, 5)
        for title, cells in shown.items():
            result = next(r for r in results.values() if r.title == title)
            assert cells[0] == formatter.indicator(result).value
    viewer_values = [c[0] for c in row_cells(table_by_caption(viewer_page, "Referrals")).values()]
    analyst_values = [c[0] for c in row_cells(table_by_caption(analyst_page, "Referrals")).values()]
    assert "c" in viewer_values  # 3 referrals with no further action
    assert "c" not in analyst_values
    assert "You are seeing every figure" in text(analyst_page)
    # The data-quality page's table counts are suppressed the same way.
    dq = lxml_html.fromstring(viewer.get("/data-quality").text)
    counts = row_cells(table_by_caption(dq, "Rows in each table"))
    assert counts["missing"][0] == "c"
    assert counts["loads"][0] == "1"  # about loads, not children: never suppressed
    analyst_dq = lxml_html.fromstring(analyst.get("/data-quality").text)
    assert row_cells(table_by_caption(analyst_dq, "Rows in each table"))["missing"][0] == str(
        MISSING
    )
    assert row_cells(table_by_caption(dq, "Rows in each table"))["children"][0] == str(CHILDREN)


def test_data_page_moved_to_data_quality(viewer: TestClient) -> None:
    response = viewer.get("/data", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"] == "/data-quality"
    doc = lxml_html.fromstring(viewer.get("/data-quality").text)
    loads = table_by_caption(doc, "Loads, newest first")
    (row,) = row_cells(loads).values()
    read = CHILDREN * 2 + MISSING + 4
    assert row[2:] == [str(read), str(read - 4), "4"]
    recon = row_cells(table_by_caption(doc, "Reconciliation of every load"))
    assert recon["sample.csv"][-1] == "Yes"


def test_indicator_page_has_breakdown_chart_and_table(viewer: TestClient) -> None:
    response = viewer.get("/indicators/cin.referrals", params={"by": "team"})
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.text)
    assert [text(h) for h in doc.findall(".//h1")] == ["Referrals"]
    spec = doc.find(".//script[@type='application/json']")
    assert spec is not None and '"$schema"' in spec.text
    table = row_cells(table_by_caption(doc, "Referrals by team"))
    na = "–not applicable"
    assert table == {"Team A": ["20", na, na], "Team B": ["20", na, na]}
    svg = viewer.get("/indicators/cin.referrals", params={"by": "team", "chart": "breakdown"})
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    assert viewer.get("/indicators/no.such").status_code == 404
    assert viewer.get("/indicators/cin.referrals", params={"by": "nonsense"}).status_code == 404


def test_every_table_downloads_as_csv_and_xlsx(viewer: TestClient) -> None:
    for path in (
        "/",
        "/timeliness",
        "/repeat-use",
        "/data-quality",
        "/catalogue",
        "/indicators/cin.referrals",
    ):
        doc = lxml_html.fromstring(viewer.get(path).text)
        links = doc.findall(".//a[@data-download='csv']")
        assert links, path
        for link in links[:3]:
            csv = viewer.get(link.get("href"))
            assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
            assert "attachment" in csv.headers["content-disposition"]
        xlsx = viewer.get(doc.find(".//a[@data-download='xlsx']").get("href"))
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    # Suppressed figures stay "c" in downloads.
    overview = lxml_html.fromstring(viewer.get("/").text)
    href = next(
        a.get("href")
        for a in overview.findall(".//a[@data-download='csv']")
        if "overview-referrals" in a.get("href")
    )
    assert ",c," in viewer.get(href).text


def test_catalogue_lists_every_indicator(viewer: TestClient) -> None:
    from csc_insight.indicators import REGISTRY

    doc = lxml_html.fromstring(viewer.get("/catalogue").text)
    rows = row_cells(table_by_caption(doc, "Indicators"))
    assert len(rows) == len(REGISTRY)
