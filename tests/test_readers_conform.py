"""Conform: typing raw strings, quarantine reasons, and property tests of the parsers."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from csc_insight.datasets.conform import (
    MAX_YEAR,
    MIN_YEAR,
    RawTable,
    conform,
    keyed_hashes,
    parse_booleans,
    parse_dates,
    parse_integers,
    string_table,
)
from csc_insight.privacy.pseudonymise import Pseudonymiser

PSEUDO = Pseudonymiser(b"k" * 32)
DATES = st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31))


def _one(parser: object, value: str | None) -> tuple[object, bool]:
    values, invalid = parser(pa.array([value], pa.string()))  # type: ignore[operator]
    return values[0].as_py(), invalid[0].as_py()


@given(DATES)
def test_dates_round_trip_in_every_accepted_format(d: date) -> None:
    for text in (
        d.isoformat(),
        d.strftime("%d/%m/%Y"),
        f"{d.day}/{d.month}/{d.year}",
        f" {d.isoformat()} ",
        f"{d.isoformat()} 00:00:00",
        f"{d.isoformat()}T13:45:00",
    ):
        assert _one(parse_dates, text) == (d, False)


@given(st.text(max_size=12))
def test_date_parser_never_raises_and_flags_what_it_cannot_read(text: str) -> None:
    value, invalid = _one(parse_dates, text)
    assert (value is None) == (invalid or not text.strip())


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=29, max_value=35))
def test_impossible_days_are_invalid_not_rolled_over(month: int, day: int) -> None:
    text = f"2023-{month:02d}-{day:02d}"
    try:
        real = date(2023, month, day)
    except ValueError:
        assert _one(parse_dates, text) == (None, True)
    else:
        assert _one(parse_dates, text) == (real, False)


@given(st.integers(min_value=-(10**17), max_value=10**17), st.sampled_from(["", ".0", ".00"]))
def test_integers_accept_spreadsheet_decimals(n: int, suffix: str) -> None:
    assert _one(parse_integers, f"{n}{suffix}") == (n, False)


@given(st.integers(min_value=1, max_value=99))
def test_fractions_are_not_integers(n: int) -> None:
    assert _one(parse_integers, f"10.{n}") == (None, True)


@given(st.sampled_from(["Y", "y", "yes", "YES", "true", "True", "1", "t"]))
def test_true_words(text: str) -> None:
    assert _one(parse_booleans, text) == (True, False)


@given(st.sampled_from(["N", "n", "no", "No", "false", "FALSE", "0", "f"]))
def test_false_words(text: str) -> None:
    assert _one(parse_booleans, text) == (False, False)


@given(st.text(max_size=8))
def test_boolean_parser_flags_other_text(text: str) -> None:
    value, invalid = _one(parse_booleans, text)
    known = text.strip().lower() in {"y", "yes", "true", "t", "1", "n", "no", "false", "f", "0"}
    assert invalid == (bool(text.strip()) and not known)
    assert (value is None) == (not known)


def _reviews(children: list[str | None], dates: list[str | None]) -> RawTable:
    data = string_table(
        {"child_id": children, "review_date": dates}, list(range(1, len(children) + 1))
    )
    return RawTable("cla_reviews", data, {"child_id": "CHILD", "review_date": "REVIEW"})


def test_quarantine_reasons_are_plain_and_free_of_child_ids() -> None:
    raw = _reviews(
        ["C1", "", "SECRET7", "C4", "C5"],
        ["01/02/2023", "01/02/2023", "SECRET7", "2023-02-30", None],
    )
    out = conform(
        raw, la_code="E10000011", load_id="L", source_file="reviews.csv", pseudonymiser=PSEUDO
    )
    assert out.read == out.loaded + out.quarantined == 5
    q = out.quarantine.to_pylist()
    assert [r["source_row"] for r in q] == [2, 3, 4, 5]
    assert q[0]["reason"] == "the child identifier is blank but required"
    assert "SECRET7" not in q[1]["reason"] and q[1]["column_name"] == "REVIEW"
    assert "'2023-02-30'" in q[2]["reason"]
    assert q[3]["reason"] == "REVIEW is blank but required"
    assert all(r["target_table"] == "cla_reviews" and r["load_id"] == "L" for r in q)


def test_child_ids_are_pseudonymised_consistently() -> None:
    out = conform(
        _reviews(["C1", " C1 ", "C2"], ["01/01/2023", "02/01/2023", "01/01/2023"]),
        la_code="E10000011",
        load_id="L",
        source_file="f",
        pseudonymiser=PSEUDO,
    )
    ids = out.rows.column("child_id").to_pylist()
    assert ids[0] == ids[1] == PSEUDO.child_id("E10000011", "C1") != ids[2]
    assert "C1" not in ids


def test_output_has_exactly_the_model_columns() -> None:
    from csc_insight.warehouse.model import table

    out = conform(
        _reviews(["C1"], ["01/01/2023"]),
        la_code="E10000011",
        load_id="L",
        source_file="f",
        pseudonymiser=PSEUDO,
    )
    assert out.rows.column_names == table("cla_reviews").column_names
    assert out.rows.schema == table("cla_reviews").schema().to_pyarrow()
    assert out.quarantine.column_names == table("quarantine").column_names


def test_duplicate_keys_within_a_file_keep_the_last_row() -> None:
    out = conform(
        _reviews(["C1", "C1"], ["01/01/2023", "2023-01-01"]),
        la_code="E10000011",
        load_id="L",
        source_file="f",
        pseudonymiser=PSEUDO,
    )
    assert out.rows.column("source_row").to_pylist() == [2]
    assert "later row has the same CHILD, REVIEW" in out.quarantine.column("reason")[0].as_py()


def test_integers_with_trailing_zero_load() -> None:
    data = string_table({"child_id": ["C1", "C2"], "sdq_score": ["10.0", "10.5"]}, [1, 2])
    raw = RawTable("oc2", data, {"sdq_score": "SDQ_SCORE"}, constants={"collection_year": 2024})
    out = conform(raw, la_code="E10000011", load_id="L", source_file="f", pseudonymiser=PSEUDO)
    assert out.rows.column("sdq_score").to_pylist() == [10]
    assert out.quarantine.column("reason").to_pylist() == ["SDQ_SCORE '10.5' is not a whole number"]


@given(st.binary(min_size=1, max_size=100), st.text(min_size=1, max_size=20))
def test_keyed_hashes_equal_the_pseudonymiser(key: bytes, raw: str) -> None:
    p = Pseudonymiser(key)
    [hashed] = keyed_hashes(p, "E10000011", pa.array([raw])).to_pylist()
    assert hashed == (p.child_id("E10000011", raw) if raw.strip() else None)
