"""The school-term calendar: Easter, the England rule, authority overrides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from csc_insight.analysis.terms import (
    COVID_SCHOOL_CLOSURES,
    TermCalendar,
    easter_sunday,
    england_terms,
    from_config,
)
from csc_insight.errors import ConfigError


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (1818, date(1818, 3, 22)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_matches_published_dates(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_england_rule_for_2024_25() -> None:
    blocks = england_terms(2024)
    assert [(b.start, b.end) for b in blocks] == [
        (date(2024, 9, 3), date(2024, 10, 18)),  # October half-term: 21-25 October
        (date(2024, 10, 28), date(2024, 12, 20)),
        (date(2025, 1, 6), date(2025, 2, 7)),  # February half-term: 10-14 February
        (date(2025, 2, 17), date(2025, 4, 11)),  # a week before Good Friday (18 April)
        (date(2025, 4, 28), date(2025, 5, 23)),  # late-May half-term: 26-30 May
        (date(2025, 6, 2), date(2025, 7, 22)),
    ]


def test_school_days_weeks_and_shares() -> None:
    cal = TermCalendar()
    assert cal.is_school_day(date(2024, 11, 5))
    assert not cal.is_school_day(date(2024, 10, 22))  # half-term
    assert not cal.is_school_day(date(2024, 11, 9))  # Saturday
    assert not cal.is_school_day(date(2025, 5, 5))  # May Day bank holiday, in term
    assert cal.week_kind(date(2024, 10, 28)) == "term"
    assert cal.week_kind(date(2024, 8, 5)) == "holiday"
    assert cal.week_kind(date(2024, 9, 2)) == "mixed"  # term starts on the Tuesday
    assert cal.term_share(date(2024, 9, 2), date(2024, 9, 8)) == pytest.approx(4 / 5)
    assert cal.events == COVID_SCHOOL_CLOSURES


def test_rule_agrees_with_the_synthetic_generators_calendar() -> None:
    from csc_insight.synth.calendar import Calendar

    synth = Calendar(date(2018, 4, 1), date(2025, 3, 31))
    ours = TermCalendar()
    day = date(2018, 4, 1)
    disagree = []
    while day <= date(2025, 3, 31):
        if bool(synth.in_term[(day - date(2018, 4, 1)).days]) != ours.is_school_day(day):
            disagree.append(day)
        day += timedelta(days=1)
    assert disagree == []


def test_authority_overrides_replace_the_rule_for_their_years_only() -> None:
    cal = from_config(
        {
            "school_terms": {
                "terms": [[date(2024, 9, 4), date(2024, 10, 25)], ["2024-11-04", "2024-12-19"]],
                "events": [{"name": "Flood", "start": "2023-11-06", "end": "2023-11-17"}],
            }
        }
    )
    assert not cal.is_school_day(date(2024, 9, 3))  # the rule's first day; ours starts 4th
    assert cal.is_school_day(date(2024, 10, 25))
    assert not cal.is_school_day(date(2024, 10, 28))
    assert not cal.is_school_day(date(2025, 1, 6))  # the year is replaced as a whole
    assert cal.is_school_day(date(2023, 11, 7))  # other years keep the rule
    assert cal.events[-1].name == "Flood"
    assert from_config({}).overrides == {}


@pytest.mark.parametrize(
    "section",
    [
        {"terms": [["2024-09-04"]]},
        {"terms": [["2024-12-20", "2024-09-04"]]},
        {"terms": [["4 Sept", "2024-12-20"]]},
        {"events": [{"name": "x"}]},
    ],
)
def test_bad_overrides_are_reported(section: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        from_config({"school_terms": section})
