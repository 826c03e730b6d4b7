"""Shared by the web tests: a small loaded warehouse, accounts for each role, signed-in clients."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from csc_insight.appstate import AppState, default_url
from csc_insight.appstate import users as user_store
from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import FileTableReport, LoadBatch, Warehouse

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx
    from fastapi.testclient import TestClient

LA = "E06000001"
CHILDREN = 40
NFA = 3  # referrals with no further action: a small number
MISSING = 2  # missing episodes: a small number of rows
PASSWORD = "a long test password"
ROLES = ("viewer", "analyst", "admin")


def _rows(name: str, rows: list[dict[str, Any]], load_id: str) -> pa.Table:
    lineage = {"load_id": load_id, "source_file": f"{name}.csv"}
    full = [{**lineage, "source_row": i + 1, **r} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(full, schema=table(name).arrow_schema())


def load_sample(url: str) -> None:
    """One load through the real store: 40 children and referrals, 3 NFA, 2 missing rows."""
    with Warehouse.connect(url) as warehouse:
        batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
        children = [
            {"la_code": LA, "child_id": f"c{i}", "sex": "1", "locality": f"Area {i % 2}"}
            for i in range(CHILDREN)
        ]
        referrals = [
            {
                "la_code": LA,
                "child_id": f"c{i}",
                "referral_id": f"r{i}",
                "referral_date": date(2024, 5 + i % 6, 1 + i % 28),
                "referral_nfa": i < NFA,
                "team": f"Team {'AB'[i % 2]}",
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


def make_state(folder: Path) -> AppState:
    """An SQLite app state with one account per role: viewer, analyst, admin."""
    state = AppState(default_url(folder))
    for role in ROLES:
        if user_store.get(state, role) is None:
            user_store.add(state, role, role, PASSWORD)
    return state


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    form = client.get("/login")
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )


def signed_in(app: Any, role: str | None, **kwargs: Any) -> TestClient:
    """A client signed in as ``role`` (None: nobody)."""
    client = TestClient(app, **kwargs)
    if role is not None:
        response = sign_in(client, role)
        assert response.status_code == 303, response.text
    return client
