"""Pseudonymisation at the door."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csc_insight.privacy.pseudonymise import (
    KEY_FILE,
    Pseudonymiser,
    first_of_month,
    load_or_create_key,
    postcode_district,
)


def test_key_is_created_once_and_private(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    assert len(key) == 32
    assert load_or_create_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


@given(st.text(min_size=1).filter(str.strip))
def test_pseudonym_is_stable_and_hides_the_identifier(raw: str) -> None:
    p = Pseudonymiser(b"k" * 32)
    pseudonym = p.child_id("E06000001", raw)
    assert pseudonym == p.child_id("E06000001", raw)
    assert raw.strip() not in pseudonym or len(raw.strip()) < 3
    assert len(pseudonym) == 20


def test_pseudonym_depends_on_key_and_authority() -> None:
    a, b = Pseudonymiser(b"a" * 32), Pseudonymiser(b"b" * 32)
    assert a.child_id("E06000001", "123456") != b.child_id("E06000001", "123456")
    assert a.child_id("E06000001", "123456") != a.child_id("E06000002", "123456")
    assert a.child_ids("E06000001", ["1", "", None, " 1 "]) == [
        a.child_id("E06000001", "1"),
        None,
        None,
        a.child_id("E06000001", "1"),
    ]


@pytest.mark.parametrize(
    ("postcode", "district"),
    [
        ("BN21 4TY", "BN21"),
        ("bn214ty", "BN21"),
        ("W1A 1AA", "W1A"),
        ("M1 1AE", "M1"),
        ("", None),
        (None, None),
    ],
)
def test_postcode_district(postcode: str | None, district: str | None) -> None:
    assert postcode_district(postcode) == district


def test_first_of_month() -> None:
    assert first_of_month(date(2016, 2, 29)) == date(2016, 2, 1)
    assert first_of_month(None) is None
