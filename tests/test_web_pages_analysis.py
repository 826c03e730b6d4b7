"""The analysis pages (Demand, Outcomes and impact, Voice, Characteristics and equal access,
Benchmarks) and their API routes, per role, on the small synthetic authority."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from csc_insight.appstate import audit as audit_log
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.synth import generate
from csc_insight.warehouse.store import Warehouse
from csc_insight.web.app import create_app
from csc_insight.web.service import DataService
from web_support import TestClient, make_state, signed_in

PAGES = ("/demand", "/impact", "/voice", "/equity", "/benchmarks")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("analysis-pages")
    generate(folder / "files", scale="small", seed=1)
    with Warehouse.connect(f"duckdb:///{folder / 'warehouse.duckdb'}") as w:
        ingest([folder / "files"], w, Pseudonymiser(b"k" * 32))
    return folder


@pytest.fixture(scope="module")
def app(home: Path) -> Any:
    made = create_app(
        f"duckdb:///{home / 'warehouse.duckdb'}", home=home, state=make_state(home), warm=False
    )
    made.state.service.analysis_wait = 120  # the tests wait for every analysis
    return made


@pytest.fixture(scope="module")
def viewer(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "viewer") as client:
        yield client


@pytest.fixture(scope="module")
def analyst(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "analyst") as client:
        yield client


def words(page: str) -> str:
    main = lxml_html.fromstring(page).xpath("//main")[0]
    for script in main.xpath(".//script"):
        script.getparent().remove(script)
    return " ".join(main.text_content().split())


def cells(page: str, table_id: str) -> list[list[str]]:
    doc = lxml_html.fromstring(page)
    rows = doc.xpath(f'//table[@id="{table_id}"]/tbody/tr')
    return [[" ".join(c.text_content().split()) for c in r.xpath("./th|./td")] for r in rows]


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_every_page_opens_and_is_in_the_navigation(
    role: str, viewer: TestClient, analyst: TestClient
) -> None:
    client = {"viewer": viewer, "analyst": analyst}[role]
    started = time.monotonic()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[-2000:])
        assert "being worked out" not in response.text, path
        nav = lxml_html.fromstring(response.text).xpath('//nav//a[@href="' + path + '"]')
        assert nav, f"{path} is not in the navigation"
    # Worked out once per load: a second round is quick.
    started = time.monotonic()
    for path in PAGES:
        assert client.get(path).status_code == 200
    assert time.monotonic() - started < 5


def test_demand_page(viewer: TestClient) -> None:
    page = viewer.get("/demand").text
    text = words(page)
    assert "times the holiday level in school term weeks" in text
    assert "seasonal-naive" in text  # the back-test verdict
    assert cells(page, "demand-referrals-data"), "the chart's data table"
    assert 'id="spec-demand-referrals"' in page
    assert "Children looked after: projected month-end numbers" in text
    split = viewer.get("/demand", params={"series": "referrals", "by": "source", "freq": "W"})
    assert split.status_code == 200
    assert cells(split.text, "demand-groups")
    assert viewer.get("/demand", params={"series": "nonsense"}).status_code == 400


def test_demand_interruption_form(viewer: TestClient) -> None:
    page = viewer.get("/demand", params={"start": "2020-03-23", "end": "2020-09-01"}).text
    rows = cells(page, "demand-interruption")
    assert rows and rows[0][0] == "all"
    assert rows[0][3].endswith("%")  # the change during it
    assert "During the interruption" in words(page)
    wrong = viewer.get("/demand", params={"start": "2020-09-01", "end": "2020-03-23"}).text
    assert "There is a problem" in wrong and "govuk-error-message" in wrong


def test_demand_api(viewer: TestClient) -> None:
    body = viewer.get(
        "/api/demand", params={"series": "referrals", "start": "2020-03-23", "end": "2020-09-01"}
    ).json()
    group = body["groups"]["all"]
    assert {"counts", "term_ratio", "breaks", "forecast", "backtest"} <= set(group)
    assert len(group["forecast"]["months"]) == 12
    assert {"ratio", "ci_low", "ci_high"} <= set(group["term_ratio"])
    assert body["interruption"]["groups"]["all"]["level_change"]["ratio"] > 0
    projection = viewer.get("/api/demand/placements").json()
    assert projection["months"] and {"month_end", "group", "mean"} <= set(projection["months"][0])


def test_viewer_demand_counts_are_suppressed(viewer: TestClient, analyst: TestClient) -> None:
    params = {"series": "referrals", "by": "source", "freq": "W"}
    seen = viewer.get("/api/demand", params=params).json()
    full = analyst.get("/api/demand", params=params).json()
    small = [
        (g, i)
        for g, group in full["groups"].items()
        for i, c in enumerate(group["counts"])
        if 1 <= c["count"] <= 5
    ]
    assert small, "the synthetic authority has small weekly counts by source"
    for g, i in small[:50]:
        assert seen["groups"][g]["counts"][i]["count"] is None
    page = viewer.get("/demand", params=params).text
    assert any(row[2] == "c" for row in cells(page, "demand-referrals-by-source-data"))


def test_voice_examples_for_analysts_only(viewer: TestClient, analyst: TestClient) -> None:
    as_viewer, as_analyst = viewer.get("/voice").text, analyst.get("/voice").text
    assert cells(as_viewer, "voice-services")[0][0] == "Family Support"
    assert 'data-testid="example-comments"' not in as_viewer
    assert "Example comments are shown to analysts only" in words(as_viewer)
    assert 'data-testid="example-comments"' in as_analyst
    assert 'id="spec-voice-monthly"' in as_viewer
    seen, full = viewer.get("/api/voice").json(), analyst.get("/api/voice").json()
    assert all("examples" not in s for s in seen["services"])
    assert any("examples" in s for s in full["services"])
    first = seen["services"][0]
    assert {"responses", "pct_positive", "mean_rating", "ci_low", "ci_high", "themes"} <= set(first)
    assert viewer.get("/voice", params={"period": "2024-06"}).status_code == 400


def test_equity_suppressed_for_viewers(viewer: TestClient, analyst: TestClient) -> None:
    page = viewer.get("/equity").text
    rows = cells(page, "equity-stage-data")
    assert rows and any(r[1] == "c" for r in rows), "small groups are c for viewers"
    assert cells(page, "equity-journey")
    assert "Holm" in words(page)
    full = cells(analyst.get("/equity").text, "equity-stage-data")
    assert not any(r[1] == "c" for r in full)
    seen = viewer.get("/api/equity", params={"stage": "referral"}).json()
    assert any(g["suppressed"] for g in seen["groups"])
    assert {"rate_per_10k", "ratio", "ci_low", "ci_high", "p_adjusted", "representation_index"} <= (
        set(seen["groups"][0])
    )
    every = analyst.get("/api/equity", params={"by": "sex"}).json()
    assert every["journey"] and len(every["stages"]) > 7
    service = viewer.get("/api/equity/equal-service").json()
    assert service["measures"] and "groups" in service["measures"][0]
    step = viewer.get("/equity", params={"by": "sex", "stage": "cp_plan given referral"})
    assert step.status_code == 200 and "Children at the step before" in step.text
    assert viewer.get("/equity", params={"by": "shoe size"}).status_code == 400


def test_benchmarks_without_published_tables_say_how_to_import(viewer: TestClient) -> None:
    text = words(viewer.get("/benchmarks").text)
    assert "csc-insight benchmarks import FILE..." in text
    assert viewer.get("/api/benchmarks").json() == []


def test_impact_page_and_evaluation_report(viewer: TestClient, app: Any) -> None:
    page = viewer.get("/impact").text
    rows = {r[0]: r for r in cells(page, "impact")}
    assert "School Attendance Project" in rows
    assert rows["School Attendance Project"][5].startswith("Attendance rose by")
    assert "No measurable change" in rows["Parenting Programme"][5]
    report = viewer.get("/impact/report", params={"service": "School Attendance Project"})
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "attachment" in report.headers["content-disposition"]
    entries = audit_log.entries(app.state.appstate, action=audit_log.EXPORT)
    assert any("evaluation report" in (e.detail or "") for e in entries)
    assert viewer.get("/impact/report", params={"service": "Nope"}).status_code == 400
    body = viewer.get("/api/impact").json()
    assert {"service", "effect", "ci_low", "ci_high", "n_treated", "verdict"} <= set(body[0])


def test_analyses_are_worked_out_once_and_pages_do_not_wait(tmp_path: Path) -> None:
    svc = DataService(f"duckdb:///{tmp_path / 'w.duckdb'}", tmp_path, 5)
    release, calls = threading.Event(), []

    def slow() -> int:
        calls.append(1)
        release.wait(10)
        return 42

    assert svc.analysis(("slow",), slow, wait=0.05) == (False, None)
    assert svc.analysis(("slow",), slow, wait=0.05) == (False, None)
    release.set()
    assert svc.analysis(("slow",), slow, wait=5) == (True, 42)
    assert svc.analysis(("slow",), slow) == (True, 42)
    assert len(calls) == 1
    svc.close()


def test_pending_page_says_being_worked_out(home: Path) -> None:
    made = create_app(
        f"duckdb:///{home / 'warehouse.duckdb'}", home=home, state=make_state(home), warm=False
    )
    made.state.service.analysis_wait = 0.0
    with signed_in(made, "viewer") as client:
        response = client.get("/equity", params={"by": "age_band"})
        assert response.status_code == 200
        assert "being worked out" in response.text
    made.state.service.close()
