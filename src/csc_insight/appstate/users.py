"""Local accounts: names, roles and argon2 password hashes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from csc_insight.appstate.store import AppState, iso, now, parse_iso
from csc_insight.errors import CscInsightError

VIEWER, ANALYST, ADMIN = "viewer", "analyst", "admin"
# Each role can do everything the roles before it can.
ROLES: tuple[str, ...] = (VIEWER, ANALYST, ADMIN)
MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 0.1 s a check
# on a small server, so a log-in stays quick while guessing stays expensive.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a real password, only for timing")


class UserError(CscInsightError):
    """A user cannot be added or changed as asked."""


@dataclass(frozen=True)
class User:
    """Someone who can sign in, and what they may see."""

    name: str
    role: str
    disabled: bool = False
    created_at: datetime | None = None
    has_password: bool = True

    def can(self, role: str) -> bool:
        """True when this user has ``role`` or a more powerful one."""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"{role!r} is not a role: use one of {', '.join(ROLES)}.")
    return role


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(
            "A user name is 1 to 100 letters, digits, dots, dashes, underscores or @, "
            "starting with a letter or digit."
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _user(row: dict[str, object]) -> User:
    return User(
        name=str(row["name"]),
        role=str(row["role"]),
        disabled=bool(row["disabled"]),
        created_at=parse_iso(str(row["created_at"])),
        has_password=row.get("password_hash") is not None,
    )


def add(state: AppState, name: str, role: str, password: str | None) -> User:
    """Add an account. ``password`` None makes a single-sign-on-only account."""
    check_name(name)
    check_role(role)
    hashed = None if password is None else hash_password(check_password(password))
    stamp = iso(now())
    with state.transaction() as tx:
        if tx.one("SELECT name FROM users WHERE name = ?", (name,)) is not None:
            raise UserError(f"There is already a user called {name!r}.")
        tx.execute(
            "INSERT INTO users (name, role, password_hash, disabled, created_at, updated_at) "
            "VALUES (?, ?, ?, 0, ?, ?)",
            (name, role, hashed, stamp, stamp),
        )
    return User(name, role, has_password=hashed is not None)


def get(state: AppState, name: str) -> User | None:
    with state.transaction() as tx:
        row = tx.one("SELECT * FROM users WHERE name = ?", (name,))
    return None if row is None else _user(row)


def all_users(state: AppState) -> list[User]:
    with state.transaction() as tx:
        return [_user(r) for r in tx.rows("SELECT * FROM users ORDER BY name")]


def _update(state: AppState, name: str, sql: str, params: tuple[object, ...]) -> None:
    with state.transaction() as tx:
        tx.execute(
            f"UPDATE users SET {sql}, updated_at = ? WHERE name = ?", (*params, iso(now()), name)
        )
        if tx.rowcount == 0:
            raise UserError(f"There is no user called {name!r}.")
        # A changed role, password or status ends the user's sessions.
        tx.execute("DELETE FROM sessions WHERE user_name = ?", (name,))


def set_role(state: AppState, name: str, role: str) -> None:
    _update(state, name, "role = ?", (check_role(role),))


def set_password(state: AppState, name: str, password: str) -> None:
    _update(state, name, "password_hash = ?", (hash_password(check_password(password)),))


def set_disabled(state: AppState, name: str, disabled: bool) -> None:
    _update(state, name, "disabled = ?", (1 if disabled else 0,))


def remove(state: AppState, name: str) -> None:
    with state.transaction() as tx:
        tx.execute("DELETE FROM users WHERE name = ?", (name,))
        if tx.rowcount == 0:
            raise UserError(f"There is no user called {name!r}.")
        tx.execute("DELETE FROM sessions WHERE user_name = ?", (name,))


def authenticate(state: AppState, name: str, password: str) -> User | None:
    """The user if the name and password match an enabled account; None otherwise.

    Always verifies one argon2 hash, so timing does not reveal which names exist.
    """
    with state.transaction() as tx:
        row = tx.one("SELECT * FROM users WHERE name = ?", (name,))
    stored = row.get("password_hash") if row else None
    try:
        _HASHER.verify(str(stored) if stored else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or stored is None or row["disabled"]:
        return None
    if _HASHER.check_needs_rehash(str(stored)):
        with state.transaction() as tx:
            tx.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (hash_password(password), name)
            )
    return _user(row)
