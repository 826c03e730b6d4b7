"""Local extract templates, their guidance page, and xlsx local extracts."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from csc_insight.cli import app
from csc_insight.datasets import formats, local, templates
from csc_insight.datasets.detect import detect
from csc_insight.errors import ConfigError
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.model import LINEAGE
from csc_insight.warehouse.store import Warehouse

ROOT = Path(__file__).parents[1]
LOCAL = Path(__file__).parent / "fixtures" / "local"
PSEUDO = Pseudonymiser(b"template-test-key" * 2)
LA = "E10000011"


def test_local_data_page_matches_the_code() -> None:
    page = (ROOT / "docs" / "local-data.md").read_text()
    assert page == templates.local_data_markdown(), (
        "docs/local-data.md is out of date: "
        "python -m csc_insight.datasets.templates > docs/local-data.md"
    )
    for name, contract in formats.LOCAL_CONTRACTS.items():
        assert f"## `{name}`" in page
        for column in (*contract.required, *contract.optional):
            assert f"| `{column}` |" in page


def test_every_contract_column_has_guidance() -> None:
    for name, contract in formats.LOCAL_CONTRACTS.items():
        guide = {g.name: g for g in templates.guide(name)}
        assert [g for g in guide if g in contract.required] == list(contract.required)
        for column in (*contract.required, *contract.optional):
            g = guide[column]
            assert g.required == (column in contract.required)
            assert g.meaning and g.format and g.example
        dates = [g for g in guide.values() if g.format.startswith("date")]
        assert all("yyyy-mm-dd" in g.format and "dd/mm/yyyy" in g.format for g in dates)


def test_csv_template_is_a_header_the_reader_recognises(tmp_path: Path) -> None:
    for name, contract in formats.LOCAL_CONTRACTS.items():
        (path,) = templates.write(name, tmp_path / f"{name}.csv")
        with path.open() as fh:
            rows = list(csv.reader(fh))
        assert rows[0][: len(contract.required)] == list(contract.required)
        assert len(rows) == 1
        assert detect(path).dataset == f"local.{name}"


def test_xlsx_template_has_a_guidance_sheet(tmp_path: Path) -> None:
    (path,) = templates.write("service_involvements", tmp_path / "si.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["service_involvements", "Guidance"]
    data = book.get_sheet_by_name("service_involvements").to_python()
    assert data[0] == templates.header("service_involvements")
    guidance = book.get_sheet_by_name("Guidance").to_python()
    by_column = {str(row[0]): row for row in guidance if row and str(row[0]) in data[0]}
    assert by_column["child_id"][1] == "required"
    assert by_column["locality"][1] == "optional"
    assert "yyyy-mm-dd" in str(by_column["date_requested"][2])
    # The empty template is recognised as the extract (the Guidance sheet is not read).
    assert detect(path).dataset == "local.service_involvements"
    assert local.read(path, "service_involvements")[0].data.num_rows == 0


def test_template_command_writes_all_or_one(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["template", "all", "--out", str(tmp_path / "all")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "attendance.xlsx",
        "feedback.xlsx",
        "service_involvements.xlsx",
    ]
    result = runner.invoke(app, ["template", "feedback", "--out", str(tmp_path / "fb.csv")])
    assert result.exit_code == 0
    assert (tmp_path / "fb.csv").read_text().startswith("response_id,service,")
    with pytest.raises(ConfigError, match="no local extract called"):
        templates.write("services", tmp_path / "x.xlsx")
    with pytest.raises(ConfigError, match=r"\.xlsx or \.csv"):
        templates.write("feedback", tmp_path / "x.txt")


def _as_workbook(csv_path: Path, out: Path, *, title: bool) -> Path:
    """A CSV extract as an xlsx as people make them: a title row, real date cells, numbers."""
    with csv_path.open() as fh:
        rows = list(csv.reader(fh))
    book = xlsxwriter.Workbook(str(out))
    sheet = book.add_worksheet("Extract")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    first = 0
    if title:
        sheet.write_string(0, 0, "Service extract run 01/04/2025")
        first = 2
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if r and len(value) == 10 and value[4] == "-" and value[7] == "-":
                y, m, d = map(int, value.split("-"))
                sheet.write_datetime(first + r, c, date(y, m, d), dates)
            elif r and value.isdigit() and rows[0][c] != "child_id":
                sheet.write_number(first + r, c, int(value))
            elif value:
                sheet.write_string(first + r, c, value)
    book.close()
    return out


def _without_lineage(wh: Warehouse, name: str) -> list[tuple[object, ...]]:
    rows = wh.table(name).to_pyarrow().drop_columns([c.name for c in LINEAGE])
    return sorted((tuple(r.values()) for r in rows.to_pylist()), key=lambda r: tuple(map(str, r)))


def test_xlsx_local_extracts_load_like_csv(tmp_path: Path) -> None:
    folder = tmp_path / "xlsx"
    folder.mkdir()
    for name in ("services", "attendance", "feedback"):
        _as_workbook(LOCAL / f"{name}.csv", folder / f"{name}.xlsx", title=name == "services")
    assert detect(folder / "services.xlsx").dataset == "local.service_involvements"
    assert detect(folder / "attendance.xlsx").dataset == "local.attendance"
    with Warehouse.connect(f"duckdb:///{tmp_path / 'csv.duckdb'}") as a:
        csv_report = ingest([LOCAL], a, PSEUDO, la_code=LA)
        from_csv = {t: _without_lineage(a, t) for t in _LOCAL_TABLES}
    with Warehouse.connect(f"duckdb:///{tmp_path / 'xlsx.duckdb'}") as b:
        xlsx_report = ingest([folder], b, PSEUDO, la_code=LA)
        from_xlsx = {t: _without_lineage(b, t) for t in _LOCAL_TABLES}
        rows = b.table("service_involvements").to_pyarrow()
    assert all(from_csv[t] for t in _LOCAL_TABLES if t != "children")
    assert from_xlsx == from_csv
    assert xlsx_report.totals() == csv_report.totals()
    # source_row counts rows below the header, whatever sits above it.
    assert min(rows.column("source_row").to_pylist()) >= 1


_LOCAL_TABLES = ("service_involvements", "attendance", "feedback", "feedback_scores", "children")
