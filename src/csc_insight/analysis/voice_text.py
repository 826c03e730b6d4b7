"""Free text of feedback: sentiment (VADER, offline) and the most frequent themes.

VADER (Hutto and Gilbert, 2014) is a lexicon and rules: it ships its word list inside the
package, so nothing is downloaded at run time. Its compound score runs from -1 (most
negative) to +1; the authors' thresholds are used: >= 0.05 positive, <= -0.05 negative.
VADER was built on social-media English and misses words families use about services
("helped", "listened", "cancelled"), so a short hand-written supplement of such words is
added to its lexicon (``SERVICE_LEXICON``; valences on VADER's -4..+4 scale).

Themes are key phrases: two-word phrases of adjacent words that are not stop words (a small
hand-written English list), then single words, counted once per comment and ranked by the
number of comments that use them.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

# Words about services that VADER's own lexicon does not score (none of these is in it; a
# word VADER already scores keeps VADER's valence).
SERVICE_LEXICON: dict[str, float] = {
    "helped": 1.6,
    "listened": 1.5,
    "listens": 1.3,
    "understood": 1.2,
    "approachable": 1.5,
    "reliable": 1.4,
    "sorted": 1.0,
    "waited": -0.9,
    "waiting": -0.6,
    "judged": -1.6,
    "rushed": -1.2,
    "chasing": -0.8,
    "unreachable": -1.5,
}

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each even ever
    every few for from further get gets got had has have having he her here hers herself him
    himself his how i if in into is it its itself just let lot lots made make me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own really
    same she should so some still such than that the their theirs them themselves then there
    these they this those through to too under until up us very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    don't didn't wasn't weren't isn't aren't couldn't wouldn't can't won't i'm i've we've
    they're it's we're you're there's one two three four five six much many always never
    sometimes often time times thing things
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_WORD = re.compile(r"[a-z][a-z']*")
_CLAUSE = re.compile(r"[.!?;:,()\n]+")


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    """VADER with the service-word supplement (built once)."""
    vader = SentimentIntensityAnalyzer()
    for word, valence in SERVICE_LEXICON.items():
        vader.lexicon.setdefault(word, valence)
    return vader


def sentiment(text: str | None) -> float | None:
    """VADER compound score of a comment (-1 to +1); None for a blank one."""
    if text is None or not text.strip():
        return None
    return float(analyzer().polarity_scores(text)["compound"])


def polarity(score: float | None) -> str | None:
    """positive, negative or neutral by VADER's thresholds."""
    if score is None:
        return None
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def key_phrases(text: str) -> set[str]:
    """The distinct two-word phrases and single words of a comment, stop words left out.

    Phrases never cross punctuation or a stop word, so "waited months" is one but "waited
    for the course" gives no phrase of "waited course".
    """
    found: set[str] = set()
    for clause in _CLAUSE.split(text.lower().replace("\u2019", "'")):
        words = _WORD.findall(clause)
        kept = [w if w not in STOP_WORDS and len(w) > 2 else None for w in words]
        for first, second in itertools.pairwise(kept):
            if first and second:
                found.add(f"{first} {second}")
        found.update(w for w in kept if w)
    return found


@dataclass(frozen=True)
class Theme:
    """A key phrase and the number of comments that use it."""

    phrase: str
    comments: int


def themes(texts: Iterable[str | None], top: int = 10, min_comments: int = 2) -> list[Theme]:
    """The ``top`` most used key phrases (in at least ``min_comments`` comments).

    Two-word phrases come first (they say more than single words); single words fill the
    list only when they are not already part of a chosen phrase.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        if text and text.strip():
            counts.update(key_phrases(text))
    frequent = [(p, n) for p, n in counts.items() if n >= min_comments]
    phrases = sorted((x for x in frequent if " " in x[0]), key=lambda x: (-x[1], x[0]))
    words = sorted((x for x in frequent if " " not in x[0]), key=lambda x: (-x[1], x[0]))
    chosen = [Theme(p, n) for p, n in phrases[:top]]
    covered = {w for t in chosen for w in t.phrase.split()}
    for w, n in words:
        if len(chosen) >= top:
            break
        if w not in covered:
            chosen.append(Theme(w, n))
    return sorted(chosen, key=lambda t: (-t.comments, t.phrase))[:top]


__all__ = [
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "SERVICE_LEXICON",
    "STOP_WORDS",
    "Theme",
    "analyzer",
    "key_phrases",
    "polarity",
    "sentiment",
    "themes",
]
