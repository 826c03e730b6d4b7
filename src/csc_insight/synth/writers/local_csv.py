"""Local extracts as CSV with csc-insight's column contract (ISO dates)."""

from __future__ import annotations

import csv

from csc_insight.datasets.formats import LOCAL_CONTRACTS
from csc_insight.synth.local import FEEDBACK_ITEMS
from csc_insight.synth.writers.common import Context, DateFmt

D = DateFmt("%Y-%m-%d")


def write_local(ctx: Context) -> None:
    folder = ctx.out / "local"
    folder.mkdir(parents=True, exist_ok=True)
    si = LOCAL_CONTRACTS["service_involvements"]
    cols = [*si.required, *si.optional]
    path = folder / "service_involvements.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for inv in ctx.local.involvements:
            c = inv.child
            row = {
                "involvement_id": inv.involvement_id,
                "child_id": c.child_id,
                "service": inv.service,
                "date_requested": D(inv.requested),
                "team": inv.team,
                "date_started": D(inv.started),
                "date_ended": D(inv.ended),
                "outcome": inv.outcome,
                "sex": c.sex,
                "date_of_birth": D(c.dob) if c.dob <= inv.requested else "",
                "ethnicity": c.ethnicity,
                "disability": "Y" if c.disabled else "N",
                "locality": c.locality,
            }
            w.writerow([row[k] for k in cols])
            ctx.mark("service_involvements", (inv.involvement_id,))
            ctx.mark("children", (c.child_id,))
    ctx.files.append(path)
    at = LOCAL_CONTRACTS["attendance"]
    path = folder / "attendance.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*at.required, *at.optional])
        for a in ctx.local.attendance:
            w.writerow(
                [
                    a.child.child_id,
                    a.term.label,
                    D(a.term.start),
                    D(a.term.end),
                    a.possible,
                    a.attended,
                ]
            )
            ctx.mark("attendance", (a.child.child_id, a.term.start))
            ctx.mark("children", (a.child.child_id,))
    ctx.files.append(path)
    fb = LOCAL_CONTRACTS["feedback"]
    path = folder / "feedback.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*fb.required, *fb.optional, *FEEDBACK_ITEMS])
        for f in ctx.local.feedback:
            w.writerow(
                [
                    f.response_id,
                    f.service,
                    D(f.date),
                    f.respondent,
                    f.child.child_id if f.child else "",
                    f.text,
                    *["" if s is None else s for s in f.scores],
                ]
            )
            ctx.mark("feedback", (f.response_id,))
            for item, s in zip(FEEDBACK_ITEMS, f.scores, strict=True):
                if s is not None:
                    ctx.mark("feedback_scores", (f.response_id, item))
            if f.child:
                ctx.mark("children", (f.child.child_id,))
    ctx.files.append(path)
