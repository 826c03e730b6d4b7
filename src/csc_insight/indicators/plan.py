"""A measurement plan for a new project or service: reuse measures before inventing them.

A project lead declares the project in the authority's ``authority.toml``:

    [projects."School Attendance Project"]
    aims = "Children at risk of persistent absence attend school more."
    intended_change = "Attendance up 5 percentage points within two terms of starting."
    service = "School Attendance Project"      # its name in the service involvements data
    lead = "Early Help Service Manager"
    cadence = "termly"
    measures = ["svc.children_helped", "svc.wait_median_days", "svc.repeat_use_pct"]

    [[projects."School Attendance Project".local_measures]]
    name = "Attendance change after starting"
    definition = "Mean attendance in the two terms after starting minus the two before."
    needs = ["attendance.sessions_possible", "attendance.sessions_attended"]

The plan lists each measure with its definition, the few fields it needs, whether the
authority already holds them, and who owns and reports it how often; the data-collection
templates for any local dataset it needs come with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csc_insight.datasets import formats
from csc_insight.errors import ConfigError
from csc_insight.indicators.fields import fields_needed
from csc_insight.indicators.registry import REGISTRY
from csc_insight.indicators.targets import AuthorityConfig
from csc_insight.warehouse.store import Warehouse

LOCAL_TABLES = {
    "service_involvements": "service_involvements",
    "attendance": "attendance",
    "feedback": "feedback",
    "feedback_scores": "feedback",
}


@dataclass(frozen=True)
class LocalMeasure:
    """A measure the catalogue has no equivalent of, defined by the project."""

    name: str
    definition: str
    needs: tuple[str, ...]  # "table.column"


@dataclass(frozen=True)
class Project:
    """A service or project and what it intends to change."""

    name: str
    aims: str
    intended_change: str
    service: str | None
    lead: str | None
    cadence: str | None
    measures: tuple[str, ...]
    local_measures: tuple[LocalMeasure, ...] = ()


@dataclass
class PlannedMeasure:
    """One line of the plan."""

    id: str
    title: str
    definition: str
    fields: dict[str, tuple[str, ...]]
    held: dict[str, bool]
    owner: str | None
    cadence: str | None
    local: bool = False


@dataclass
class Plan:
    """The measurement plan of one project."""

    project: Project
    measures: list[PlannedMeasure] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        """Every field the plan needs, once: how little data it takes."""
        return sorted({f"{t}.{c}" for m in self.measures for t, cs in m.fields.items() for c in cs})

    @property
    def templates(self) -> list[str]:
        """The local extracts the authority must collect for this plan."""
        return sorted(
            {LOCAL_TABLES[t] for m in self.measures for t in m.fields if t in LOCAL_TABLES}
        )


def projects(config: AuthorityConfig) -> dict[str, Project]:
    """The projects declared in the authority's configuration."""
    out: dict[str, Project] = {}
    for name, raw in (config.raw.get("projects") or {}).items():
        measures = tuple(raw.get("measures") or ())
        unknown = [m for m in measures if m not in REGISTRY]
        if unknown:
            raise ConfigError(
                f"Project {name!r} uses {', '.join(unknown)}, which the catalogue does not have "
                "(see csc-insight indicators --list); define it as a local measure instead."
            )
        local = tuple(
            LocalMeasure(str(m["name"]), str(m.get("definition", "")), tuple(m.get("needs", ())))
            for m in raw.get("local_measures") or ()
        )
        out[name] = Project(
            name=name,
            aims=str(raw.get("aims", "")),
            intended_change=str(raw.get("intended_change", "")),
            service=raw.get("service"),
            lead=raw.get("lead"),
            cadence=raw.get("cadence"),
            measures=measures,
            local_measures=local,
        )
    return out


def _holds(warehouse: Warehouse | None, table: str, column: str, service: str | None) -> bool:
    if warehouse is None:
        return False
    t = warehouse.table(table)
    if service and table == "service_involvements":
        t = t.filter(t.service == service)
    return bool(t[column].notnull().any().execute())


def measurement_plan(
    project: Project, config: AuthorityConfig, warehouse: Warehouse | None = None
) -> Plan:
    """The plan: each measure's fields, whether they are held, its owner and cadence."""
    plan = Plan(project)
    for measure_id in project.measures:
        indicator = REGISTRY[measure_id]
        needed = fields_needed(measure_id)
        target = config.targets.get(measure_id)
        plan.measures.append(
            PlannedMeasure(
                id=measure_id,
                title=indicator.title,
                definition=indicator.definition,
                fields=needed,
                held={
                    f"{t}.{c}": _holds(warehouse, t, c, project.service)
                    for t, cs in needed.items()
                    for c in cs
                },
                owner=(target.owner if target else None) or project.lead,
                cadence=(target.cadence if target else None) or project.cadence,
            )
        )
    for local in project.local_measures:
        needs: dict[str, list[str]] = {}
        for item in local.needs:
            table_name, _, column = item.partition(".")
            needs.setdefault(table_name, []).append(column)
        fields = {t: tuple(cs) for t, cs in needs.items()}
        plan.measures.append(
            PlannedMeasure(
                id=f"local: {local.name}",
                title=local.name,
                definition=local.definition,
                fields=fields,
                held={
                    f"{t}.{c}": _holds(warehouse, t, c, project.service)
                    for t, cs in fields.items()
                    for c in cs
                },
                owner=project.lead,
                cadence=project.cadence,
                local=True,
            )
        )
    return plan


def plan_markdown(plan: Plan) -> str:
    """The plan as a page a project lead can take to the first meeting."""
    p = plan.project
    lines = [
        f"# Measurement plan: {p.name}",
        "",
        f"- **Aims:** {p.aims or 'not stated'}",
        f"- **The change it intends:** {p.intended_change or 'not stated'}",
        f"- **Project lead:** {p.lead or 'not named'}",
        f"- **Reported:** {p.cadence or 'not set'}",
        "",
        "## Measures",
        "",
        "| measure | what it measures | fields it needs | already held? | owner | cadence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in plan.measures:
        fields = ", ".join(f"`{k}`" for k in m.held)
        held = sum(m.held.values())
        status = "yes" if held == len(m.held) else f"{held} of {len(m.held)} fields"
        name = f"{m.title} (local measure)" if m.local else f"{m.title} (`{m.id}`)"
        lines.append(
            f"| {name} | {m.definition} | {fields} | {status} | {m.owner or '-'} | "
            f"{m.cadence or '-'} |"
        )
    lines += [
        "",
        f"Useful data before big data: the whole plan needs {len(plan.fields)} fields.",
    ]
    if plan.templates:
        lines += [
            "",
            "## Data to collect",
            "",
            "Templates with the column contract and guidance come with this plan: "
            + ", ".join(f"`{t}.xlsx`" for t in plan.templates)
            + ". "
            + " ".join(formats.LOCAL_CONTRACTS[t].description for t in plan.templates),
        ]
    return "\n".join(lines) + "\n"


def write_plan(plan: Plan, out: Path) -> list[Path]:
    """The plan page and the templates of the local data it needs, in folder ``out``."""
    from csc_insight.datasets import templates

    out.mkdir(parents=True, exist_ok=True)
    page = out / "measurement-plan.md"
    page.write_text(plan_markdown(plan), encoding="utf-8")
    written = [page]
    for name in plan.templates:
        written += templates.write(name, out / f"{name}.xlsx")
    return written


def describe(config: AuthorityConfig) -> list[dict[str, Any]]:
    """A short list of declared projects for the CLI."""
    return [
        {"name": p.name, "lead": p.lead, "measures": len(p.measures) + len(p.local_measures)}
        for p in projects(config).values()
    ]
