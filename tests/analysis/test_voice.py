"""Known answers for the voice analysis: ratings, intervals, sentiment, themes, response rates."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from csc_insight.analysis import voice_text as vt
from csc_insight.analysis.voice import load_offered, voice
from csc_insight.errors import ConfigError
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.store import Warehouse

Rows = dict[str, list[dict[str, Any]]]


def test_vader_sign_on_known_sentences() -> None:
    assert (vt.sentiment("The worker was kind, helpful and really listened to us.") or 0) > 0.5
    assert (vt.sentiment("Appointments were cancelled and nobody ever called back.") or 0) < -0.1
    assert vt.polarity(vt.sentiment("The meeting was on Tuesday.")) == "neutral"
    assert vt.sentiment("   ") is None
    # The service-word supplement: VADER alone scores "listened" and "helped" as neutral.
    assert (vt.sentiment("She listened and helped.") or 0) >= vt.POSITIVE_THRESHOLD


def test_themes_on_a_toy_corpus() -> None:
    corpus = [
        "The worker listened to us.",
        "Our worker listened and helped.",
        "Waited months for the course.",
        "We waited months, then the course was cancelled.",
        None,
    ]
    found = vt.themes(corpus, top=3, min_comments=2)
    assert [(t.phrase, t.comments) for t in found] == [
        ("course", 2),
        ("waited months", 2),
        ("worker listened", 2),
    ]
    # A phrase never spans punctuation or a stop word.
    assert "months course" not in vt.key_phrases("Waited months. Course was full.")
    assert "waited course" not in vt.key_phrases("waited for the course")


def _feedback() -> Rows:
    responses = [
        ("R1", "Family Support", date(2024, 5, 10), "parent/carer", "Really helpful and kind."),
        ("R2", "Family Support", date(2024, 6, 12), "child", "Appointments were cancelled."),
        ("R3", "Family Support", date(2024, 7, 2), "parent/carer", None),
        ("R4", "Parenting Programme", date(2024, 7, 2), "parent/carer", "Terrible, a waste."),
    ]
    scores = [
        ("R1", "felt listened to", 5),
        ("R1", "helped", 5),
        ("R2", "felt listened to", 3),
        ("R2", "helped", 4),
        ("R3", "Overall rating (1-10)", 7),
        ("R4", "helped", 1),
    ]
    return {
        "feedback": [
            {
                "response_id": r,
                "service": s,
                "response_date": d,
                "respondent_type": who,
                "free_text": text,
            }
            for r, s, d, who, text in responses
        ],
        "feedback_scores": [{"response_id": r, "item": i, "score": n} for r, i, n in scores],
    }


def test_ratings_percent_positive_and_interval_by_hand(
    warehouse_with: Callable[[Rows], Warehouse],
) -> None:
    w = warehouse_with(_feedback())
    offered = {"Family Support": {"2024-25": 12}}
    out = voice(w, "2024-25", role="analyst", offered=offered, threshold=5)
    fs = next(s for s in out["services"] if s["service"] == "Family Support")
    # R1 mean 5 (positive), R2 mean 3.5 (not), R3 overall 7 of 10 (positive, 1 + 6 * 4/9).
    scores = [5.0, 3.5, 1 + 6 * 4 / 9]
    mean = sum(scores) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in scores) / 2)
    half = 4.302653 * sd / math.sqrt(3)  # t(0.975, 2)
    assert fs["responses"] == 3
    assert fs["pct_positive"] == pytest.approx(66.7)
    assert fs["mean_rating"] == pytest.approx(mean, abs=1e-3)
    assert (fs["ci_low"], fs["ci_high"]) == pytest.approx((mean - half, mean + half), abs=1e-3)
    assert fs["response_rate"] == pytest.approx(25.0)  # 3 of 12 offered
    assert fs["sentiment_mean"] is not None and fs["comments"] == 2
    assert fs["pct_positive_comments"] == 50.0 and fs["pct_negative_comments"] == 50.0
    assert fs["examples"]["most_negative"][0] == "Appointments were cancelled."
    items = {i["item"]: i for i in fs["items"]}
    assert items["Overall rating (1-10)"]["scale"] == 10
    assert items["helped"]["pct_positive"] == 100.0
    assert fs["respondents"] == {"child": 1, "parent/carer": 2}
    assert {
        "responses",
        "pct_positive",
        "mean_rating",
        "ci_low",
        "ci_high",
        "sentiment_mean",
        "themes",
    } <= set(fs)


def test_viewers_see_no_small_numbers_and_no_examples(
    warehouse_with: Callable[[Rows], Warehouse],
) -> None:
    w = warehouse_with(_feedback())
    out = voice(w, "2024-25", role="viewer", threshold=5)
    assert all(s["suppressed"] for s in out["services"])  # 3 and 1 responses
    assert all("examples" not in s for s in out["services"])
    assert out["overall"]["suppressed"]


def test_offered_is_given_per_service_and_year(tmp_path: Path) -> None:
    (tmp_path / "authority.toml").write_text(
        '[voice.offered]\n"Family Support" = {"2024-25" = 900}\n', encoding="utf-8"
    )
    assert load_offered(tmp_path) == {"offered": {"Family Support": {"2024-25": 900}}}
    (tmp_path / "authority.toml").write_text("[voice]\noffered = 900\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ended involvements"):
        load_offered(tmp_path)


def test_a_one_to_ten_rating_column_is_read(tmp_path: Path) -> None:
    extract = tmp_path / "feedback.csv"
    extract.write_text(
        "response_id,service,response_date,respondent_type,q_helped,overall_rating_10\n"
        "A1,Family Support,2024-06-01,child,4,9\n"
        "A2,Family Support,2024-06-02,parent/carer,5,11\n",
        encoding="utf-8",
    )
    w = Warehouse.connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    report = ingest([extract], w, Pseudonymiser(b"k" * 32), la_code="E06000001")
    scores = w.table("feedback_scores").to_pyarrow().to_pylist()
    assert {(s["response_id"], s["item"], s["score"]) for s in scores} == {
        ("A1", "helped", 4),
        ("A1", "Overall rating (1-10)", 9),
        ("A2", "helped", 5),
    }
    reasons = report.to_json()["quarantine_reasons"]
    assert any("1-10 rating" in r for r in reasons)
