"""docs/data-model.md, written from the model itself so the page cannot drift from the code."""

from __future__ import annotations

from csc_insight.warehouse.model import FACT_TABLES, LINEAGE, META_TABLES, Table

_INTRO = """\
# The canonical data model

Generated from `src/csc_insight/warehouse/model.py` by
`python -m csc_insight.warehouse.model_doc > docs/data-model.md`; a test fails if this page and
the code disagree.

Every file a local authority holds (SSDA903 return, CIN census, Annex A, local extracts) is
read into these tables; indicators, analysis, the dashboard and reports read only these
tables. The warehouse is an embedded DuckDB file by default; the same tables can live in
PostgreSQL or Spark (`--backend` / `CSC_INSIGHT_BACKEND`).

Rules that hold for every table:

- **Pseudonymised children.** `child_id` is a keyed HMAC-SHA256 of the authority's own
  identifier; the key stays in the workspace folder, never in the warehouse.
- **Lineage.** Every fact row carries {lineage}, so any figure can be traced back to a line
  of a file.
- **Natural keys and supersession.** Each table has a natural key. The yearly returns overlap
  (an episode open across 31 March appears in both years' returns), so rows of a statutory
  return carry its year (`return_year`) and, for a key, the row of the newest return wins
  whatever order the returns were loaded in; Annex A rows only fill the blanks of a return's
  row; among rows with no year the later load wins (see docs/ingest.md, section 6). The
  `children` and `adoptions` tables are merged column by column, so one dataset's blanks
  never erase what another dataset said.
- **Atomic loads.** One ingest run is one transaction: every table of the run, the
  quarantine, `load_files` and `loads` are committed together or not at all.
- **Nothing lost.** Every row read is loaded or written to `quarantine` with its reason;
  `load_files` records rows read, loaded, quarantined and superseded per file and table.

```mermaid
erDiagram
    children ||--o{{ contacts : "child_id"
    children ||--o{{ referrals : "child_id"
    referrals ||--o{{ assessments : "referral_id"
    referrals ||--o{{ section47 : "referral_id"
    referrals ||--o{{ cin_plans : "referral_id"
    referrals ||--o{{ cp_plans : "referral_id"
    cp_plans ||--o{{ cp_reviews : "plan_id"
    children ||--o{{ cla_episodes : "child_id"
    children ||--o{{ cla_reviews : "child_id"
    children ||--o{{ missing : "child_id"
    children ||--o{{ oc2 : "child_id"
    children ||--o{{ care_leavers : "child_id"
    children ||--o| adoptions : "child_id"
    children ||--o| previous_permanence : "child_id"
    children ||--o{{ service_involvements : "child_id"
    children ||--o{{ attendance : "child_id"
    feedback ||--o{{ feedback_scores : "response_id"
    loads ||--o{{ load_files : "load_id"
    loads ||--o{{ quarantine : "load_id"
```
"""


def _table_section(t: Table) -> list[str]:
    lines = [
        f"### `{t.name}`",
        "",
        t.description,
        "",
        f"Key: {', '.join(f'`{k}`' for k in t.key)}."
        + (f" Fed by: {', '.join(t.sources)}." if t.sources else ""),
        "",
        "| column | type | required | meaning |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{c.name}` | {c.dtype} | {'yes' if c.required else ''} | {c.description} |"
        for c in t.columns
    ]
    return [*lines, ""]


def data_model_markdown() -> str:
    """The whole data-model page."""
    lineage = ", ".join(f"`{c.name}`" for c in LINEAGE)
    lines = [_INTRO.format(lineage=lineage), "## Lineage columns (on every fact table)", ""]
    lines += ["| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.dtype} | {c.description} |" for c in LINEAGE]
    lines += ["", "## Fact tables", ""]
    for t in FACT_TABLES:
        lines += _table_section(t)
    lines += ["## Load bookkeeping", ""]
    for t in META_TABLES:
        lines += _table_section(t)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(data_model_markdown(), end="")
