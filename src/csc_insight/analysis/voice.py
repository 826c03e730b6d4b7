"""The voice of children and families: what survey responses say, by service, group and month.

Each response gets one rating: its overall rating when the survey asked one (1-5, or 1-10:
``overall_rating`` / ``overall_rating_10`` columns of the feedback extract), else the mean of
its Likert answers (1-5). A response is positive when its rating is 4 or more out of 5, or 7
or more out of 10. Means are on the 1-5 scale (a 1-10 rating r counts as 1 + (r - 1) * 4/9)
with a 95% t-interval. Free text is scored with VADER (voice_text) and its key phrases
counted. The trend is the least-squares slope of the monthly mean rating, per year, with its
95% interval: "improving" or "worsening" only when the interval excludes zero.

Viewers never see a figure from 1 to the suppression threshold of responses, nor a theme used
in that few comments; example comments are shown to analysts only. A response rate is given
where the number of people offered the survey is known: per service and financial year in
authority.toml, or taken to be the service's involvements that ended in the window when the
authority offers the survey to every family at the end (see docs/equity-and-voice.md).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis

from csc_insight.analysis import equity_stats as st
from csc_insight.analysis import voice_text as vt
from csc_insight.analysis.equity import ALPHA, Window, window
from csc_insight.datasets.formats import FEEDBACK_RATINGS
from csc_insight.errors import ConfigError
from csc_insight.indicators.dimensions import NOT_KNOWN, with_child_dimensions
from csc_insight.indicators.registry import Tables
from csc_insight.warehouse.store import Warehouse

RATING_SCALES: dict[str, int] = dict(FEEDBACK_RATINGS.values())
POSITIVE_FROM = {5: 4.0, 10: 7.0}
GROUPINGS = (
    "service",
    "respondent_type",
    "month",
    "sex",
    "age_band",
    "ethnic_group",
    "ethnicity",
    "disability",
    "locality",
)
CHILD_GROUPINGS = ("sex", "age_band", "ethnic_group", "ethnicity", "disability", "locality")
OFFERED_FROM_INVOLVEMENTS = "ended involvements"
EXAMPLES_PER_SIDE = 3
TOP_THEMES = 10


@dataclass
class Response:
    """One survey response, reduced to what the analysis needs."""

    response_id: str
    service: str
    day: date
    respondent_type: str
    group: str
    text: str | None
    items: dict[str, int]

    @property
    def rating(self) -> tuple[float, int] | None:
        """(rating, scale): the overall rating if asked, else the mean Likert answer."""
        for item, scale in RATING_SCALES.items():
            if item in self.items:
                return float(self.items[item]), scale
        likert = [v for k, v in self.items.items() if k not in RATING_SCALES]
        return (sum(likert) / len(likert), 5) if likert else None

    @property
    def score(self) -> float | None:
        """The rating on the 1-5 scale."""
        r = self.rating
        if r is None:
            return None
        value, scale = r
        return value if scale == 5 else 1 + (value - 1) * 4 / 9

    @property
    def positive(self) -> bool | None:
        r = self.rating
        return None if r is None else r[0] >= POSITIVE_FROM[r[1]]

    @property
    def month(self) -> str:
        return f"{self.day.year}-{self.day.month:02d}"


def _responses(t: Tables, w: Window, service: str | None, by: str | None) -> list[Response]:
    f = t.feedback
    f = f.filter(f.response_date.between(w.start, w.end))
    if service is not None:
        f = f.filter(f.service == service)
    dims = [by] if by in CHILD_GROUPINGS else []
    if dims:
        f = with_child_dimensions(f, t.children, dims, "response_date", None)
        f = f.mutate(group=f[by].cast("string").fill_null(NOT_KNOWN))
    else:
        f = f.mutate(group=ibis.literal(""))
    chosen = f.select(
        "la_code",
        "response_id",
        "service",
        "response_date",
        "respondent_type",
        "free_text",
        "group",
    )
    rows = chosen.to_pyarrow()
    s = t.feedback_scores
    s = s.semi_join(chosen.select("la_code", "response_id"), ["la_code", "response_id"])
    scores: dict[tuple[str, str], dict[str, int]] = {}
    for row in s.select("la_code", "response_id", "item", "score").to_pyarrow().to_pylist():
        if row["score"] is not None:
            key = (row["la_code"], row["response_id"])
            scores.setdefault(key, {})[row["item"]] = int(row["score"])
    out = []
    for row in rows.to_pylist():
        out.append(
            Response(
                row["response_id"],
                row["service"],
                row["response_date"],
                (row["respondent_type"] or NOT_KNOWN).strip().lower(),
                row["group"],
                row["free_text"],
                scores.get((row["la_code"], row["response_id"]), {}),
            )
        )
    return out


def _p(value: float | None) -> float | None:
    """A p-value to three significant figures (tiny ones stay visible, not 0)."""
    return None if value is None else float(f"{value:.3g}")


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _trend(responses: list[Response]) -> dict[str, Any]:
    by_month: dict[str, list[float]] = {}
    for r in responses:
        if r.score is not None:
            by_month.setdefault(r.month, []).append(r.score)
    months = sorted(by_month)
    if not months:
        return {"months": 0, "slope_per_year": None, "ci_low": None, "ci_high": None}
    first = date.fromisoformat(f"{months[0]}-01")
    x = [
        (int(m[:4]) - first.year) * 12 + int(m[5:]) - first.month for m in months
    ]  # months since the first
    y = [sum(v) / len(v) for v in (by_month[m] for m in months)]
    fit = st.linear_trend(x, y)
    per_year = [None if v is None else v * 12 for v in (fit.slope, fit.ci_low, fit.ci_high)]
    direction = "not enough months"
    if fit.slope is not None and per_year[1] is not None and per_year[2] is not None:
        direction = (
            "improving"
            if per_year[1] > 0
            else "worsening"
            if per_year[2] < 0
            else "no significant change"
        )
    return {
        "months": fit.points,
        "slope_per_year": _round(per_year[0]),
        "ci_low": _round(per_year[1]),
        "ci_high": _round(per_year[2]),
        "p_value": _p(fit.p_value),
        "direction": direction,
        "basis": "least-squares slope of the monthly mean rating (1-5 scale), per year",
    }


def _summary(
    responses: list[Response], role: str, threshold: int, with_text: bool = True
) -> dict[str, Any]:
    """Responses, % positive, mean rating (t-interval), sentiment and themes of a set."""
    n = len(responses)
    if role == "viewer" and 0 < n <= threshold:
        return {"responses": None, "suppressed": True}
    rated = [r for r in responses if r.score is not None]
    positive = [r.positive for r in rated]
    est = st.mean_ci([r.score for r in rated if r.score is not None])
    out: dict[str, Any] = {
        "responses": n,
        "rated": len(rated),
        "pct_positive": _round(sum(bool(p) for p in positive) / len(rated) * 100, 1)
        if rated
        else None,
        "mean_rating": _round(est.mean),
        "ci_low": _round(est.ci_low),
        "ci_high": _round(est.ci_high),
        "suppressed": False,
    }
    if not with_text:
        return out
    texts = [(r, vt.sentiment(r.text)) for r in responses if r.text and r.text.strip()]
    scores = [s for _, s in texts if s is not None]
    sent = st.mean_ci(scores)
    kinds = Counter(vt.polarity(s) for s in scores)
    minimum = threshold + 1 if role == "viewer" else 2
    out |= {
        "comments": len(texts),
        "sentiment_mean": _round(sent.mean),
        "sentiment_ci_low": _round(sent.ci_low),
        "sentiment_ci_high": _round(sent.ci_high),
        "pct_positive_comments": _round(kinds["positive"] / len(scores) * 100, 1)
        if scores
        else None,
        "pct_negative_comments": _round(kinds["negative"] / len(scores) * 100, 1)
        if scores
        else None,
        "themes": [
            {"phrase": t.phrase, "comments": t.comments}
            for t in vt.themes((r.text for r, _ in texts), TOP_THEMES, minimum)
        ],
    }
    if role == "analyst" and texts:
        ordered = sorted(texts, key=lambda x: (x[1] or 0.0, x[0].response_id))
        out["examples"] = {
            "most_negative": [r.text for r, _ in ordered[:EXAMPLES_PER_SIDE]],
            "most_positive": [r.text for r, _ in ordered[::-1][:EXAMPLES_PER_SIDE]],
        }
    return out


def _items(responses: list[Response], role: str, threshold: int) -> list[dict[str, Any]]:
    answers: dict[str, list[int]] = {}
    for r in responses:
        for item, score in r.items.items():
            answers.setdefault(item, []).append(score)
    out: list[dict[str, Any]] = []
    for item in sorted(answers):
        values = answers[item]
        if role == "viewer" and len(values) <= threshold:
            out.append({"item": item, "answers": None, "suppressed": True})
            continue
        scale = RATING_SCALES.get(item, 5)
        est = st.mean_ci([float(v) for v in values])
        positive = sum(1 for v in values if v >= POSITIVE_FROM[scale])
        out.append(
            {
                "item": item,
                "scale": scale,
                "answers": len(values),
                "pct_positive": _round(positive / len(values) * 100, 1),
                "mean": _round(est.mean),
                "ci_low": _round(est.ci_low),
                "ci_high": _round(est.ci_high),
                "suppressed": False,
            }
        )
    return out


def _key(r: Response, by: str) -> str:
    if by == "service":
        return r.service
    if by == "respondent_type":
        return r.respondent_type
    if by == "month":
        return r.month
    return r.group


def _groups(responses: list[Response], by: str, role: str, threshold: int) -> list[dict[str, Any]]:
    split: dict[str, list[Response]] = {}
    for r in responses:
        split.setdefault(_key(r, by), []).append(r)
    return [
        {"group": g} | _summary(split[g], role, threshold, with_text=by != "month")
        for g in sorted(split)
    ]


def load_offered(home: Path) -> dict[str, Any]:
    """``[voice]`` of authority.toml: ``offered`` per service (and financial year)."""
    path = home / "authority.toml"
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    section = raw.get("voice") or {}
    offered = section.get("offered")
    if offered is None:
        return {}
    if offered != OFFERED_FROM_INVOLVEMENTS and not isinstance(offered, dict):
        raise ConfigError(
            f'{path}: [voice] offered must be "{OFFERED_FROM_INVOLVEMENTS}" or a table of '
            'services, each a table of financial years: "Family Support" = {"2024-25" = 900}.'
        )
    return {"offered": offered}


def _offered(
    t: Tables, w: Window, services: Iterable[str], offered: Any
) -> dict[str, tuple[float | None, str]]:
    """Surveys offered per service in the window, and how that is known."""
    out: dict[str, tuple[float | None, str]] = {}
    if offered == OFFERED_FROM_INVOLVEMENTS:
        s = t.service_involvements
        ended = s.filter(s.date_started.notnull() & s.date_ended.between(w.start, w.end))
        counts = ended.group_by("service").aggregate(n=ended.count()).to_pyarrow().to_pylist()
        found = {r["service"]: float(r["n"]) for r in counts}
        for name in services:
            out[name] = (found.get(name), "involvements of the service that ended in the window")
        return out
    for name in services:
        per_year = (offered or {}).get(name)
        if isinstance(per_year, int | float):
            raise ConfigError(
                f"Surveys offered for {name!r} must be given per financial year, e.g. "
                f'"{name}" = {{"2024-25" = {per_year}}}.'
            )
        if not per_year:
            continue
        labels = [p.label for p in w.periods]
        if all(label in per_year for label in labels):
            out[name] = (float(sum(per_year[label] for label in labels)), "authority.toml")
    return out


def voice(
    warehouse: Warehouse,
    period: str | None = None,
    years: int = 1,
    service: str | None = None,
    by: str | None = None,
    role: str = "viewer",
    offered: Any = None,
    threshold: int | None = None,
) -> dict[str, Any]:
    """Feedback by service (and by ``by``), with trend, sentiment, themes and response rates.

    ``offered`` is ``"ended involvements"`` or {service: {financial year: surveys offered}}.
    """
    from csc_insight.privacy.disclosure import suppression_threshold

    if role not in ("viewer", "analyst"):
        raise ConfigError(f"role must be viewer or analyst, not {role!r}.")
    if by is not None and by not in GROUPINGS:
        raise ConfigError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}.")
    limit = suppression_threshold() if threshold is None else threshold
    t = Tables(warehouse)
    w = window(warehouse, period, years)
    responses = _responses(t, w, service, by)
    names = sorted({r.service for r in responses})
    known = _offered(t, w, names, offered)
    services = []
    for name in names:
        mine = [r for r in responses if r.service == name]
        entry = {"service": name} | _summary(mine, role, limit)
        if not entry.get("suppressed"):
            entry["respondents"] = dict(sorted(Counter(r.respondent_type for r in mine).items()))
            entry["items"] = _items(mine, role, limit)
            entry["trend"] = _trend(mine)
            count, how = known.get(name, (None, ""))
            entry["offered"] = count
            entry["response_rate"] = _round(len(mine) / count * 100, 1) if count else None
            entry["offered_from"] = how or None
            if by is not None and by != "service":
                entry["groups"] = _groups(mine, by, role, limit)
        services.append(entry)
    return {
        "period": w.label,
        "years": [p.label for p in w.periods],
        "service": service,
        "by": by,
        "role": role,
        "suppression_threshold": limit,
        "positive": "rating 4-5 of 5 (overall rating 7-10 of 10)",
        "rating_scale": "1-5 (a 1-10 overall rating r counts as 1 + (r - 1) * 4/9)",
        "sentiment_model": "VADER 3.3.2 compound score (-1 to +1) with a service-word "
        "supplement; positive >= 0.05, negative <= -0.05",
        "overall": _summary(responses, role, limit),
        "trend": _trend(responses),
        "services": services,
        "differences": _differences(responses, names, role, limit),
        "monthly": _groups(responses, "month", role, limit),
    }


def _differences(
    responses: list[Response], names: list[str], role: str, threshold: int
) -> list[dict[str, Any]]:
    """Every pair of services: difference in mean rating, Mann-Whitney p with Holm."""
    scores = {
        n: [r.score for r in responses if r.service == n and r.score is not None] for n in names
    }
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    shown = [
        (a, b)
        for a, b in pairs
        if role == "analyst" or (len(scores[a]) > threshold and len(scores[b]) > threshold)
    ]
    raw = [st.mann_whitney(scores[a], scores[b]) for a, b in shown]  # type: ignore[arg-type]
    adjusted = st.holm(raw)
    out = []
    for (a, b), p, q in zip(shown, raw, adjusted, strict=True):
        ma = st.mean_ci(scores[a]).mean  # type: ignore[arg-type]
        mb = st.mean_ci(scores[b]).mean  # type: ignore[arg-type]
        out.append(
            {
                "services": [a, b],
                "difference": _round(None if ma is None or mb is None else ma - mb),
                "p_value": _p(p),
                "p_adjusted": _p(q),
                "significant": q is not None and q < ALPHA,
            }
        )
    return out


__all__ = ["GROUPINGS", "OFFERED_FROM_INVOLVEMENTS", "load_offered", "voice"]
