"""Validation rules: DfE's SSDA903 and CIN census rules and csc-insight's own, one registry.

Each family is a module of small declarative rule classes; ``run`` evaluates them on the
warehouse engine, stores the findings in ``validation_findings`` and returns a
``ValidationRun`` that writes the child-level error report.
"""

from __future__ import annotations

from csc_insight.indicators.workdays import calendar_arrow
from csc_insight.rules import (  # noqa: F401  (registers the families)
    children,
    cin_assessments,
    cin_protection,
    cin_referrals,
    cla_episodes,
    cla_other,
    local,
)
from csc_insight.rules.engine import ValidationRun, run
from csc_insight.rules.registry import REGISTRY, Rule, Severity, Source, Tables, register
from csc_insight.warehouse.compiled import code_digest


def prepare() -> None:
    """Make ready what a validation run needs besides the data (the working-day calendar
    the rules' SQL joins, the digest that finds their compiled SQL), so that it can be done
    while waiting for something else, such as files being read in another process."""
    calendar_arrow()
    code_digest()


FAMILY_TITLES = {
    "children": "Children",
    "cla_episodes": "Looked-after episodes (SSDA903)",
    "cla_other": "Reviews, missing, outcomes, adoption (SSDA903)",
    "cin_referrals": "CIN episodes (CIN census)",
    "cin_assessments": "Assessments (CIN census)",
    "cin_protection": "Section 47, child protection and CIN plans (CIN census)",
    "local": "Local datasets",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rules_markdown() -> str:
    """The rule catalogue as the Markdown page docs/validation.md (regenerated, not edited)."""
    lines = [
        "# Validation rules",
        "",
        "Generated from the rule registry by `csc_insight.rules.rules_markdown()`; a test fails "
        "if this page and the registry disagree.",
        "",
        "`csc-insight validate` checks the warehouse against these rules on the engine and "
        "stores every failing row in the `validation_findings` table (the data-quality page "
        "reads it), then writes a child-level error report. Codes are DfE's own for SSDA903 "
        "(`ssda903`) and CIN census (`cin`) rules; `LOC` codes are csc-insight's. A docstring "
        "marked *best identification* names the DfE rule the check was matched to where the "
        "number or wording could not be confirmed against DfE's published list.",
        "",
        "Every rule is an Ibis expression, so the same rules run on DuckDB, PostgreSQL and "
        "Spark (tests/rules/test_engines.py checks they find the same rows). On DuckDB each "
        "rule is compiled to SQL once and the SQL kept in the user's cache folder "
        "(`CSC_INSIGHT_SQL_CACHE`), keyed by csc-insight's code, the library versions, the "
        "collection year given and the date; the rules then run as one query, and a "
        "validation run is mostly the engine's own work (0.2 s for a large authority instead "
        "of 2.5 s compiling).",
        "",
        f"{len(REGISTRY)} rules.",
    ]
    for family, title in FAMILY_TITLES.items():
        members = [r for r in REGISTRY.values() if r.family == family]
        if not members:
            continue
        lines += [
            "",
            f"## {title}",
            "",
            "| code | source | severity | table | fields | message | check |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in members:
            check = _cell((type(r).__doc__ or "").strip().split("\n\n")[0])
            lines.append(
                f"| `{r.code}` | {r.source} | {r.severity} | `{r.table}` | "
                f"{', '.join(r.fields)} | {_cell(r.message)} | {check} |"
            )
    return "\n".join(lines) + "\n"


__all__ = [
    "REGISTRY",
    "Rule",
    "Severity",
    "Source",
    "Tables",
    "ValidationRun",
    "register",
    "rules_markdown",
    "run",
]
