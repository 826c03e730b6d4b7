"""Settings, declared once as data and read by the CLI, the docs and the tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default and meaning."""

    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        "CSC_INSIGHT_HOME",
        "./csc-insight-data",
        "Workspace folder: the warehouse, the pseudonymisation key, exports.",
    ),
    Setting(
        "backend",
        "CSC_INSIGHT_BACKEND",
        "",
        "Warehouse URL: duckdb:///path/file.duckdb (default: warehouse.duckdb in the "
        "workspace), postgres://user:pass@host/db, pyspark (a local Spark session), "
        "pyspark://spark://host:7077 (a Spark cluster's master) or sc://host:15002 (a Spark "
        "Connect server); see docs/engines.md.",
    ),
    Setting(
        "suppression_threshold",
        "CSC_INSIGHT_SUPPRESSION_THRESHOLD",
        "5",
        "Counts from 1 to this number are shown as 'c' to viewers and in exports.",
    ),
    Setting(
        "dob_precision",
        "CSC_INSIGHT_DOB_PRECISION",
        "day",
        "Dates of birth kept at ingest: day (as recorded) or month (the first of the month).",
    ),
    Setting(
        "postcode_precision",
        "CSC_INSIGHT_POSTCODE_PRECISION",
        "district",
        "Postcodes kept at ingest: district (BN21) or sector (BN21 4); never the full postcode.",
    ),
    Setting(
        "reidentification_lookup",
        "CSC_INSIGHT_REIDENTIFICATION_LOOKUP",
        "off",
        "on: ingest also keeps pseudonym -> own identifier in reidentification.duckdb in the "
        "workspace (owner-only file, never in the warehouse) for authorised analysts.",
    ),
    Setting(
        "state_url",
        "CSC_INSIGHT_STATE_URL",
        "",
        "App state (users, sessions, audit log, actions, uploads): sqlite:///path/file.sqlite "
        "(default: appstate.sqlite in the workspace) or postgresql://user:pass@host/db for a "
        "shared deployment.",
    ),
    Setting(
        "session_idle_minutes",
        "CSC_INSIGHT_SESSION_IDLE_MINUTES",
        "30",
        "A signed-in session ends after this many minutes without a request.",
    ),
    Setting(
        "session_max_hours",
        "CSC_INSIGHT_SESSION_MAX_HOURS",
        "8",
        "A signed-in session ends this many hours after log-in, however busy.",
    ),
    Setting(
        "login_attempts",
        "CSC_INSIGHT_LOGIN_ATTEMPTS",
        "5",
        "Failed log-ins allowed per user name in 15 minutes (four times as many per address) "
        "before further attempts are refused until the window passes.",
    ),
    Setting(
        "auth_header",
        "CSC_INSIGHT_AUTH_HEADER",
        "",
        "Trust this request header (e.g. X-Remote-User) as the signed-in user name, as set by "
        "a council's single-sign-on reverse proxy; only from trusted_proxies. The user must "
        "exist (csc-insight users add NAME --role ROLE --sso-only). Empty: local log-in only.",
    ),
    Setting(
        "trusted_proxies",
        "CSC_INSIGHT_TRUSTED_PROXIES",
        "127.0.0.1,::1",
        "Comma-separated addresses of reverse proxies whose identity header and "
        "X-Forwarded-Proto are believed.",
    ),
    Setting(
        "upload_max_mb",
        "CSC_INSIGHT_UPLOAD_MAX_MB",
        "500",
        "Largest upload accepted by the web app, in megabytes.",
    ),
    Setting(
        "sql_cache",
        "CSC_INSIGHT_SQL_CACHE",
        "",
        "Folder for validation SQL compiled once and reused (default: csc-insight/sql in the "
        "user's cache folder, ~/.cache or XDG_CACHE_HOME). It holds rules, not data.",
    ),
    Setting(
        "read_processes",
        "CSC_INSIGHT_READ_PROCESSES",
        "2",
        "Processes that read a load's files at once (forked; 1 reads them all in one "
        "process). More than the machine's cores gains nothing.",
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str, override: str | None = None) -> str:
    """The value of a setting: an explicit override, else its environment variable, else default."""
    setting = SETTINGS_BY_NAME[name]
    if override not in (None, ""):
        return str(override)
    return os.environ.get(setting.env) or setting.default


def home(override: str | Path | None = None) -> Path:
    """The workspace folder, created on first use."""
    path = Path(get("home", str(override) if override is not None else None)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def backend_url(home_dir: Path, override: str | None = None) -> str:
    """The warehouse URL; by default an embedded DuckDB file inside the workspace."""
    return get("backend", override) or f"duckdb://{(home_dir / 'warehouse.duckdb').resolve()}"
