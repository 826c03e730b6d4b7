"""Security: every route refuses the roles that may not use it; sign-in, sessions, CSRF,
rate limiting, the single-sign-on header, HTTP Basic for the API, headers and the audit log."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from csc_insight import actions
from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import uploads as upload_store
from csc_insight.appstate.store import iso, now
from csc_insight.web.app import create_app, view_modules
from csc_insight.web.auth import SESSION_COOKIE, AuthConfig
from csc_insight.web.security import CSP
from web_support import PASSWORD, ROLES, TestClient, csrf_of, load_sample, make_state, signed_in

RANK = {None: -1, "viewer": 0, "analyst": 1, "admin": 2}
PUBLIC = "public"
# (method, path) -> the least role that may use it. Every route of the app must be here.
MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/data"): PUBLIC,  # a permanent redirect to /data-quality
    ("GET", "/"): "viewer",
    ("GET", "/timeliness"): "viewer",
    ("GET", "/repeat-use"): "viewer",
    ("GET", "/repeat-use/escalation"): "analyst",
    ("GET", "/indicators/{indicator_id}"): "viewer",
    ("GET", "/indicators/{indicator_id}/records"): "analyst",
    ("GET", "/catalogue"): "viewer",
    ("GET", "/data-quality"): "viewer",
    ("GET", "/data-quality/findings"): "analyst",
    ("GET", "/admin"): "admin",
    ("GET", "/admin/users"): "admin",
    ("POST", "/admin/users"): "admin",
    ("GET", "/admin/audit"): "admin",
    ("GET", "/upload"): "admin",
    ("POST", "/upload"): "admin",
    ("GET", "/upload/{upload_id}"): "admin",
    ("GET", "/upload/{upload_id}/status"): "admin",
    ("POST", "/upload/{upload_id}/load"): "admin",
    ("POST", "/upload/{upload_id}/cancel"): "admin",
    ("GET", "/api"): "viewer",
    ("GET", "/api/openapi.json"): "viewer",
    ("GET", "/api/me"): "viewer",
    ("GET", "/api/indicators"): "viewer",
    ("GET", "/api/indicators/{indicator_id}"): "viewer",
    ("GET", "/api/indicators/{indicator_id}/trend"): "viewer",
    ("GET", "/api/indicators/{indicator_id}/records"): "analyst",
    ("GET", "/api/catalogue"): "viewer",
    ("GET", "/api/escalation"): "analyst",
    ("GET", "/api/data-quality/rules"): "viewer",
    ("GET", "/api/data-quality/findings"): "analyst",
    ("GET", "/api/loads"): "viewer",
    ("GET", "/api/audit"): "admin",
    ("GET", "/api/users"): "admin",
    ("GET", "/demand"): "viewer",
    ("GET", "/api/demand"): "viewer",
    ("GET", "/api/demand/placements"): "viewer",
    ("GET", "/impact"): "viewer",
    ("GET", "/impact/report"): "viewer",  # counts at or below the threshold: "fewer than"
    ("GET", "/api/impact"): "viewer",
    ("GET", "/voice"): "viewer",  # example comments are shown to analysts only
    ("GET", "/api/voice"): "viewer",
    ("GET", "/equity"): "viewer",
    ("GET", "/api/equity"): "viewer",
    ("GET", "/api/equity/equal-service"): "viewer",
    ("GET", "/benchmarks"): "viewer",
    ("GET", "/api/benchmarks"): "viewer",
    ("GET", "/actions"): "viewer",
    ("POST", "/actions"): "analyst",
    ("GET", "/actions/{action_id}"): "analyst",
    ("POST", "/actions/{action_id}"): "analyst",
    ("POST", "/actions/{action_id}/review"): "analyst",
    ("POST", "/actions/{action_id}/close"): "analyst",
    ("GET", "/api/actions"): "viewer",
    ("POST", "/api/actions"): "analyst",
    ("GET", "/api/actions/{action_id}"): "viewer",
    ("PATCH", "/api/actions/{action_id}"): "analyst",
    ("POST", "/api/actions/{action_id}"): "analyst",
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("security")
    load_sample(f"duckdb:///{folder / 'warehouse.duckdb'}")
    return folder


@pytest.fixture(scope="module")
def app(home: Path) -> Any:
    return create_app(
        f"duckdb:///{home / 'warehouse.duckdb'}", home=home, state=make_state(home), warm=False
    )


@pytest.fixture(scope="module")
def clients(app: Any) -> Iterator[dict[str | None, TestClient]]:
    made = {role: signed_in(app, role) for role in (None, *ROLES)}
    for client in made.values():
        client.get("/login")  # every client holds a pre-log-in CSRF cookie
    yield made


def _routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for module in view_modules():
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                for method in route.methods:
                    if method != "HEAD":
                        found.add((method, route.path))
    return found


def test_the_matrix_covers_every_route(app: Any) -> None:
    assert _routes(app) == set(MATRIX), "add new routes to MATRIX with the role they need"


def _csrf(client: TestClient) -> str:
    page = client.get("/login" if SESSION_COOKIE not in client.cookies else "/api")
    if SESSION_COOKIE in client.cookies:
        return csrf_of(client.get("/catalogue").text)
    return csrf_of(page.text)


def _call(client: TestClient, method: str, path: str, upload_id: str, action_id: int = 1) -> Any:
    concrete = (
        path.replace("{indicator_id}", "cin.referrals")
        .replace("{upload_id}", upload_id)
        .replace("{action_id}", str(action_id))
    )
    if method == "GET":
        return client.get(concrete, follow_redirects=False)
    data: dict[str, Any] = {"csrf_token": _csrf(client)}
    files = None
    if concrete == "/upload":
        files = [("files", ("a.csv", b"x,y\n1,2\n", "text/csv"))]
    if concrete == "/admin/users":
        data.update(action="nothing")
    if concrete in ("/logout", "/login"):
        return None  # covered by the sign-in tests: they end or start sessions
    return client.request(method, concrete, data=data, files=files, follow_redirects=False)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_is_refused_what_it_may_not_see(
    role: str | None, clients: dict[str | None, TestClient], app: Any
) -> None:
    upload_id = upload_store.create(app.state.appstate, "admin", [{"name": "a.csv"}])
    action = actions.create(app.state.appstate, title="Audit re-referrals", created_by="admin")
    client = clients[role]
    for (method, path), needed in sorted(MATRIX.items()):
        response = _call(client, method, path, upload_id, action.id)
        if response is None:
            continue
        where = f"{role or 'anonymous'} {method} {path}"
        if needed == PUBLIC:
            assert response.status_code < 400, where
        elif RANK[role] >= RANK[needed]:
            assert response.status_code in (200, 301, 303, 400), (where, response.status_code)
            if response.status_code == 303:
                assert not response.headers["location"].startswith("/login"), where
        elif role is None:
            if path.startswith("/api/"):
                assert response.status_code == 401, where
                assert response.headers["www-authenticate"].startswith("Basic")
            else:
                assert response.status_code == 303, where
                assert response.headers["location"].startswith("/login?next="), where
        else:
            assert response.status_code == 403, (where, response.status_code)
            # A refusal shows nothing of the page.
            # Random tokens (form tokens, nonces) may contain the letters: left out.
            shown = re.sub(r'="[A-Za-z0-9_\-+/=]{20,}"', '=""', response.text)
            assert "child_id" not in shown and "c1" not in shown, where


def test_refusals_are_audited(clients: dict[str | None, TestClient], app: Any) -> None:
    clients["viewer"].get("/repeat-use/escalation")
    entries = audit_log.entries(app.state.appstate, action=audit_log.ACCESS_REFUSED)
    assert any(e.user_name == "viewer" and e.target == "/repeat-use/escalation" for e in entries)


def test_viewer_api_figures_are_suppressed_analyst_are_not(
    clients: dict[str | None, TestClient],
) -> None:
    viewer = {f["id"]: f for f in clients["viewer"].get("/api/indicators").json()}
    analyst = {f["id"]: f for f in clients["analyst"].get("/api/indicators").json()}
    assert viewer["cin.nfa_pct"]["suppressed"] is True
    assert viewer["cin.nfa_pct"]["value"] is None and viewer["cin.nfa_pct"]["numerator"] is None
    assert analyst["cin.nfa_pct"]["numerator"] == 3 and analyst["cin.nfa_pct"]["value"] == 7.5
    assert viewer["cin.referrals"]["value"] == 40
    schema = clients["viewer"].get("/api/openapi.json").json()
    assert "/api/indicators" in schema["paths"]
    assert not any(p.startswith("/admin") or p == "/" for p in schema["paths"])


def test_child_level_views_and_exports_are_audited(
    clients: dict[str | None, TestClient], app: Any
) -> None:
    analyst = clients["analyst"]
    page = analyst.get("/indicators/cin.referrals/records", params={"period": "2024-25"})
    assert page.status_code == 200 and "c1" in page.text
    analyst.get("/api/escalation")
    csv = analyst.get(
        "/indicators/cin.referrals/records",
        params={"period": "2024-25", "download": "records", "format": "csv"},
    )
    assert csv.status_code == 200 and "child_id" in csv.text
    entries = audit_log.entries(app.state.appstate, user="analyst")
    actions = [e.action for e in entries]
    assert audit_log.CHILD_LEVEL_VIEW in actions and audit_log.EXPORT in actions
    assert audit_log.LOGIN in actions
    export = next(e for e in entries if e.action == audit_log.EXPORT)
    assert '"child_level": true' in (export.detail or "")
    # Admins can read the log; the page shows these entries.
    log_page = clients["admin"].get("/admin/audit", params={"who": "analyst"})
    assert "child-level view" in log_page.text


def test_security_headers(clients: dict[str | None, TestClient], app: Any) -> None:
    response = clients["viewer"].get("/")
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert "frame-ancestors 'none'" in CSP
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers  # not over plain HTTP
    with TestClient(app, base_url="https://testserver") as tls:
        assert "max-age=" in tls.get("/login").headers["strict-transport-security"]
        signed = tls.post(
            "/login",
            data={
                "username": "viewer",
                "password": PASSWORD,
                "csrf_token": csrf_of(tls.get("/login").text),
            },
            follow_redirects=False,
        )
        cookie = signed.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sign_in_out_and_no_open_redirect(app: Any) -> None:
    client = TestClient(app)
    bad = client.post(
        "/login",
        data={
            "username": "viewer",
            "password": "wrong password",
            "csrf_token": csrf_of(client.get("/login").text),
        },
    )
    assert bad.status_code == 401 and "Enter a correct user name and password" in bad.text
    form = client.get("/login", params={"next": "https://evil.example/"})
    response = client.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).status_code == 200
    token = csrf_of(client.get("/catalogue").text)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_csrf_is_required_on_every_form(app: Any) -> None:
    anonymous = TestClient(app)
    anonymous.get("/login")
    no_token = anonymous.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert no_token.status_code == 403 and "This form has expired" in no_token.text
    admin = signed_in(app, "admin")
    token = csrf_of(admin.get("/admin/users").text)
    for path, data in (
        (
            "/admin/users",
            {"action": "add", "username": "x1", "role": "viewer", "password": "x" * 20},
        ),
        ("/logout", {}),
        ("/upload", {}),
    ):
        forged = admin.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False)
        assert forged.status_code == 403, path
        missing = admin.post(path, data=data, follow_redirects=False)
        assert missing.status_code == 403, path
    # The pre-log-in token is not the session's token.
    wrong = admin.post(
        "/admin/users",
        data={
            "action": "add",
            "username": "x2",
            "role": "viewer",
            "password": "x" * 20,
            "csrf_token": admin.cookies.get("csc_insight_csrf"),
        },
    )
    assert wrong.status_code == 403
    ok = admin.post(
        "/admin/users",
        data={
            "action": "add",
            "username": "x3",
            "role": "viewer",
            "password": "x" * 20,
            "csrf_token": token,
        },
    )
    assert ok.status_code == 200 and "Added x3 as viewer" in ok.text


def _age_session(app: Any, column: str, by: timedelta) -> None:
    with app.state.appstate.transaction() as tx:
        tx.execute(f"UPDATE sessions SET {column} = ?", (iso(now() - by),))


def test_sessions_expire_when_idle_and_after_the_maximum(tmp_path: Path) -> None:
    load_sample(f"duckdb:///{tmp_path / 'w.duckdb'}")
    cfg = AuthConfig.from_settings(idle_minutes=30, max_hours=8)
    app = create_app(
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        home=tmp_path,
        state=make_state(tmp_path),
        auth_config=cfg,
        warm=False,
    )
    client = signed_in(app, "viewer")
    assert client.get("/catalogue", follow_redirects=False).status_code == 200
    _age_session(app, "last_seen", timedelta(minutes=31))
    assert client.get("/catalogue", follow_redirects=False).status_code == 303
    client = signed_in(app, "viewer")
    _age_session(app, "created_at", timedelta(hours=8, minutes=1))
    assert client.get("/catalogue", follow_redirects=False).status_code == 303
    client = signed_in(app, "viewer")
    _age_session(app, "last_seen", timedelta(minutes=29))
    assert client.get("/catalogue", follow_redirects=False).status_code == 200


def test_changing_a_role_ends_sessions(tmp_path: Path) -> None:
    from csc_insight.appstate import users as user_store

    app = create_app(
        f"duckdb:///{tmp_path / 'w.duckdb'}", home=tmp_path, state=make_state(tmp_path), warm=False
    )
    client = signed_in(app, "analyst")
    assert client.get("/api/me").json()["role"] == "analyst"
    user_store.set_role(app.state.appstate, "analyst", "viewer")
    assert client.get("/api/me").status_code == 401


def test_log_in_is_rate_limited(tmp_path: Path) -> None:
    app = create_app(
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        home=tmp_path,
        state=make_state(tmp_path),
        warm=False,
        auth_config=AuthConfig.from_settings(attempts=5),
    )
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        r = client.post(
            "/login", data={"username": "viewer", "password": "nope nope nope", "csrf_token": token}
        )
        assert r.status_code == 401
    refused = client.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 429 and "too many failed attempts" in refused.text
    # Another account from the same address is not locked yet; the API is limited too.
    assert signed_in(app, "analyst").get("/api/me").status_code == 200
    basic = base64.b64encode(f"viewer:{PASSWORD}".encode()).decode()
    assert client.get("/api/me", headers={"Authorization": f"Basic {basic}"}).status_code == 401
    actions = [e.action for e in audit_log.entries(app.state.appstate, user=None)]
    assert audit_log.LOGIN_FAILED in actions and audit_log.LOGIN_REFUSED in actions


def test_api_accepts_http_basic(app: Any) -> None:
    client = TestClient(app)
    good = base64.b64encode(f"analyst:{PASSWORD}".encode()).decode()
    bad = base64.b64encode(b"analyst:wrong").decode()
    me = client.get("/api/me", headers={"Authorization": f"Basic {good}"})
    assert me.status_code == 200 and me.json() == {"name": "analyst", "role": "analyst"}
    assert client.get("/api/me", headers={"Authorization": f"Basic {bad}"}).status_code == 401
    # Basic is for the API only: pages still ask for a session.
    page = client.get("/", headers={"Authorization": f"Basic {good}"}, follow_redirects=False)
    assert page.status_code == 303


def test_single_sign_on_header_only_from_trusted_proxies(tmp_path: Path) -> None:
    from csc_insight.appstate import users as user_store

    load_sample(f"duckdb:///{tmp_path / 'w.duckdb'}")
    state = make_state(tmp_path)
    user_store.add(state, "sso.person", "analyst", None)
    trusted = create_app(
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        home=tmp_path,
        state=state,
        warm=False,
        auth_config=AuthConfig.from_settings(header="X-Remote-User", trusted_proxies="testclient"),
    )
    client = TestClient(trusted)
    ok = client.get("/api/me", headers={"X-Remote-User": "sso.person"})
    assert ok.status_code == 200 and ok.json()["role"] == "analyst"
    unknown = client.get("/", headers={"X-Remote-User": "stranger"})
    assert unknown.status_code == 403 and "no account" in unknown.text
    # SSO-only accounts have no password to guess.
    assert user_store.authenticate(state, "sso.person", "") is None
    untrusted = create_app(
        f"duckdb:///{tmp_path / 'w.duckdb'}",
        home=tmp_path,
        state=state,
        warm=False,
        auth_config=AuthConfig.from_settings(header="X-Remote-User", trusted_proxies="10.9.9.9"),
    )
    spoofed = TestClient(untrusted).get("/api/me", headers={"X-Remote-User": "sso.person"})
    assert spoofed.status_code == 401
    assert any(
        e.action == audit_log.LOGIN and e.user_name == "sso.person"
        for e in audit_log.entries(state)
    )


def test_user_management_by_admins(clients: dict[str | None, TestClient], app: Any) -> None:
    admin = clients["admin"]
    page = admin.get("/admin/users")
    assert re.search(r">viewer<", page.text)
    token = csrf_of(page.text)
    short = admin.post(
        "/admin/users",
        data={
            "action": "add",
            "username": "shorty",
            "role": "viewer",
            "password": "short",
            "csrf_token": token,
        },
    )
    assert short.status_code == 400 and "at least 12 characters" in short.text
    self_demote = admin.post(
        "/admin/users",
        data={"action": "role", "username": "admin", "role": "viewer", "csrf_token": token},
    )
    assert self_demote.status_code == 400
    users = admin.get("/api/users").json()
    assert all("hash" not in str(u) for u in users)
