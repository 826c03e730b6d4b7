"""The app state store and accounts: argon2 hashes, roles, sessions, the users command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from csc_insight.appstate import AppState, UserError, default_url, uploads
from csc_insight.appstate import audit as audit_log
from csc_insight.appstate import sessions as session_store
from csc_insight.appstate import users as user_store
from csc_insight.cli import app as cli

runner = CliRunner()


def test_accounts_store_only_argon2_hashes(tmp_path: Path) -> None:
    state = AppState(default_url(tmp_path))
    user_store.add(state, "ann", "analyst", "correct horse battery")
    with state.transaction() as tx:
        row = tx.one("SELECT password_hash FROM users WHERE name = 'ann'")
    assert row is not None and str(row["password_hash"]).startswith("$argon2id$")
    assert "correct horse" not in (tmp_path / "appstate.sqlite").read_bytes().decode("latin-1")
    assert user_store.authenticate(state, "ann", "correct horse battery") is not None
    assert user_store.authenticate(state, "ann", "wrong") is None
    assert user_store.authenticate(state, "nobody", "correct horse battery") is None
    with pytest.raises(UserError, match="at least 12"):
        user_store.add(state, "bob", "viewer", "short")
    with pytest.raises(UserError, match="not a role"):
        user_store.add(state, "bob", "superuser", "long enough password")
    with pytest.raises(UserError, match="already"):
        user_store.add(state, "ann", "viewer", "long enough password")
    user_store.set_disabled(state, "ann", True)
    assert user_store.authenticate(state, "ann", "correct horse battery") is None


def test_roles_are_ordered() -> None:
    admin = user_store.User("a", "admin")
    viewer = user_store.User("v", "viewer")
    assert admin.can("analyst") and admin.can("viewer")
    assert viewer.can("viewer") and not viewer.can("analyst")
    assert not user_store.User("d", "admin", disabled=True).can("viewer")


def test_sessions_expire_and_are_purged(tmp_path: Path) -> None:
    state = AppState(default_url(tmp_path))
    user = user_store.add(state, "ann", "viewer", "correct horse battery")
    token = session_store.create(state, user, "127.0.0.1")
    idle, absolute = timedelta(minutes=30), timedelta(hours=8)
    found = session_store.lookup(state, token, idle, absolute)
    assert found is not None and found.user.name == "ann" and len(found.csrf_token) > 30
    assert session_store.lookup(state, "not-a-token", idle, absolute) is None
    assert session_store.purge(state, timedelta(seconds=-1), absolute) == 1
    assert session_store.lookup(state, token, idle, absolute) is None


def test_audit_log_is_newest_first(tmp_path: Path) -> None:
    state = AppState(default_url(tmp_path))
    for i in range(3):
        audit_log.record(state, audit_log.EXPORT, user="ann", target=f"t{i}")
    entries = audit_log.entries(state, user="ann")
    assert [e.target for e in entries] == ["t2", "t1", "t0"]
    assert audit_log.entries(state, action=audit_log.LOGIN) == []


def test_users_command(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    added = runner.invoke(
        cli,
        ["users", "add", "ann", "--role", "admin", "--password-stdin", *home],
        input="a long enough password\n",
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        cli,
        ["users", "add", "bob", "--role", "viewer", *home],
        input="another long password\nanother long password\n",
    )
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(cli, ["users", "list", *home])
    assert "ann" in listed.output and "admin" in listed.output and "bob" in listed.output
    assert runner.invoke(cli, ["users", "role", "bob", "analyst", *home]).exit_code == 0
    assert runner.invoke(cli, ["users", "disable", "bob", *home]).exit_code == 0
    state = AppState(default_url(tmp_path))
    bob = user_store.get(state, "bob")
    assert bob is not None and bob.role == "analyst" and bob.disabled
    assert user_store.authenticate(state, "ann", "a long enough password") is not None
    bad = runner.invoke(
        cli,
        ["users", "add", "eve", "--role", "root", "--password-stdin", *home],
        input="a long enough password\n",
    )
    assert bad.exit_code != 0
    assert runner.invoke(cli, ["users", "remove", "bob", *home]).exit_code == 0
    assert user_store.get(state, "bob") is None
    assert {e.action for e in audit_log.entries(state)} >= {
        audit_log.USER_ADDED,
        audit_log.USER_CHANGED,
        audit_log.USER_REMOVED,
    }


def test_postgresql_app_state(postgres_server: Any) -> None:
    """The same store on a real PostgreSQL server (started by the tests), by URL."""
    with postgres_server.database() as url:
        state = AppState(url.replace("postgres://", "postgresql://", 1))
        try:
            user = user_store.add(state, "ann", "admin", "correct horse battery")
            assert user_store.authenticate(state, "ann", "correct horse battery") is not None
            token = session_store.create(state, user, None)
            found = session_store.lookup(state, token, timedelta(minutes=5), timedelta(hours=1))
            assert found is not None and found.user.role == "admin"
            audit_log.record(state, audit_log.LOGIN, user="ann")
            assert audit_log.entries(state)[0].action == audit_log.LOGIN
            with pytest.raises(UserError):
                user_store.add(state, "ann", "viewer", "correct horse battery")
            upload = uploads.create(state, "ann", [{"name": "a.csv"}])
            uploads.update(state, upload, status=uploads.CHECKED, check_report={"x": 1})
            got = uploads.get(state, upload)
            assert got is not None and got.check_report == {"x": 1}
        finally:
            state.close()
