"""The dashboard in a real browser: Debian's chromium driven by Playwright, against the real
server (uvicorn on a loopback port) over a synthetic authority.

Each role signs in and opens every page it may; filters, drill-down, upload and downloads are
used as a person would; every page is checked with axe-core (WCAG 2.2 AA: no serious or
critical violations) and for Content-Security-Policy errors; screenshots of the main pages go
to test-artifacts/browser/. No browser is downloaded: chromium comes from the operating
system (SYSTEM_PACKAGES in the Makefile), and a missing chromium fails these tests.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
from csc_insight.rules import run as run_rules
from csc_insight.synth import generate
from csc_insight.warehouse.store import Warehouse
from csc_insight.web.app import create_app
from web_support import PASSWORD, make_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("CSC_INSIGHT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
AXE = HERE / "axe.min.js"
ARTIFACTS = HERE.parents[1] / "test-artifacts" / "browser"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TARGETS = """
[indicators."cin.assessment_45wd_pct"]
owner = "Head of Assessment"
target = 85
tolerance = 5
[indicators."cin.rereferral_pct"]
owner = "Head of Front Door"
target = 20
tolerance = 3
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser-synth") / "files"
    generate(out, scale="small", years=1)
    return out


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, synthetic: Path) -> Iterator[str]:
    home = tmp_path_factory.mktemp("browser-home")
    url = f"duckdb:///{home / 'warehouse.duckdb'}"
    with Warehouse.connect(url) as warehouse:
        ingest([synthetic], warehouse, Pseudonymiser(load_or_create_key(home)))
        run_rules(warehouse)
    (home / "authority.toml").write_text(TARGETS)
    app = create_app(url, home=home, state=make_state(home), warm=True)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
            "(make test installs it through SYSTEM_PACKAGES; or apt-get install chromium).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Session:
    """A signed-in browser tab that records console errors and checks accessibility."""

    def __init__(self, browser: Any, base_url: str, role: str) -> None:
        self.context = browser.new_context(
            base_url=base_url, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        self.context.add_init_script(path=str(AXE))  # not subject to the page's CSP
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.role = role
        self.page.goto("/login")
        self.page.fill("#username", role)
        self.page.fill("#password", PASSWORD)
        self.page.click("#sign-in")
        self.page.wait_for_url(f"{base_url}/")

    def open(self, path: str) -> Any:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        return response

    def check(self, name: str) -> None:
        """axe-core, CSP errors, charts drawn, and a screenshot."""
        page = self.page
        page.wait_for_load_state("networkidle")
        for holder in page.query_selector_all("[data-chart-spec]"):
            page.wait_for_function(
                "el => el.hasAttribute('data-chart-drawn') || el.hasAttribute('data-chart-error')",
                arg=holder,
                timeout=15000,
            )
            assert holder.get_attribute("data-chart-error") is None, holder.get_attribute(
                "data-chart-error"
            )
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{name}: accessibility violations: {bad}"
        csp = [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]
        assert not csp, f"{name}: {csp}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{self.role}-{name}.png"), full_page=True)

    def nav(self) -> list[str]:
        return [a.get_attribute("href") for a in self.page.query_selector_all("nav a")]

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_each_role_opens_every_page(browser: Any, base_url: str, role: str) -> None:
    session = Session(browser, base_url, role)
    try:
        # Wait for the background work on the overview (its 12-month trends).
        deadline = time.monotonic() + 240
        while "being worked out" in session.page.content():
            assert time.monotonic() < deadline, "trends were not worked out in time"
            time.sleep(2)
            session.page.reload()
        links = session.nav()
        expected = {"/", "/timeliness", "/repeat-use", "/data-quality", "/catalogue"}
        assert expected <= set(links)
        admin_pages = {"/upload", "/admin/users", "/admin/audit"}
        assert admin_pages <= set(links) if role == "admin" else not admin_pages & set(links)
        analyses = ["/demand?series=referrals&by=source", "/demand?start=2024-06-03&end=2024-07-05"]
        for href in [*links, *(analyses if role == "analyst" else [])]:
            session.open(href)
            # Analysis pages are worked out in the background: wait for them.
            deadline = time.monotonic() + 120
            while "being worked out" in session.page.content():
                assert time.monotonic() < deadline, f"{href} was not worked out in time"
                time.sleep(2)
                session.page.reload()
            assert session.page.locator("h1").count() == 1
            name = href.strip("/").replace("/", "-").replace("?", "-").replace("&", "-")
            session.check(name.replace("=", "-") or "overview")
        session.open("/indicators/cin.referrals")
        session.check("indicator")
        session.open("/api")
        session.check("api")
        # Pages the role may not open say so.
        refused = session.page.goto("/repeat-use/escalation")
        assert refused is not None
        assert refused.status == (403 if role == "viewer" else 200)
        session.check("escalation")
    finally:
        session.close()


def test_filters_drill_down_and_downloads(browser: Any, base_url: str) -> None:
    session = Session(browser, base_url, "analyst")
    page = session.page
    try:
        session.open("/")
        teams = [o.get_attribute("value") for o in page.query_selector_all("#filter-team option")]
        team = next(t for t in teams if t)
        page.select_option("#filter-team", team)
        page.click("text=Apply filters")
        page.wait_for_load_state()
        assert "team=" in page.url  # the view can be shared by its address
        shared = page.url
        page.goto(shared)
        assert page.locator("#filter-team").input_value() == team
        link = page.locator("table a[href^='/indicators/']").first
        title = link.inner_text()
        link.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == title
        assert "team=" in page.url  # the filter follows the drill-down
        options = page.locator("#breakdown-by option")
        if options.count() > 1:
            page.select_option("#breakdown-by", options.nth(1).get_attribute("value"))
            page.click("text=Show")
            page.wait_for_load_state()
        session.check("indicator-filtered")
        page.click("[data-testid=drill-down]")
        page.wait_for_load_state()
        assert "Records behind" in page.locator("h1").inner_text()
        assert "Child-level information" in page.content()
        session.check("records")
        with page.expect_download() as download:
            page.click("a[data-download=csv]")
        path = download.value.path()
        assert path is not None and "child_id" in Path(path).read_text(encoding="utf-8-sig")
        session.open("/repeat-use")
        page.click("[data-testid=escalation-link]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Escalation list"
    finally:
        session.close()
    viewer = Session(browser, base_url, "viewer")
    try:
        viewer.open("/indicators/cin.referrals")
        assert viewer.page.locator("[data-testid=drill-down]").count() == 0
        viewer.open("/repeat-use")
        assert viewer.page.locator("[data-testid=escalation-link]").count() == 0
    finally:
        viewer.close()


def test_admin_uploads_a_file(browser: Any, base_url: str, synthetic: Path) -> None:
    session = Session(browser, base_url, "admin")
    page = session.page
    try:
        session.open("/upload")
        session.check("upload-form")
        files = sorted(str(p) for p in synthetic.rglob("*") if p.is_file() and p.suffix != ".json")
        page.set_input_files("#files", files)
        page.click("#upload-button")
        page.wait_for_url("**/upload/2*", timeout=60000)
        page.wait_for_selector("#load-button", timeout=240000)
        assert "Before loading" in page.content()
        session.check("upload-checked")
        page.click("#load-button")
        page.wait_for_selector("text=After loading", timeout=240000)
        assert "Rows in each table, before and after the load" in page.content()
        session.check("upload-loaded")
        session.open("/admin/audit")
        assert "upload" in page.content() and "load" in page.content()
        session.check("audit")
    finally:
        session.close()


def test_analyst_adds_reviews_and_closes_an_action(browser: Any, base_url: str) -> None:
    session = Session(browser, base_url, "analyst")
    page = session.page
    try:
        session.open("/actions")
        page.fill("#add-title", "Audit of re-referrals")
        page.fill("#add-owner", "Head of Front Door")
        page.fill("#add-due-date", "2030-06-30")
        page.fill("#add-effect-from", "2024-10")  # six months before, the months since
        page.check("input[name=indicator_ids][value='cin.referrals']")
        with page.expect_navigation():
            page.click("button:has-text('Add the action')")
        assert page.locator("h1").inner_text() == "Audit of re-referrals", page.locator(
            "main"
        ).inner_text()[:500]
        deadline = time.monotonic() + 120
        while "being worked out" in page.content():
            assert time.monotonic() < deadline, "the movement was not worked out in time"
            time.sleep(2)
            page.reload()
        assert "months since (" in page.content()  # a comparison, with its verdict
        session.check("action")
        page.fill("#review-note", "Half the cases audited")
        with page.expect_navigation():
            page.click("button:has-text('Add the review')")
        assert "The review was added." in page.content()
        page.check("#close-status-2")  # dropped
        with page.expect_navigation():
            page.click("button:has-text('Close the action')")
        assert "The action was closed." in page.content() and "Dropped" in page.content()
        session.check("action-closed")
    finally:
        session.close()
    viewer = Session(browser, base_url, "viewer")
    try:
        viewer.open("/actions")
        assert "Audit of re-referrals" in viewer.page.content()
        assert viewer.page.locator("#add-title").count() == 0
        viewer.check("actions-with-one")
    finally:
        viewer.close()
