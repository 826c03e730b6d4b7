"""The meeting pack on the synthetic authority: it renders as PDF, HTML and xlsx, the PDF has
the expected sections (its text extracted with pdftotext), its figures equal
``csc-insight indicators`` for the same period, and actions show how their indicator moved.

One small synthetic authority (three years) is made, loaded, given targets and actions, and
packed once for the module; DfE's published tables are imported too when they are beside
the clone (../shared/reference/dfe), so the comparisons with England are exercised.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from csc_insight import actions
from csc_insight.appstate import AppState, default_url
from csc_insight.cli import app
from csc_insight.concerns.series import Figures, monthly_ids
from csc_insight.indicators import compute
from csc_insight.indicators.periods import parse
from csc_insight.ingest import ingest
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.reports import pack as meeting_pack
from csc_insight.synth import generate
from csc_insight.warehouse.store import Warehouse

PERIOD = "2024-25"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dfe"
PUBLISHED = (
    "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
    "sn_model_2025_wide.csv",
)
TARGETS = """
[indicators."cin.rereferral_pct"]
owner = "Head of Front Door"
target = 22
tolerance = 2

[indicators."cin.assessment_45wd_pct"]
owner = "Head of Assessment"
target = 90
tolerance = 5

[indicators."svc.wait_median_days"]
owner = "Early Help Service Manager"
target = 20
tolerance = 3
"""
SECTIONS = (
    "Performance meeting pack",
    "What this pack covers",
    "Headline scorecard",
    "Areas of concern",
    "Areas of improvement",
    "Actions",
    "Data quality",
    "Definitions",
)

pytestmark = pytest.mark.slow


@dataclass
class LA:
    home: Path
    url: str
    warehouse: Warehouse
    state: AppState
    published: bool


@pytest.fixture(scope="module")
def la(tmp_path_factory: pytest.TempPathFactory) -> LA:
    root = tmp_path_factory.mktemp("pack")
    home = root / "home"
    home.mkdir()
    generate(root / "files", scale="small", seed=1, years=3)
    url = f"duckdb://{root / 'w.duckdb'}"
    warehouse = Warehouse.connect(url)
    ingest([root / "files"], warehouse, Pseudonymiser(b"k" * 32))
    published = SHARED.is_dir()
    if published:
        from csc_insight.benchmarks.published import import_files

        import_files(warehouse, [SHARED / name for name in PUBLISHED])
    (home / "authority.toml").write_text(TARGETS, encoding="utf-8")
    state = AppState(default_url(home))
    actions.create(
        state,
        title="Audit of re-referrals at the front door",
        created_by="pm",
        owner="Head of Front Door",
        due_date="2025-06-30",
        indicator_ids=["cin.rereferral_pct"],
        concern="indicator:cin.rereferral_pct",
        effect_from="2024-10",
    )
    done = actions.create(
        state, title="Recruit two assessment social workers", created_by="pm", owner="HR"
    )
    actions.close(state, done.id, by="pm", note="Both in post")
    return LA(home, url, warehouse, state, published)


@pytest.fixture(scope="module")
def outputs(la: LA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The viewer pack (the default edition) written by the command, in all three formats."""
    out = tmp_path_factory.mktemp("out")
    paths = {s: out / f"pack{s}" for s in (".pdf", ".html", ".xlsx")}
    args = ["report", "--period", PERIOD, "--home", str(la.home), "--backend", la.url]
    for p in paths.values():
        args += ["--out", str(p)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    return paths


@pytest.fixture(scope="module")
def pdf_text(outputs: dict[str, Path]) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext (Debian's poppler-utils) is needed: make system-deps installs it"
    done = subprocess.run(
        [tool, str(outputs[".pdf"]), "-"], capture_output=True, text=True, check=True
    )
    return flat(done.stdout)


def flat(text: str) -> str:
    """Text as compared: one space between words, and no hyphens (pdftotext joins a word
    hyphenated across a line end, re-referrals to rereferrals, so hyphens are dropped on
    both sides)."""
    return " ".join(text.replace("-", "").split())


def indicators_json(la: LA, *extra: str) -> dict[str, dict[str, Any]]:
    args = ["indicators", "--period", PERIOD, "--format", "json", "--home", str(la.home)]
    result = CliRunner().invoke(app, [*args, "--backend", la.url, *extra])
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.output) if row["breakdown"] is None}


def sheet_rows(path: Path, name: str) -> list[list[Any]]:
    rows: list[list[Any]] = (
        CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    )
    return [[None if c == "" else c for c in row] for row in rows]


def scorecard_sheet(path: Path) -> dict[str, dict[str, Any]]:
    rows = sheet_rows(path, "Scorecard")
    header = list(rows[2])
    return {str(r[0]): dict(zip(header, r, strict=True)) for r in rows[3:] if r[0]}


def same(pack_value: Any, command: dict[str, Any], field: str) -> bool:
    if command["suppressed"]:
        return bool(pack_value == "c")
    expected = command[field]
    if expected is None:
        return pack_value is None
    return isinstance(pack_value, int | float) and math.isclose(pack_value, expected)


# --- the PDF ----------------------------------------------------------------------------
def test_the_pdf_has_every_section_in_order(pdf_text: str) -> None:
    at = 0
    for section in SECTIONS:
        found = pdf_text.find(section, at)
        assert found >= 0, f"{section!r} is missing or out of order"
        at = found + len(section)
    assert flat(f"{PERIOD}: 1 April 2024 to 31 March 2025") in pdf_text
    assert "Viewer edition" in pdf_text


def test_the_pdf_states_the_concerns_in_words(pdf_text: str, la: LA) -> None:
    assert (
        flat(
            "Re-referrals within 12 months stood at 27.8% in 2024-25 (24.7% in 2023-24), above "
            "the 22% target (tolerance 2 points)"
        )
        in pdf_text
    )
    if la.published:
        assert (
            flat("higher than England (22.6%) and the statistical neighbours (20.7%)") in pdf_text
        )
    assert flat("Median wait for a local service stood at 15 days") in pdf_text  # going well


def test_the_pdf_shows_actions_and_whether_their_indicator_moved(pdf_text: str) -> None:
    assert flat("Audit of re-referrals at the front door") in pdf_text
    assert flat("in the 6 months before October 2024") in pdf_text
    assert flat("Recruit two assessment social workers") in pdf_text  # closed recently: still shown
    assert flat("Both in post") in pdf_text


def test_the_pdf_defines_every_figure_shown(pdf_text: str) -> None:
    definitions = pdf_text[pdf_text.index("Definitions", pdf_text.index("Data quality")) :]
    for indicator_id in ("cin.rereferral_pct", "cla.children_31mar", "svc.open_caseload"):
        assert flat(indicator_id) in definitions


# --- figures equal the indicators command ----------------------------------------------
def test_pack_figures_equal_the_indicators_command(la: LA, outputs: dict[str, Path]) -> None:
    command = indicators_json(la)  # viewers, as the pack's default edition
    sheet = scorecard_sheet(outputs[".xlsx"])
    assert set(sheet) == set(command)
    for indicator_id, row in command.items():
        got = sheet[indicator_id]
        for field in ("value", "numerator", "denominator"):
            assert same(got[field.capitalize()], row, field), (indicator_id, field, got, row)
    assert any(r["suppressed"] for r in command.values()), "expected some small numbers"


def test_the_html_scorecard_shows_the_same_figures(la: LA, outputs: dict[str, Path]) -> None:
    html = outputs[".html"].read_text(encoding="utf-8")
    command = indicators_json(la)
    rereferral = command["cin.rereferral_pct"]["value"]
    assert f"{rereferral:.1f}%" in html
    referrals = command["cin.referrals"]["value"]
    assert f">{referrals:,.0f}<" in html


def test_monthly_values_equal_the_indicators_for_that_month(la: LA) -> None:
    figures = Figures(la.warehouse)
    series = figures.monthly(parse(PERIOD), monthly_ids(), 24)
    for label in ("2023-04", "2024-11"):
        by_id = {r.id: r for r in compute(la.warehouse, label, ids=monthly_ids())}
        for indicator_id, s in series.items():
            if label not in s.labels:
                continue
            k = s.labels.index(label)
            r = by_id[indicator_id]
            assert (s.values[k], s.numerators[k], s.denominators[k]) == (
                r.value,
                r.numerator,
                r.denominator,
            ), (indicator_id, label)


# --- HTML and xlsx ----------------------------------------------------------------------
def test_the_html_is_self_contained(outputs: dict[str, Path]) -> None:
    html = outputs[".html"].read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in html
    assert "<script" not in html and "<link" not in html
    assert 'src="http' not in html and "url(http" not in html
    assert html.count('src="data:image/svg+xml;base64,') >= 3  # charts inline


def test_the_workbook_has_no_macros_and_a_sheet_per_area(outputs: dict[str, Path]) -> None:
    with zipfile.ZipFile(outputs[".xlsx"]) as z:
        assert not any("vba" in n.lower() for n in z.namelist())
    names = CalamineWorkbook.from_path(str(outputs[".xlsx"])).sheet_names
    for expected in (
        "Summary",
        "Scorecard",
        "Concerns",
        "Improvements",
        "Actions",
        "Referrals",
        "Children looked after",
        "Local services and early help",
        "Data quality",
        "Definitions",
    ):
        assert expected in names


# --- audiences --------------------------------------------------------------------------
def test_the_analyst_edition_is_unsuppressed_and_lists_children(la: LA, tmp_path: Path) -> None:
    gathered = meeting_pack.gather(
        la.warehouse,
        PERIOD,
        home=la.home,
        state=la.state,
        audience="analyst",
        sources=["targets", "data_quality"],
    )
    analyst = indicators_json(la, "--role", "analyst")
    for row in gathered.scorecard:
        assert same(row.value, analyst[row.id], "value"), row.id
    assert not any(row.suppressed for row in gathered.scorecard)
    html = meeting_pack.render_html(gathered)
    assert gathered.findings.data_quality.children, "the synthetic data has some findings"
    assert "Children with the most findings" in html
    assert gathered.findings.data_quality.children[0]["child_id"] in html
    workbook = meeting_pack.write(gathered, tmp_path / "analyst.xlsx")
    assert workbook.is_file()


def test_the_viewer_edition_leaves_out_child_level_content(outputs: dict[str, Path]) -> None:
    html = outputs[".html"].read_text(encoding="utf-8")
    assert "Children with the most findings" not in html
    cells = [c for row in sheet_rows(outputs[".xlsx"], "Data quality") for c in row if c]
    assert not any("pseudonymised" in str(c) for c in cells)


# --- the commands -----------------------------------------------------------------------
def test_the_concerns_command(la: LA) -> None:
    args = ["concerns", "--period", PERIOD, "--home", str(la.home), "--backend", la.url]
    result = CliRunner().invoke(app, [*args, "--source", "targets", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    keys = [c["key"] for c in found["concerns"]]
    assert keys[0] == "indicator:cin.rereferral_pct"
    assert [c["source"] for c in found["coverage"]] == ["targets"]
    text = CliRunner().invoke(app, [*args, "--source", "targets"])
    assert text.exit_code == 0 and "Areas of concern, 2024-25" in text.output


def test_a_pack_in_an_unknown_format_is_refused(la: LA, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", "--home", str(la.home), "--out", str(tmp_path / "pack.docx")]
    )
    assert result.exit_code != 0
    assert "use .pdf, .html or .xlsx" in result.output
