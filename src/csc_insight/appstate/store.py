"""A small transactional store on SQLite or PostgreSQL, through plain DB-API connections.

Every statement is written once with ``?`` placeholders and portable SQL; timestamps are
stored as ISO 8601 text in UTC so both engines sort and compare them the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from csc_insight.errors import ConfigError, CscInsightError

SCHEMA_VERSION = 1
SQLITE_FILE = "appstate.sqlite"


class StateError(CscInsightError):
    """The app state store cannot be opened or written."""


def default_url(home: Path) -> str:
    """The default store: an SQLite file in the workspace."""
    return f"sqlite:///{(home / SQLITE_FILE).resolve()}"


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A timestamp as stored: ISO 8601 in UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str | None) -> datetime | None:
    """A stored timestamp back as an aware datetime."""
    return datetime.fromisoformat(text) if text else None


# Columns added to ``actions`` after its first release (action plans): added in place to a
# store created before them (see AppState._create).
ACTION_COLUMNS_ADDED = ("description", "concern", "indicator_ids", "reviews", "effect_from")


def _tables(serial: str) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
        """CREATE TABLE IF NOT EXISTS users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS sessions (
            token_hash TEXT PRIMARY KEY,
            user_name TEXT NOT NULL,
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            ip TEXT
        )""",
        f"""CREATE TABLE IF NOT EXISTS audit_log (
            id {serial},
            at TEXT NOT NULL,
            user_name TEXT,
            role TEXT,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT,
            ip TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
        f"""CREATE TABLE IF NOT EXISTS login_failures (
            id {serial},
            at TEXT NOT NULL,
            user_name TEXT,
            ip TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at)",
        f"""CREATE TABLE IF NOT EXISTS actions (
            id {serial},
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            indicator_id TEXT,
            title TEXT NOT NULL,
            owner TEXT,
            due_date TEXT,
            status TEXT NOT NULL,
            notes TEXT,
            description TEXT,
            concern TEXT,
            indicator_ids TEXT,
            reviews TEXT,
            effect_from TEXT
        )""",
        f"""CREATE TABLE IF NOT EXISTS action_history (
            id {serial},
            action_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            user_name TEXT,
            field TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS action_history_action ON action_history (action_id)",
        """CREATE TABLE IF NOT EXISTS settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT
        )""",
        """CREATE TABLE IF NOT EXISTS uploads (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            user_name TEXT NOT NULL,
            status TEXT NOT NULL,
            stage TEXT NOT NULL,
            progress REAL NOT NULL,
            files TEXT NOT NULL,
            check_report TEXT,
            load_report TEXT,
            error TEXT
        )""",
    ]


class Transaction:
    """Statements run inside one transaction (``?`` placeholders on every engine)."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self._cursor = cursor
        self._placeholder = placeholder

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Transaction:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        self._cursor.execute(sql, tuple(params))
        return self

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of a query, as dicts keyed by column name."""
        self.execute(sql, params)
        names = [d[0] for d in self._cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in self._cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row of a query, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def columns(self, table: str) -> list[str]:
        """A table's column names (from an empty query, so on every engine)."""
        self.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        names = [d[0] for d in self._cursor.description or ()]
        self._cursor.fetchall()
        return names


class AppState:
    """The store. Thread-safe: each thread gets its own connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = urlparse(url)
        self.kind = parsed.scheme.split("+")[0]
        self.path: Path | None = None
        if self.kind == "sqlite":
            # As SQLAlchemy writes them: sqlite:///relative/file, sqlite:////absolute/file.
            self.path = Path(url.removeprefix("sqlite:///"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # sessions and the audit log: owner-only
                self.path.touch(mode=0o600)
        elif self.kind not in ("postgres", "postgresql"):
            raise ConfigError(
                f"The app state URL must start with sqlite:/// or postgresql://, not {url!r}."
            )
        self._local = threading.local()
        self._create()

    # --- connections ---------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.path is not None:
            con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=10000")
            con.execute("PRAGMA foreign_keys=ON")
            return con
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is installed with the postgres extra
            raise ConfigError(
                "A PostgreSQL app state needs psycopg: pip install 'csc-insight[postgres]'."
            ) from None
        try:
            return psycopg.connect(self.url.replace("postgres://", "postgresql://", 1))
        except psycopg.Error as exc:
            raise StateError(f"The app state database cannot be opened: {exc}") from None

    def _connection(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
        return con

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        con = self._connection()
        if self.kind == "sqlite":
            cursor = con.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(cursor, "?")
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()
            return
        import psycopg

        try:
            with con.transaction(), con.cursor() as cursor:
                yield Transaction(cursor, "%s")
        except psycopg.OperationalError:
            self._local.con = None  # a dropped connection: the next call reconnects
            raise

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def _create(self) -> None:
        serial = (
            "INTEGER PRIMARY KEY AUTOINCREMENT"
            if self.kind == "sqlite"
            else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        )
        with self.transaction() as tx:
            for statement in _tables(serial):
                tx.execute(statement)
            have = set(tx.columns("actions"))
            for column in ACTION_COLUMNS_ADDED:
                if column not in have:
                    tx.execute(f"ALTER TABLE actions ADD COLUMN {column} TEXT")
            if tx.one("SELECT version FROM schema_version") is None:
                tx.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    # --- settings ------------------------------------------------------------------------
    def get_setting(self, name: str) -> str | None:
        with self.transaction() as tx:
            row = tx.one("SELECT value FROM settings WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    def set_setting(self, name: str, value: str, by: str | None = None) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM settings WHERE name = ?", (name,))
            tx.execute(
                "INSERT INTO settings (name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)",
                (name, value, iso(now()), by),
            )
