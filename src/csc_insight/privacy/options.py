"""How much detail about a child survives ingest: the privacy options, as one small object.

Readers and ingest receive a ``PrivacyOptions`` and apply it as rows are read, so a value
the authority chose not to keep never reaches the warehouse:

- ``dob_precision``: ``day`` keeps dates of birth as recorded; ``month`` degrades them to
  the first of the month.
- ``postcode_precision``: ``district`` keeps the outward code (``BN21``); ``sector`` keeps
  the outward code and the first digit of the inward code (``BN21 4``). A full postcode is
  never kept. The value is self-describing: a sector always contains a space, and its
  district is the part before the space, so loads made with either setting can be mixed.
- ``reidentification_lookup``: whether ingest also writes the separate, access-controlled
  lookup from pseudonym back to the authority's own identifier (see reidentification.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import pyarrow as pa
import pyarrow.compute as pc

from csc_insight import settings
from csc_insight.errors import ConfigError

DobPrecision = Literal["day", "month"]
PostcodePrecision = Literal["district", "sector"]
DOB_PRECISIONS: tuple[DobPrecision, ...] = ("day", "month")
POSTCODE_PRECISIONS: tuple[PostcodePrecision, ...] = ("district", "sector")
ON_OFF = {"on": True, "yes": True, "true": True, "1": True}
OFF = {"off", "no", "false", "0"}
# Canonical columns holding a date of birth: degraded when dob_precision is "month".
DOB_COLUMNS: dict[str, tuple[str, ...]] = {"children": ("date_of_birth",)}


@dataclass(frozen=True)
class PrivacyOptions:
    """The privacy settings of one ingest run."""

    dob_precision: DobPrecision = "day"
    postcode_precision: PostcodePrecision = "district"
    reidentification_lookup: bool = False
    # Workspace folder the lookup lives in; required when reidentification_lookup is on.
    home: Path | None = None

    def __post_init__(self) -> None:
        if self.dob_precision not in DOB_PRECISIONS:
            raise ConfigError(
                f"dob_precision must be {' or '.join(DOB_PRECISIONS)}, not {self.dob_precision!r}."
            )
        if self.postcode_precision not in POSTCODE_PRECISIONS:
            raise ConfigError(
                "postcode_precision must be "
                f"{' or '.join(POSTCODE_PRECISIONS)}, not {self.postcode_precision!r}."
            )
        if self.reidentification_lookup and self.home is None:
            raise ConfigError("The re-identification lookup needs a workspace folder.")

    @classmethod
    def from_settings(cls, home: Path, *, keep_lookup: bool | None = None) -> PrivacyOptions:
        """The options the settings (environment variables) ask for; ``keep_lookup`` wins."""
        dob = settings.get("dob_precision").strip().lower()
        postcode = settings.get("postcode_precision").strip().lower()
        lookup = settings.get("reidentification_lookup").strip().lower()
        if lookup not in ON_OFF and lookup not in OFF:
            env = settings.SETTINGS_BY_NAME["reidentification_lookup"].env
            raise ConfigError(f"{env} must be on or off, not {lookup!r}.")
        return cls(
            dob_precision=cast(DobPrecision, dob),
            postcode_precision=cast(PostcodePrecision, postcode),
            reidentification_lookup=keep_lookup if keep_lookup is not None else lookup in ON_OFF,
            home=home,
        )

    def postcodes(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Postcodes reduced to the configured precision."""
        return reduce_postcodes(values, self.postcode_precision)

    def degrade(self, table: str, rows: pa.Table) -> pa.Table:
        """Typed canonical rows with dates of birth at the configured precision."""
        if self.dob_precision == "day":
            return rows
        for name in DOB_COLUMNS.get(table, ()):
            if name in rows.column_names:
                i = rows.column_names.index(name)
                rows = rows.set_column(i, name, first_of_month(rows.column(name)))
        return rows


def reduce_postcodes(
    values: pa.Array | pa.ChunkedArray, precision: PostcodePrecision = "district"
) -> pa.Array:
    """Postcodes reduced to their district (``BN21``) or sector (``BN21 4``), vectorised.

    The inward code is always the last three characters of a full postcode; a value of
    fewer than five characters is taken to be an outward code already and kept as it is.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    compact = pc.replace_substring(pc.utf8_upper(pc.utf8_trim_whitespace(values)), " ", "")
    full = pc.greater_equal(pc.utf8_length(compact), 5)
    outward = pc.utf8_slice_codeunits(compact, 0, -3)
    if precision == "sector":
        digit = pc.utf8_slice_codeunits(compact, -3, -2)
        outward = pc.binary_join_element_wise(outward, digit, " ")
    reduced = pc.if_else(full, outward, compact)
    return pc.if_else(pc.equal(reduced, ""), None, reduced)


def first_of_month(dates: pa.Array | pa.ChunkedArray) -> pa.Array:
    """date32 values moved to the first day of their month; nulls stay null."""
    if isinstance(dates, pa.ChunkedArray):
        dates = dates.combine_chunks()
    day = pc.day(dates)
    shifted = pc.cast(pc.subtract(pc.cast(dates, pa.int32()), pc.subtract(day, 1)), pa.int32())
    return pc.cast(shifted, pa.date32())
