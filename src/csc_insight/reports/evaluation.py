"""A project evaluation report for one local service, written out in sentences.

Reach (who and how many), timeliness (waits), repeat use, outcomes with the impact
estimate, and what service users said: the figures a commissioner asks for, each stated
in words as well as shown, in one self-contained HTML file (charts are inline SVG drawn
offline with Altair and vl-convert). Small numbers are suppressed as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import pandas as pd

from csc_insight import __version__
from csc_insight.analysis.impact import Impact, impact
from csc_insight.analysis.outcomes import outcome as outcome_measure
from csc_insight.errors import CscInsightError, InputError
from csc_insight.indicators.dimensions import AGE_BANDS
from csc_insight.privacy.disclosure import suppression_threshold
from csc_insight.reports.pdf import write_pdf
from csc_insight.warehouse.store import Warehouse

TEMPLATES = Path(__file__).parent / "templates"
SEX = {"1": "boys", "2": "girls"}


@dataclass
class Evaluation:
    """Everything the report shows, as numbers and the sentences that state them."""

    service: str
    first: date
    last: date
    reach: dict[str, Any] = field(default_factory=dict)
    timeliness: dict[str, Any] = field(default_factory=dict)
    repeat: dict[str, Any] = field(default_factory=dict)
    outcome: Impact | None = None
    outcome_error: str | None = None
    feedback: dict[str, Any] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)
    threshold: int = 5


def _count(n: int, threshold: int) -> str:
    """A count as words allow: suppressed when small, with thousands separators."""
    return f"fewer than {threshold + 1}" if 0 < n <= threshold else f"{n:,}"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _age_band(age: float) -> str:
    for lo, hi, label in AGE_BANDS:
        if lo <= age < hi + 1:
            return label
    return "Not known"


def _svg(chart: alt.Chart) -> str:
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_json()))


def gather(warehouse: Warehouse, service: str, outcome_name: str = "attendance") -> Evaluation:
    """The figures for ``service``'s evaluation."""
    threshold = suppression_threshold()
    inv = warehouse.table("service_involvements")
    inv = inv.filter(inv.service == service).to_pandas()
    if inv.empty:
        raise CscInsightError(f"No requests for a service called {service!r} are loaded.")
    for col in ("date_requested", "date_started", "date_ended"):
        inv[col] = pd.to_datetime(inv[col])
    ch = warehouse.table("children").select("child_id", "sex", "date_of_birth", "locality")
    children = ch.to_pandas().drop_duplicates("child_id")
    children["date_of_birth"] = pd.to_datetime(children["date_of_birth"])
    ev = Evaluation(
        service,
        inv["date_requested"].min().date(),
        inv["date_requested"].max().date(),
        threshold=threshold,
    )

    # --- reach -------------------------------------------------------------------------
    started = inv.dropna(subset=["date_started"])
    first_start = started.sort_values("date_started").drop_duplicates("child_id")
    who = first_start.merge(children, on="child_id", how="left")
    age = (who["date_started"] - who["date_of_birth"]).dt.days / 365.25
    who["age_band"] = [_age_band(a) if pd.notna(a) else "Not known" for a in age]
    n_children = int(who["child_id"].nunique())
    by_age = who["age_band"].value_counts()
    by_sex = who["sex"].map(SEX).fillna("not recorded").value_counts()
    by_loc = who["locality"].fillna("Not recorded").value_counts()
    # A request closed without a start never started; one with neither is still waiting.
    never = int((inv["date_started"].isna() & inv["date_ended"].notna()).sum())
    waiting = int((inv["date_started"].isna() & inv["date_ended"].isna()).sum())
    ev.reach = {
        "requests": len(inv),
        "children_requested": int(inv["child_id"].nunique()),
        "children_served": n_children,
        "never_started": never,
        "waiting": waiting,
        "by_age": [
            (k, _count(int(v), threshold), _pct(int(v), n_children)) for k, v in by_age.items()
        ],
        "by_sex": [
            (k, _count(int(v), threshold), _pct(int(v), n_children)) for k, v in by_sex.items()
        ],
        "by_locality": [
            (k, _count(int(v), threshold), _pct(int(v), n_children)) for k, v in by_loc.items()
        ],
        "sentence": (
            f"Between {ev.first:%d %B %Y} and {ev.last:%d %B %Y} the service received "
            f"{len(inv):,} requests for {inv['child_id'].nunique():,} children; "
            f"{_count(n_children, threshold)} children started it. The largest age group was "
            f"{by_age.index[0] if len(by_age) else 'not known'} "
            f"({_pct(int(by_age.iloc[0]), n_children) if len(by_age) else '-'} of children "
            "served)."
        ),
    }

    # --- timeliness ----------------------------------------------------------------------
    wait = (started["date_started"] - started["date_requested"]).dt.days
    quick = _pct(int((wait <= 28).sum()), len(wait))
    dur = (started["date_ended"] - started["date_started"]).dt.days.dropna()
    ev.timeliness = {
        "median_wait": float(wait.median()) if len(wait) else None,
        "p90_wait": float(wait.quantile(0.9)) if len(wait) else None,
        "within_4_weeks": quick,
        "median_duration": float(dur.median()) if len(dur) else None,
        "sentence": (
            f"Half of the children started within {wait.median():.0f} days of the request, and "
            f"nine in ten within {wait.quantile(0.9):.0f} days; {quick} started within four "
            f"weeks. Involvements that ended lasted {dur.median():.0f} days "
            "at the median."
            if len(wait) and len(dur)
            else "Too few services have started to describe waiting times."
        ),
    }

    # --- repeat use ----------------------------------------------------------------------
    req = inv.sort_values(["child_id", "date_requested"])
    prev = req.groupby("child_id")["date_requested"].shift(1)
    repeat = ((req["date_requested"] - prev).dt.days <= 365).fillna(False)
    ev.repeat = {
        "repeat_requests": int(repeat.sum()),
        "repeat_pct": _pct(int(repeat.sum()), len(req)),
        "children_more_than_once": int((req.groupby("child_id").size() > 1).sum()),
        "sentence": (
            f"{_pct(int(repeat.sum()), len(req))} of requests "
            f"({_count(int(repeat.sum()), threshold)}) were for a child with an earlier request "
            f"to the service in the 12 months before; "
            f"{_count(int((req.groupby('child_id').size() > 1).sum()), threshold)} children "
            "were requested more than once in all."
        ),
    }

    # --- outcomes --------------------------------------------------------------------------
    try:
        ev.outcome = impact(warehouse, service, outcome_name)
    except CscInsightError as exc:
        ev.outcome_error = str(exc)

    # --- feedback ------------------------------------------------------------------------
    fb = warehouse.table("feedback")
    fb = fb.filter(fb.service == service)
    scores = warehouse.table("feedback_scores")
    joined = fb.join(scores, [fb.la_code == scores.la_code, fb.response_id == scores.response_id])
    items = (
        joined.group_by("item")
        .aggregate(n=joined.count(), mean=joined.score.mean(), good=(joined.score >= 4).mean())
        .to_pandas()
        .sort_values("item")
    )
    n_responses = int(fb.count().to_pandas())
    by_type = fb.group_by("respondent_type").aggregate(n=fb.count()).to_pandas()
    ev.feedback = {
        "responses": n_responses,
        "by_type": [(r.respondent_type, _count(int(r.n), threshold)) for r in by_type.itertuples()],
        "items": [
            (
                str(r.item).removeprefix("q_").replace("_", " ").capitalize(),
                int(r.n),
                float(r.mean),
                f"{100 * float(r.good):.0f}%",
            )
            for r in items.itertuples()
        ],
        "sentence": (
            f"{_count(n_responses, threshold)} service users answered the feedback survey. "
            + (
                f"The best-rated question was '{_item_label(items, True)}' and the lowest "
                f"'{_item_label(items, False)}'."
                if len(items) > 1
                else ""
            )
        ),
    }

    # --- charts --------------------------------------------------------------------------
    monthly = (
        inv.assign(month=inv["date_requested"].dt.to_period("M").dt.to_timestamp())
        .groupby("month")
        .size()
        .rename("requests")
        .reset_index()
    )
    ev.charts["requests"] = _svg(
        alt.Chart(monthly)
        .mark_line(point=False, color="#1d70b8")
        .encode(x=alt.X("month:T", title=None), y=alt.Y("requests:Q", title="Requests a month"))
        .properties(width=560, height=180)
    )
    if ev.outcome is not None and ev.outcome.means:
        o = outcome_measure(outcome_name)
        rows = [
            {"group": g, "when": w, "value": v}
            for g, m in ev.outcome.means.items()
            for w, v in m.items()
        ]
        ev.charts["outcome"] = _svg(
            alt.Chart(pd.DataFrame(rows))
            .mark_line(point=True)
            .encode(
                x=alt.X("when:N", sort=["before", "after"], title=None),
                y=alt.Y("value:Q", title=f"{o.title} (%)", scale=alt.Scale(zero=False)),
                color=alt.Color("group:N", title=None),
            )
            .properties(width=300, height=200)
        )
    return ev


def _item_label(items: pd.DataFrame, best: bool) -> str:
    row = items.sort_values("mean", ascending=not best).iloc[0]
    return str(row["item"]).removeprefix("q_").replace("_", " ")


def render(ev: Evaluation) -> str:
    """The report as one self-contained HTML page."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    return env.get_template("evaluation.html").render(
        ev=ev, version=__version__, generated=date.today()
    )


def write_report(
    warehouse: Warehouse, service: str, path: Path, outcome_name: str = "attendance"
) -> Path:
    """Gather, render and write ``service``'s evaluation report: .html, or .pdf by suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise InputError(f"Cannot write an evaluation report as {path.name}: use .html or .pdf.")
    html = render(gather(warehouse, service, outcome_name))
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        return write_pdf(html, path, TEMPLATES)
    path.write_text(html, encoding="utf-8")
    return path


__all__ = ["Evaluation", "gather", "render", "write_report"]
