"""Running the rules: one engine query, findings stored, child-level error reports."""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from csc_insight.errors import InputError
from csc_insight.rules.registry import FINDING_COLUMNS, REGISTRY, Rule, Tables
from csc_insight.warehouse.compiled import SqlCache, in_memory_tables, named_table_data
from csc_insight.warehouse.model import table as model_table
from csc_insight.warehouse.store import Warehouse

FINDINGS_TABLE = "validation_findings"
# Excel holds 1,048,576 rows a sheet, one of them the header.
XLSX_MAX_ROWS = 1_048_575
FINDINGS_ORDER = ("rule_code", "la_code", "child_id", "source_file", "source_row")
REPORT_COLUMNS = (
    "rule_code",
    "severity",
    "target_table",
    "la_code",
    "child_id",
    "source_file",
    "source_row",
    "fields",
    "message",
)


def new_run_id() -> str:
    """A fresh validation run identifier: sortable by time, unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def findings_expr(rule: Rule, t: Tables) -> ibis.Table:
    """The rule's failing rows shaped as validation_findings rows, less the run id."""
    rows = rule.failing(t)
    if "child_id" not in rows.columns:
        rows = rows.mutate(child_id=ibis.null("string"))
    missing = [c for c in FINDING_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rule {rule.code} lost the column(s) {', '.join(missing)}")
    shaped = rows.select(
        rule_code=ibis.literal(rule.code, "string"),
        severity=ibis.literal(str(rule.severity), "string"),
        target_table=ibis.literal(rule.table, "string"),
        la_code=rows.la_code.cast("string"),
        child_id=rows.child_id.cast("string"),
        source_file=rows.source_file.cast("string"),
        source_row=rows.source_row.cast("int64"),
        fields=ibis.literal(",".join(rule.fields), "string"),
        message=ibis.literal(rule.message, "string"),
    )
    return shaped.distinct()


def select_rules(codes: Iterable[str] | None) -> list[Rule]:
    """The registered rules with these codes (all of them for None), in registry order."""
    if codes is None:
        return list(REGISTRY.values())
    wanted = list(dict.fromkeys(codes))
    unknown = [c for c in wanted if c not in REGISTRY]
    if unknown:
        raise InputError(f"No validation rule has the code {', '.join(unknown)}.")
    return [REGISTRY[c] for c in wanted]


def run(
    warehouse: Warehouse,
    *,
    rules: Iterable[str] | None = None,
    collection_year: int | None = None,
    store: bool = True,
) -> ValidationRun:
    """Evaluate rules (all registered, or those codes) on the engine and store the findings.

    Every rule is an Ibis expression; their failing rows are unioned into a single query, so
    the checking runs on the engine. The findings replace the previous run's in
    ``validation_findings`` in one transaction. ``collection_year`` (year ending 31 March)
    stands in for rows whose file did not record its collection year.
    """
    chosen = select_rules(rules)
    run_id = new_run_id()
    started = datetime.now(UTC)
    t = Tables(warehouse, default_collection_year=collection_year)
    schema = model_table(FINDINGS_TABLE).arrow_schema()
    if not chosen:
        findings = schema.empty_table()
    elif warehouse.engine.name == "duckdb":
        findings = _findings_duckdb(warehouse, chosen, t)
    else:
        union = ibis.union(*(findings_expr(r, t) for r in chosen), distinct=False)
        findings = union.order_by(*FINDINGS_ORDER).to_pyarrow()
    if chosen:
        run_ids = pa.array([run_id] * findings.num_rows, pa.string())
        findings = findings.append_column("run_id", run_ids).select(schema.names).cast(schema)
    if store:
        replace_findings(warehouse, findings)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return ValidationRun(run_id=run_id, rules=chosen, findings=findings, seconds=seconds)


def _findings_duckdb(warehouse: Warehouse, chosen: list[Rule], t: Tables) -> pa.Table:
    """Every chosen rule's findings in one DuckDB query, from SQL compiled once per code.

    Compiling each rule alone and joining the SQL with UNION ALL is several times faster than
    compiling the union as one Ibis expression, and the compiled SQL is cached on disk
    (warehouse/compiled.py), so a validation run is mostly DuckDB's own work.
    """
    cache = SqlCache("validation", "duckdb", t.default_collection_year, t.today)
    parts: list[str] = []
    needed: dict[str, str] = {}
    for rule in chosen:
        hit = cache.get(rule.code)
        if hit is None:
            expr = findings_expr(rule, t)
            tables = in_memory_tables(expr)
            if tables is None:
                raise ValueError(
                    f"rule {rule.code} joins an in-memory table not made with named_table"
                )
            hit = (str(warehouse.con.compile(expr)), tables)
            cache.put(rule.code, *hit)
        sql, tables = hit
        parts.append(f"({sql})")
        needed.update(tables)
    cache.save()
    raw = warehouse.con.con  # type: ignore[attr-defined]
    for sql_name, declared in needed.items():
        raw.register(sql_name, named_table_data(declared))
    order = ", ".join(f'"{c}"' for c in FINDINGS_ORDER)
    query = "SELECT * FROM (" + "\nUNION ALL\n".join(parts) + f") ORDER BY {order}"
    try:
        return raw.execute(query).fetch_arrow_table()
    finally:
        for sql_name in needed:
            raw.unregister(sql_name)


def replace_findings(warehouse: Warehouse, findings: pa.Table) -> None:
    """Replace every stored finding with ``findings``, atomically."""
    columns = ", ".join(f'"{c}"' for c in findings.column_names)
    if warehouse.engine.name != "duckdb":
        warehouse.con.insert(FINDINGS_TABLE, findings, overwrite=True)
        return
    raw = warehouse.con.con  # type: ignore[attr-defined]
    view = "_staged_validation_findings"
    raw.register(view, findings)
    raw.begin()
    try:
        raw.execute(f"DELETE FROM {FINDINGS_TABLE}")
        raw.execute(f"INSERT INTO {FINDINGS_TABLE} ({columns}) SELECT {columns} FROM {view}")
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.unregister(view)


@dataclass
class ValidationRun:
    """The outcome of one validation run: the rules checked and every finding."""

    run_id: str
    rules: list[Rule]
    findings: pa.Table
    seconds: float = 0.0

    @property
    def count(self) -> int:
        """Findings in the run."""
        return self.findings.num_rows

    def counts_by_rule(self) -> list[dict[str, Any]]:
        """One entry per rule checked, with its finding count; most findings first."""
        counts = Counter(self.findings.column("rule_code").to_pylist())
        rows = [
            {
                "code": r.code,
                "source": str(r.source),
                "severity": str(r.severity),
                "table": r.table,
                "message": r.message,
                "count": counts.get(r.code, 0),
            }
            for r in self.rules
        ]
        return sorted(rows, key=lambda row: -int(row["count"]))

    def counts_by_child(self) -> list[dict[str, Any]]:
        """One entry per child with findings: how many and under which rule codes."""
        counts: Counter[str] = Counter()
        codes: dict[str, set[str]] = defaultdict(set)
        children = self.findings.column("child_id").to_pylist()
        rule_codes = self.findings.column("rule_code").to_pylist()
        for child, code in zip(children, rule_codes, strict=True):
            if child is None:
                continue
            counts[child] += 1
            codes[child].add(code)
        ordered = sorted(counts, key=lambda c: (-counts[c], c))
        return [{"child_id": c, "count": counts[c], "codes": sorted(codes[c])} for c in ordered]

    def to_dict(self) -> dict[str, Any]:
        """The run summary as plain data (what ``--json`` prints)."""
        return {
            "run_id": self.run_id,
            "rules_checked": len(self.rules),
            "findings": self.count,
            "by_rule": self.counts_by_rule(),
            "by_child": self.counts_by_child(),
        }

    def to_json(self) -> str:
        """The run summary as JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def write_report(self, path: Path | str) -> Path:
        """Write the child-level error report: ``.xlsx`` (three sheets) or ``.csv`` (findings)."""
        out = Path(path)
        suffix = out.suffix.lower()
        if suffix == ".csv":
            _write_csv(out, self.findings)
        elif suffix == ".xlsx":
            _write_xlsx(out, self)
        else:
            raise InputError(f"Cannot write a validation report as {out.name}: use .xlsx or .csv.")
        return out


def _finding_rows(findings: pa.Table) -> list[list[Any]]:
    columns = [findings.column(c).to_pylist() for c in REPORT_COLUMNS]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def _write_csv(out: Path, findings: pa.Table) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(_finding_rows(findings))


def _write_xlsx(out: Path, result: ValidationRun) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    try:
        bold = workbook.add_format({"bold": True})
        rows = _finding_rows(result.findings)
        summary = workbook.add_worksheet("Summary by rule")
        header = ["code", "source", "severity", "table", "message", "count"]
        summary.set_column(0, 3, 12)
        summary.set_column(4, 4, 90)
        summary.write_row(0, 0, header, bold)
        by_rule = result.counts_by_rule()
        for i, entry_row in enumerate(by_rule, start=1):
            summary.write_row(i, 0, [entry_row[h] for h in header])
        if len(rows) > XLSX_MAX_ROWS:
            summary.write(
                len(by_rule) + 2,
                0,
                f"All findings lists the first {XLSX_MAX_ROWS:,} of {len(rows):,} findings; "
                "write a .csv report for every one.",
            )

        by_child = workbook.add_worksheet("By child")
        by_child.set_column(0, 0, 66)
        by_child.set_column(2, 2, 40)
        by_child.write_row(0, 0, ["child_id", "count", "codes"], bold)
        for i, entry in enumerate(result.counts_by_child(), start=1):
            by_child.write_row(i, 0, [entry["child_id"], entry["count"], ", ".join(entry["codes"])])

        findings = workbook.add_worksheet("All findings")
        findings.write_row(0, 0, list(REPORT_COLUMNS), bold)
        for i, finding in enumerate(rows[:XLSX_MAX_ROWS], start=1):
            findings.write_row(i, 0, finding)
    finally:
        workbook.close()
