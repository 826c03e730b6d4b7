"""Pseudonymisation at the door: child identifiers never reach the warehouse in clear.

A keyed hash (HMAC-SHA256) turns an authority's own child identifier into a stable
pseudonym. The key lives in the workspace, outside the warehouse, so the warehouse alone
cannot be re-identified; whoever holds the key can recompute a pseudonym for a known ID.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

KEY_FILE = "pseudonymisation.key"
PSEUDONYM_HEX_CHARS = 20


def load_or_create_key(home: Path) -> bytes:
    """The workspace's pseudonymisation key, created (readable by the owner only) on first use."""
    path = home / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True)
class Pseudonymiser:
    """Turns (authority, child identifier) into a pseudonym with the workspace key."""

    key: bytes

    def child_id(self, la_code: str, raw_id: str) -> str:
        """The pseudonym of one child; the same input always gives the same pseudonym."""
        message = f"{la_code}\x1f{raw_id.strip()}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]

    def child_ids(self, la_code: str, raw_ids: list[str | None]) -> list[str | None]:
        """Pseudonyms for a column of identifiers; blanks stay blank."""
        return [self.child_id(la_code, r) if r and r.strip() else None for r in raw_ids]


def postcode_district(postcode: str | None) -> str | None:
    """The outward code (district) of a UK postcode, e.g. 'BN21 4TY' -> 'BN21'."""
    if not postcode or not postcode.strip():
        return None
    compact = postcode.strip().upper().replace(" ", "")
    # The inward code is always the last three characters of a full postcode.
    return compact[:-3] if len(compact) >= 5 else compact


def first_of_month(day: date | None) -> date | None:
    """A date of birth degraded to the first of its month."""
    return day.replace(day=1) if day else None
