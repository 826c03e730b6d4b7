"""Upload in the browser: files checked on their own, then loaded; reconciliation both times."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from csc_insight.appstate import audit as audit_log
from csc_insight.synth import generate
from csc_insight.web.app import create_app
from web_support import TestClient, csrf_of, make_state, signed_in


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("synth")
    generate(out / "files", scale="small", years=1)
    return sorted(p for p in (out / "files").rglob("*") if p.is_file() and p.suffix != ".json")


def wait_until_done(client: TestClient, upload_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/upload/{upload_id}/status").json()
        if not status["busy"]:
            return dict(status)
        time.sleep(0.3)
    raise AssertionError(f"upload {upload_id} still busy after {timeout}s")


@pytest.mark.slow
def test_admin_uploads_checks_then_loads(tmp_path: Path, synthetic: list[Path]) -> None:
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    app = create_app(url, home=tmp_path, state=make_state(tmp_path), warm=False)
    admin = signed_in(app, "admin")
    viewer = signed_in(app, "viewer")
    assert "No data loaded yet" in viewer.get("/").text

    page = admin.get("/upload")
    assert page.status_code == 200
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in synthetic]
    sent = admin.post(
        "/upload", data={"csrf_token": csrf_of(page.text)}, files=files, follow_redirects=False
    )
    assert sent.status_code == 303
    upload_id = sent.headers["location"].rsplit("/", 1)[1]
    status = wait_until_done(admin, upload_id)
    assert status["status"] == "checked", admin.get(f"/upload/{upload_id}").text

    checked = admin.get(f"/upload/{upload_id}")
    assert "Before loading" in checked.text and "Load into the warehouse" in checked.text
    assert "Before loading: what would be loaded" in checked.text
    assert "No data loaded yet" in viewer.get("/").text  # nothing loaded by the check

    loaded = admin.post(
        f"/upload/{upload_id}/load",
        data={"csrf_token": csrf_of(checked.text)},
        follow_redirects=False,
    )
    assert loaded.status_code == 303
    status = wait_until_done(admin, upload_id)
    assert status["status"] == "loaded", admin.get(f"/upload/{upload_id}").text
    after = admin.get(f"/upload/{upload_id}")
    assert "After loading: what was loaded" in after.text
    assert "Rows in each table, before and after the load" in after.text
    csv = admin.get(f"/upload/{upload_id}", params={"download": "load-counts", "format": "csv"})
    assert csv.status_code == 200 and "children" in csv.text

    overview = viewer.get("/")
    assert overview.status_code == 200 and '<h1 class="govuk-heading-xl">Overview' in overview.text
    actions = [e.action for e in audit_log.entries(app.state.appstate, user="admin")]
    assert audit_log.UPLOAD in actions and audit_log.LOAD in actions and audit_log.EXPORT in actions

    # The same files again: the check says they are already loaded.
    again = admin.post(
        "/upload", data={"csrf_token": csrf_of(page.text)}, files=files, follow_redirects=False
    )
    second = again.headers["location"].rsplit("/", 1)[1]
    wait_until_done(admin, second)
    assert "is already in the warehouse" in admin.get(f"/upload/{second}").text


def test_uploads_are_for_admins_and_limited_in_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSC_INSIGHT_UPLOAD_MAX_MB", "1")
    app = create_app(
        f"duckdb:///{tmp_path / 'w.duckdb'}", home=tmp_path, state=make_state(tmp_path), warm=False
    )
    analyst = signed_in(app, "analyst")
    token = csrf_of(analyst.get("/catalogue").text)
    refused = analyst.post(
        "/upload", data={"csrf_token": token}, files=[("files", ("a.csv", b"a,b\n", "text/csv"))]
    )
    assert refused.status_code == 403
    admin = signed_in(app, "admin")
    token = csrf_of(admin.get("/upload").text)
    big = admin.post(
        "/upload",
        data={"csrf_token": token},
        files=[("files", ("big.csv", b"x" * (2 * 1024 * 1024), "text/csv"))],
    )
    assert big.status_code == 413 and "too large" in big.text
    none = admin.post(
        "/upload",
        data={"csrf_token": token},
        files=[("files", ("", b"", "application/octet-stream"))],
    )
    assert none.status_code in (400, 422)
    assert admin.get("/upload/not-an-id").status_code == 404
