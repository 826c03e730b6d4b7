"""The action plan, kept in the app state store: actions, their reviews and their history.

An action has a title, a description, an owner, a due date, the indicators it should move,
the area of concern it answers (a finding's key, e.g. ``indicator:cin.rereferral_pct``), a
status (open, in progress, done, dropped) and dated review notes. Every change is written
to ``action_history`` in the same transaction as the change itself: who changed which
field, when, from what to what.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from csc_insight.appstate.store import AppState, Transaction, iso, now, parse_iso
from csc_insight.errors import CscInsightError

OPEN = "open"
IN_PROGRESS = "in progress"
DONE = "done"
DROPPED = "dropped"
STATUSES: tuple[str, ...] = (OPEN, IN_PROGRESS, DONE, DROPPED)
ACTIVE: tuple[str, ...] = (OPEN, IN_PROGRESS)
CLOSED: tuple[str, ...] = (DONE, DROPPED)
# Fields ``update`` may change (``reviews`` are added with ``review``).
FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "owner",
    "due_date",
    "status",
    "indicator_ids",
    "concern",
    "notes",
    "effect_from",
)
CREATED = "created"
REVIEW = "review"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_COLUMNS = (
    "id, created_at, created_by, updated_at, indicator_id, title, owner, due_date, status, "
    "notes, description, concern, indicator_ids, reviews, effect_from"
)


class ActionError(CscInsightError):
    """An action cannot be created or changed as asked."""


@dataclass(frozen=True)
class Review:
    """A dated review note, and the status the action was given at it (if changed)."""

    on: date
    by: str
    note: str
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "by": self.by, "note": self.note, "status": self.status}


@dataclass(frozen=True)
class Action:
    """One action of the plan."""

    id: int
    title: str
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    description: str | None = None
    owner: str | None = None
    due_date: date | None = None
    indicator_ids: list[str] = field(default_factory=list)
    concern: str | None = None
    notes: str | None = None
    reviews: list[Review] = field(default_factory=list)
    effect_from: str | None = None  # month its effect is measured from ('2024-10')

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def overdue(self, today: date | None = None) -> bool:
        """Still open after its due date."""
        day = today or date.today()
        return self.active and self.due_date is not None and self.due_date < day

    @property
    def last_review(self) -> Review | None:
        return self.reviews[-1] if self.reviews else None

    @property
    def measured_from(self) -> str:
        """The month the effect on its indicators is measured from: as set, else created."""
        return self.effect_from or f"{self.created_at:%Y-%m}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "owner": self.owner,
            "due_date": None if self.due_date is None else self.due_date.isoformat(),
            "status": self.status,
            "indicator_ids": self.indicator_ids,
            "concern": self.concern,
            "notes": self.notes,
            "effect_from": self.effect_from,
            "measured_from": self.measured_from,
            "reviews": [r.to_dict() for r in self.reviews],
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "updated_at": iso(self.updated_at),
            "overdue": self.overdue(),
        }


@dataclass(frozen=True)
class Change:
    """One entry of an action's history: who changed what, when."""

    action_id: int
    at: datetime
    by: str | None
    field: str
    old: str | None
    new: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "at": iso(self.at),
            "by": self.by,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


# --- checking input ----------------------------------------------------------------------
def _text(value: Any, name: str, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ActionError(f"An action needs a {name}.")
        return None
    text = str(value).strip()
    if not text:
        if required:
            raise ActionError(f"An action needs a {name}.")
        return None
    if len(text) > 10_000:
        raise ActionError(f"The {name} is too long (10,000 characters at most).")
    return text


def _status(value: Any) -> str:
    text = str(value or "").strip().lower().replace("_", " ")
    if text not in STATUSES:
        raise ActionError(f"The status must be one of {', '.join(STATUSES)}, not {value!r}.")
    return text


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ActionError(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-30.") from None


def _month(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not _MONTH.match(text):
        raise ActionError(f"{value!r} is not a month: use YYYY-MM, e.g. 2024-10.")
    return text


def _indicators(value: Any) -> list[str]:
    from csc_insight.indicators import REGISTRY

    if value is None or value == "":
        return []
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    ids = list(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise ActionError(
            f"No indicator is called {', '.join(unknown)}: see csc-insight indicators --list."
        )
    return ids


def _clean(name: str, value: Any) -> Any:
    """A field's value as stored in the Action (checked)."""
    if name == "title":
        return _text(value, "title", required=True)
    if name in ("description", "owner", "concern", "notes"):
        return _text(value, name)
    if name == "due_date":
        return _date(value)
    if name == "status":
        return _status(value)
    if name == "indicator_ids":
        return _indicators(value)
    if name == "effect_from":
        return _month(value)
    raise ActionError(f"An action has no field {name!r}: the fields are {', '.join(FIELDS)}.")


def _stored(name: str, value: Any) -> str | None:
    """A field's value as a column holds it (and as the history shows it)."""
    if value is None:
        return None
    if name == "due_date":
        return str(value.isoformat())
    if name == "indicator_ids":
        return ",".join(value) or None
    return str(value)


# --- reading -----------------------------------------------------------------------------
def _from_row(row: dict[str, Any]) -> Action:
    ids = [i for i in (row.get("indicator_ids") or "").split(",") if i]
    if not ids and row.get("indicator_id"):
        ids = [str(row["indicator_id"])]  # an action written before linked indicators
    reviews = []
    for r in json.loads(row.get("reviews") or "[]"):
        reviews.append(Review(date.fromisoformat(r["on"]), r["by"], r["note"], r.get("status")))
    created = parse_iso(row["created_at"])
    updated = parse_iso(row["updated_at"])
    assert created is not None and updated is not None
    return Action(
        id=int(row["id"]),
        title=str(row["title"]),
        status=str(row["status"]),
        created_at=created,
        created_by=str(row["created_by"]),
        updated_at=updated,
        description=row.get("description"),
        owner=row.get("owner"),
        due_date=_date(row.get("due_date")),
        indicator_ids=ids,
        concern=row.get("concern"),
        notes=row.get("notes"),
        reviews=reviews,
        effect_from=row.get("effect_from"),
    )


def _get(tx: Transaction, action_id: int) -> Action:
    row = tx.one(f"SELECT {_COLUMNS} FROM actions WHERE id = ?", (int(action_id),))
    if row is None:
        raise ActionError(f"There is no action {action_id}.")
    return _from_row(row)


def get(state: AppState, action_id: int) -> Action:
    """One action by its number."""
    with state.transaction() as tx:
        return _get(tx, action_id)


def list_actions(
    state: AppState,
    *,
    status: str | Sequence[str] | None = None,
    indicator_id: str | None = None,
    concern: str | None = None,
    due_by: date | str | None = None,
    active_only: bool = False,
) -> list[Action]:
    """Actions, soonest due first (undated last), filtered by status, indicator, concern or
    due date (``due_by``: due on or before that day)."""
    wanted: set[str] | None = None
    if status is not None:
        wanted = {_status(s) for s in ([status] if isinstance(status, str) else status)}
    if active_only:
        wanted = set(ACTIVE) if wanted is None else wanted & set(ACTIVE)
    limit = _date(due_by)
    with state.transaction() as tx:
        rows = tx.rows(f"SELECT {_COLUMNS} FROM actions ORDER BY id")
    out = []
    for a in (_from_row(r) for r in rows):
        if wanted is not None and a.status not in wanted:
            continue
        if indicator_id is not None and indicator_id not in a.indicator_ids:
            continue
        if concern is not None and a.concern != concern:
            continue
        if limit is not None and (a.due_date is None or a.due_date > limit):
            continue
        out.append(a)
    return sorted(out, key=lambda a: (a.due_date is None, a.due_date or date.max, a.id))


def history(state: AppState, action_id: int) -> list[Change]:
    """Every change to an action, oldest first."""
    with state.transaction() as tx:
        _get(tx, action_id)
        rows = tx.rows(
            "SELECT action_id, at, user_name, field, old_value, new_value FROM action_history "
            "WHERE action_id = ? ORDER BY at, id",
            (int(action_id),),
        )
    out = []
    for r in rows:
        at = parse_iso(r["at"])
        assert at is not None
        out.append(
            Change(
                int(r["action_id"]), at, r["user_name"], r["field"], r["old_value"], r["new_value"]
            )
        )
    return out


# --- writing -----------------------------------------------------------------------------
def _log(
    tx: Transaction, action_id: int, at: str, by: str, name: str, old: str | None, new: str | None
) -> None:
    tx.execute(
        "INSERT INTO action_history (action_id, at, user_name, field, old_value, new_value) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (action_id, at, by, name, old, new),
    )


def _who(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise ActionError("Say who is making the change (a user name).")
    return name


def create(
    state: AppState,
    *,
    title: str,
    created_by: str,
    description: str | None = None,
    owner: str | None = None,
    due_date: date | str | None = None,
    indicator_ids: Sequence[str] | str | None = None,
    concern: str | None = None,
    status: str = OPEN,
    notes: str | None = None,
    effect_from: str | None = None,
) -> Action:
    """Add an action to the plan; its history starts with who created it."""
    by = _who(created_by)
    values = {
        "title": _clean("title", title),
        "description": _clean("description", description),
        "owner": _clean("owner", owner),
        "due_date": _clean("due_date", due_date),
        "status": _clean("status", status),
        "indicator_ids": _clean("indicator_ids", indicator_ids),
        "concern": _clean("concern", concern),
        "notes": _clean("notes", notes),
        "effect_from": _clean("effect_from", effect_from),
    }
    at = iso(now())
    with state.transaction() as tx:
        row = tx.one(
            "INSERT INTO actions (created_at, created_by, updated_at, indicator_id, title, owner, "
            "due_date, status, notes, description, concern, indicator_ids, reviews, effect_from) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                at,
                by,
                at,
                (values["indicator_ids"] or [None])[0],
                values["title"],
                values["owner"],
                _stored("due_date", values["due_date"]),
                values["status"],
                values["notes"],
                values["description"],
                values["concern"],
                _stored("indicator_ids", values["indicator_ids"]),
                "[]",
                values["effect_from"],
            ),
        )
        assert row is not None
        action_id = int(row["id"])
        _log(tx, action_id, at, by, CREATED, None, values["title"])
        for name in FIELDS:
            if name != "title" and values[name] not in (None, []):
                _log(tx, action_id, at, by, name, None, _stored(name, values[name]))
        return _get(tx, action_id)


def _apply(tx: Transaction, action: Action, by: str, changes: dict[str, Any], at: str) -> None:
    sets, params = [], []
    for name, value in changes.items():
        old, new = _stored(name, getattr(action, name)), _stored(name, value)
        if old == new:
            continue
        column = name
        sets.append(f"{column} = ?")
        params.append(new)
        if name == "indicator_ids":
            sets.append("indicator_id = ?")
            params.append(value[0] if value else None)
        _log(tx, action.id, at, by, name, old, new)
    if sets:
        sets.append("updated_at = ?")
        params.append(at)
        tx.execute(f"UPDATE actions SET {', '.join(sets)} WHERE id = ?", (*params, action.id))


def update(state: AppState, action_id: int, *, by: str, **changes: Any) -> Action:
    """Change any of ``FIELDS``; each field that really changes is written to the history.

    Passing None (or "") clears an optional field; the title and status cannot be cleared.
    """
    who = _who(by)
    cleaned = {name: _clean(name, value) for name, value in changes.items()}
    at = iso(now())
    with state.transaction() as tx:
        action = _get(tx, action_id)
        _apply(tx, action, who, cleaned, at)
        return _get(tx, action_id)


def review(
    state: AppState,
    action_id: int,
    *,
    by: str,
    note: str,
    status: str | None = None,
    on: date | str | None = None,
) -> Action:
    """Add a dated review note (today unless ``on``), optionally changing the status."""
    who = _who(by)
    text = _text(note, "review note", required=True)
    assert text is not None
    day = _date(on) or now().date()
    new_status = _status(status) if status else None
    at = iso(now())
    with state.transaction() as tx:
        action = _get(tx, action_id)
        reviews = [*action.reviews, Review(day, who, text, new_status)]
        reviews.sort(key=lambda r: r.on)
        tx.execute(
            "UPDATE actions SET reviews = ?, updated_at = ? WHERE id = ?",
            (json.dumps([r.to_dict() for r in reviews]), at, action.id),
        )
        _log(tx, action.id, at, who, REVIEW, None, f"{day.isoformat()}: {text}")
        if new_status is not None:
            _apply(tx, action, who, {"status": new_status}, at)
        return _get(tx, action_id)


def close(
    state: AppState,
    action_id: int,
    *,
    by: str,
    status: str = DONE,
    note: str | None = None,
) -> Action:
    """Close an action as done (or dropped), with an optional closing review note."""
    final = _status(status)
    if final not in CLOSED:
        raise ActionError(f"An action is closed as {' or '.join(CLOSED)}, not {status!r}.")
    if note:
        return review(state, action_id, by=by, note=note, status=final)
    return update(state, action_id, by=by, status=final)


__all__ = [
    "ACTIVE",
    "CLOSED",
    "DONE",
    "DROPPED",
    "FIELDS",
    "IN_PROGRESS",
    "OPEN",
    "STATUSES",
    "Action",
    "ActionError",
    "Change",
    "Review",
    "close",
    "create",
    "get",
    "history",
    "list_actions",
    "review",
    "update",
]
