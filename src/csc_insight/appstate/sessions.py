"""Signed-in sessions: a random token in a cookie, only its hash stored; idle and absolute
expiry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from csc_insight.appstate.store import AppState, iso, now, parse_iso
from csc_insight.appstate.users import User, _user

# last_seen is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Session:
    """A live session: who, and the token every form must carry back (CSRF)."""

    user: User
    csrf_token: str
    created_at: datetime
    last_seen: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(state: AppState, user: User, ip: str | None) -> str:
    """Start a session for ``user``; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    stamp = iso(now())
    with state.transaction() as tx:
        tx.execute(
            "INSERT INTO sessions (token_hash, user_name, csrf_token, created_at, last_seen, ip) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(token), user.name, secrets.token_urlsafe(32), stamp, stamp, ip),
        )
    return token


def lookup(state: AppState, token: str, idle: timedelta, absolute: timedelta) -> Session | None:
    """The live session for a cookie token; None (and the session ended) if it has expired."""
    key = _hash(token)
    with state.transaction() as tx:
        row = tx.one(
            "SELECT u.*, s.csrf_token, s.created_at AS session_created, "
            "s.last_seen AS session_seen FROM sessions s "
            "JOIN users u ON u.name = s.user_name WHERE s.token_hash = ?",
            (key,),
        )
        if row is None:
            return None
        moment = now()
        created = parse_iso(str(row["session_created"]))
        seen = parse_iso(str(row["session_seen"]))
        assert created is not None and seen is not None
        if row["disabled"] or moment - seen > idle or moment - created > absolute:
            tx.execute("DELETE FROM sessions WHERE token_hash = ?", (key,))
            return None
        if moment - seen > TOUCH_EVERY:
            tx.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (iso(moment), key))
            seen = moment
    return Session(_user(row), str(row["csrf_token"]), created, seen)


def end(state: AppState, token: str) -> None:
    with state.transaction() as tx:
        tx.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))


def purge(state: AppState, idle: timedelta, absolute: timedelta) -> int:
    """Delete every expired session; returns how many."""
    moment = now()
    with state.transaction() as tx:
        tx.execute(
            "DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
            (iso(moment - idle), iso(moment - absolute)),
        )
        return tx.rowcount
