"""The bad-input corpus: every file goes through the CLI and gets a clear message.

For each case (tests/corpus/, plus large files and workbooks made here at test time) the
test asserts: no traceback; exit 0 when anything was loaded and non-zero only when nothing
could be; a plain-English message naming the file; the reconciliation read = loaded +
quarantined per table, per file and in total; and that no child identifier from the file
(all start QX7) appears in any message or quarantine reason. Property-based tests of the
parsers follow.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from csc_insight.cli import app
from csc_insight.datasets import cin_census
from csc_insight.datasets.conform import (
    EXCEL_SERIAL_MAX,
    EXCEL_SERIAL_MIN,
    MAX_YEAR,
    MIN_YEAR,
    conform,
    parse_booleans,
    parse_dates,
    parse_floats,
    parse_integers,
)
from csc_insight.datasets.detect import detect
from csc_insight.datasets.tabular import read_strings
from csc_insight.errors import CscInsightError, InputError
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.store import Warehouse
from fixtures.annex_a_workbook import write_annex_a

CORPUS = Path(__file__).parent / "corpus"
CIN = Path(__file__).parent / "fixtures" / "cin" / "cin_2024.xml"
LA = "E10000011"
RAW_ID = re.compile(r"QX7\d{3}")
runner = CliRunner()

# The commands every case is run through. `validate` joins automatically once it is a
# registered command (the rule engine's CLI): nothing here needs changing then.
REGISTERED = {
    c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
}
EXERCISED_COMMANDS = ("ingest", "validate") if "validate" in REGISTERED else ("ingest",)


@dataclass(frozen=True)
class Case:
    """One bad input: where it is (or how to make it) and what the user must be told."""

    name: str
    loads: bool  # something from it is loaded (exit 0)
    says: tuple[str, ...]  # phrases the output must contain
    args: tuple[str, ...] = ()
    make: Callable[[Path], Path] | None = None
    counts: tuple[int, int] | None = None  # (loaded, quarantined) rows, where exact

    def path(self, tmp: Path) -> Path:
        return self.make(tmp) if self.make else CORPUS / self.name


def _big_one_line(tmp: Path) -> Path:
    """A 2 GB file that is one line: 128 KB of column-like text, then a sparse hole."""
    path = tmp / "two_gigabytes_one_line.csv"
    with path.open("wb") as f:
        f.write(b"CHILD,DECOM," * 11_000)
        f.seek(2 * 1024**3 - 1)
        f.write(b"x")
    return path


def _long_line_after_header(tmp: Path) -> Path:
    """A real 903 header, then one 20 MB line (longer than a parse block)."""
    path = tmp / "episodes_with_a_20mb_line.csv"
    with path.open("wb") as f:
        f.write(b"CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\n")
        f.write(b"QX7901," + b"A" * (20 * 1024**2) + b"\n")
    return path


def _annex_renamed(tmp: Path) -> Path:
    return write_annex_a(tmp / "annex_a_renamed_sheets.xlsx")


def _annex_missing_list2(tmp: Path) -> Path:
    path = tmp / "annex_a_only_contacts.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Contacts")
    sheet.write_row(0, 0, ["Child Unique ID", "Gender", "Date of Birth", "Date of Contact"])
    sheet.write_row(1, 0, ["QX7301", "Male", "2015-01-02", "2024-01-10"])
    book.close()
    return path


def _xlsx_without_lists(tmp: Path) -> Path:
    path = tmp / "budget.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Budget").write_row(0, 0, ["Cost centre", "Spend"])
    book.add_worksheet("Notes").write(0, 0, "Nothing about children here")
    book.close()
    return path


def _damaged_xlsx(tmp: Path) -> Path:
    path = tmp / "damaged.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 100)
    return path


def _whole_corpus(tmp: Path) -> Path:
    return CORPUS


CASES = [
    Case("empty.csv", False, ("the file is empty",)),
    Case("whitespace_only.csv", False, ("the file is empty",)),
    Case("header_only_episodes.csv", False, ("header row but no data rows",)),
    Case("utf16_header.csv", True, ("UTF-16 file; it was read as UTF-16",), counts=(2, 0)),
    Case("utf8_bom_header.csv", True, (), counts=(1, 0)),
    Case("latin1_services.csv", True, ("not UTF-8; it was read as Windows-1252",), counts=(4, 0)),
    Case("semicolon_episodes.csv", True, ("separated by semicolons",), counts=(2, 0)),
    Case("tab_reviews.tsv", True, ("separated by tabs",), counts=(3, 0)),
    Case(
        "numbers_10_0_oc2.csv",
        True,
        ("SDQ_SCORE '10.5' is not a whole number",),
        args=("--collection-year", "2024"),
    ),
    Case("oc3_without_year.csv", False, ("give the collection year (--collection-year)",)),
    Case(
        "blank_child_ids_reviews.csv",
        True,
        ("the child identifier is blank but required",),
        counts=(2, 2),
    ),
    Case("mixed_dates_missing.csv", True, ("MIS_START '04.08.2023' is not a date",), counts=(3, 2)),
    Case("excel_serial_dates_missing.csv", True, (), counts=(3, 0)),
    Case("impossible_date_cin.xml", True, ("is after the end of the 2023-24 return (31/03/2024)",)),
    Case(
        "duplicate_rows_episodes.csv",
        True,
        ("a later row has the same CHILD, DECOM",),
        counts=(2, 2),
    ),
    Case("truncated_cin.xml", False, ("The CIN census XML ends early (line", "export it again")),
    Case("billion_laughs_cin.xml", False, ("declares a DOCTYPE", "refused for safety")),
    Case("xxe_cin.xml", False, ("declares a DOCTYPE", "refused for safety")),
    Case("crlf_header.csv", True, (), counts=(2, 0)),
    Case("trailing_blank_lines_reviews.csv", True, (), counts=(2, 0)),
    Case("embedded_newlines_services.csv", True, (), counts=(2, 0)),
    Case(
        "ragged_rows_reviews.csv", True, ("more fields than the header has columns",), counts=(4, 1)
    ),
    Case("headerless_episodes.csv", False, ("its first row is not a row of column names",)),
    Case(
        "bank_statement.csv", False, ("its columns (Date, Description, Amount, Balance) match no",)
    ),
    Case("pdf_renamed.csv", False, ("a PDF document, not a data file",)),
    Case("unrelated_folder", False, ("none of the files is", "a PNG image", "a JSON file")),
    Case(
        "two_gigabytes_one_line.csv",
        False,
        ("first line is longer than 64 KB",),
        make=_big_one_line,
    ),
    Case(
        "episodes_with_a_20mb_line.csv",
        False,
        ("a line in this file is longer than 1 MB",),
        make=_long_line_after_header,
    ),
    Case(
        "annex_a_renamed_sheets.xlsx",
        True,
        # Lists 1 to 3 load under their renamed sheets; the lists it lacks are named.
        ("no sheet for Annex A list 4 (assessments)", "sheet 'Notes' is not an Annex A list"),
        make=_annex_renamed,
    ),
    Case(
        "annex_a_only_contacts.xlsx",
        True,
        ("no sheet for Annex A list 2",),
        make=_annex_missing_list2,
    ),
    Case("budget.xlsx", False, ("are not Annex A lists",), make=_xlsx_without_lists),
    Case("damaged.xlsx", False, ("cannot be opened as a spreadsheet",), make=_damaged_xlsx),
    Case("whole corpus folder", True, (), make=_whole_corpus),
]


def _reconcile(report: dict[str, Any]) -> None:
    totals = {"read": 0, "loaded": 0, "quarantined": 0, "superseded": 0}
    for f in report["files"]:
        for t in f["tables"]:
            assert t["read"] == t["loaded"] + t["quarantined"], (f["path"], t)
            for k in totals:
                totals[k] += t[k]
    assert report["totals"] == totals
    assert totals["read"] == totals["loaded"] + totals["quarantined"]


def _invoke(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process as `csc-insight` would: CscInsightError is a message, exit 2."""
    result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        if isinstance(result.exception, CscInsightError):
            return 2, result.stdout, f"{result.stderr}Error: {result.exception}"
        raise AssertionError(f"{args}: raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty warehouse file, copied for each case (creating the schema takes a second)."""
    path = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    Warehouse.connect(f"duckdb://{path}").close()
    return path


def _home(tmp: Path, template: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, tmp / "warehouse.duckdb")
    return tmp


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_a_clear_message(case: Case, tmp_path: Path, empty_warehouse: Path) -> None:
    path = case.path(tmp_path)
    home = _home(tmp_path / "home", empty_warehouse)
    common = ["--home", str(home), "--la-code", LA, *case.args]
    code, stdout, stderr = _invoke(["ingest", str(path), *common, "--json"])
    report = json.loads(stdout)
    _reconcile(report)
    loaded = report["totals"]["loaded"] > 0
    if case.counts is not None:
        totals = report["totals"]
        assert (totals["loaded"], totals["quarantined"]) == case.counts, totals
    assert loaded == case.loads, report
    assert (code == 0) == loaded, (code, stderr)
    if not loaded:
        assert report["nothing_loaded"] and "Nothing was loaded" in stderr
    # Every file not read is named with its reason.
    for problem in report["skipped"] + report["failed"]:
        assert problem["path"] and problem["reason"][0].isalpha()
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as wh:
        quarantine = wh.table("quarantine").execute()
        assert len(quarantine) == report["totals"]["quarantined"]
        reasons = " ".join(quarantine.reason)
        files = wh.table("load_files").execute()
        assert int(files.rows_read.sum() or 0) == report["totals"]["read"]
    shown = json.dumps(report) + stderr + reasons
    for phrase in case.says:
        assert phrase in shown, (phrase, shown)

    # The table the user reads says the same (into a fresh warehouse), with no traceback.
    fresh = ["--home", str(_home(tmp_path / "home2", empty_warehouse)), *common[2:]]
    code_text, text, text_err = _invoke(["ingest", str(path), *fresh])
    assert code_text == code
    assert "Traceback" not in text + text_err
    said = " ".join(re.sub(r" '[^']*'", "", text + text_err).split())
    for phrase in case.says:
        assert " ".join(re.sub(r" '[^']*'", "", phrase).split()) in said, phrase

    everything = shown + text + text_err + reasons
    assert not RAW_ID.search(everything), RAW_ID.findall(everything)
    assert "root:" not in everything  # /etc/passwd was never read


def _validate(path: Path, tmp: Path, args: tuple[str, ...]) -> None:
    """`csc-insight validate FILE`: a message or a report, never a traceback or a child ID."""
    home = ["--home", str(tmp / "validate-home"), "--la-code", LA, *args]
    code, out, err = _invoke(["validate", str(path), *home, "--json"])
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in out + err
    assert not RAW_ID.search(out + err), RAW_ID.findall(out + err)
    assert "root:" not in out + err


@pytest.mark.skipif("validate" not in EXERCISED_COMMANDS, reason="no validate command yet")
def test_validate_on_the_whole_corpus(tmp_path: Path) -> None:
    _validate(CORPUS, tmp_path, ())


@pytest.mark.slow  # validate runs every rule: a few seconds per case
@pytest.mark.skipif("validate" not in EXERCISED_COMMANDS, reason="no validate command yet")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_on_every_case(case: Case, tmp_path: Path) -> None:
    _validate(case.path(tmp_path), tmp_path, case.args)


def test_second_run_of_the_same_case_is_already_loaded(
    tmp_path: Path, empty_warehouse: Path
) -> None:
    home = ["--home", str(_home(tmp_path / "home", empty_warehouse)), "--la-code", LA]
    first = _invoke(["ingest", str(CORPUS / "crlf_header.csv"), *home, "--json"])
    assert first[0] == 0
    code, stdout, _ = _invoke(["ingest", str(CORPUS / "crlf_header.csv"), *home])
    assert code == 0
    # The console wraps long lines (a long temporary path), so compare words.
    words = " ".join(stdout.split())
    assert "already loaded on" in words and "nothing was added" in words


def test_the_corpus_through_the_real_console_script(tmp_path: Path) -> None:
    # A real process: no traceback reaches the terminal, and 2 GB of one line is refused
    # without being read into memory.
    _big_one_line(tmp_path)
    # The process's own peak memory (VmHWM), written as it exits: ru_maxrss from wait4 would
    # include the high-water mark of this (pytest) process, which Linux carries into a child
    # started by fork and exec, so it fails whenever the test run itself has grown past 1 GB.
    peak = tmp_path / "peak_kb"
    child = (
        "import atexit, re\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read()\n"
        f"    open({str(peak)!r}, 'w').write(re.search(r'VmHWM:\\s*(\\d+)', status)[1])\n"
        "atexit.register(peak)\n"
        "from csc_insight.cli import run; run()\n"
    )
    cmd = [sys.executable, "-c", child, "ingest"]
    args = [str(CORPUS), str(tmp_path), "--home", str(tmp_path / "h"), "--la-code", LA]
    with (tmp_path / "out").open("w") as out, (tmp_path / "err").open("w") as err:
        env = {**os.environ, "COLUMNS": "1000"}
        proc = subprocess.run([*cmd, *args], stdout=out, stderr=err, env=env, check=False)
    text = (tmp_path / "out").read_text() + (tmp_path / "err").read_text()
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert "two_gigabytes_one_line.csv" in text
    peak_kb = int(peak.read_text())
    assert peak_kb < 1024 * 1024, peak_kb  # under 1 GB


# --- property-based tests of the parsers --------------------------------------------------
def _one(parser: Callable[[pa.Array], tuple[pa.Array, pa.Array]], text: str | None) -> Any:
    values, invalid = parser(pa.array([text], pa.string()))
    return values[0].as_py(), invalid[0].as_py()


FIXTURE_REUSED = HealthCheck.function_scoped_fixture
DATES = st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31))


@given(DATES)
def test_iso_and_uk_dates_round_trip(d: date) -> None:
    assert _one(parse_dates, d.isoformat()) == (d, False)
    assert _one(parse_dates, d.strftime("%d/%m/%Y")) == (d, False)


@given(st.integers(min_value=EXCEL_SERIAL_MIN, max_value=EXCEL_SERIAL_MAX))
def test_excel_serials_are_the_dates_excel_shows(serial: int) -> None:
    expected = date(1899, 12, 30) + timedelta(days=serial)
    assert _one(parse_dates, str(serial)) == (expected, False)
    assert _one(parse_dates, f"{serial}.0") == (expected, False)


@given(st.lists(st.one_of(st.none(), st.text(max_size=14)), max_size=20))
def test_date_parser_never_raises_and_flags_all_it_cannot_read(texts: list[str | None]) -> None:
    values, invalid = parse_dates(pa.array(texts, pa.string()))
    for text, value, bad in zip(texts, values.to_pylist(), invalid.to_pylist(), strict=True):
        blank = text is None or not text.strip()
        assert (value is None) == (bad or blank)
        assert not (bad and blank)


@given(st.text(max_size=10))
def test_booleans_never_raise(text: str) -> None:
    value, invalid = _one(parse_booleans, text)
    assert invalid == (bool(text.strip()) and value is None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", 10), ("10.0", 10), (" 10 ", 10), ("-3", -3), ("+7.00", 7)],
)
def test_integers_written_by_spreadsheets(text: str, expected: int) -> None:
    assert _one(parse_integers, text) == (expected, False)


@pytest.mark.parametrize("text", ["1e3", "10.5", "ten", "1,000", "0x10", "10.0.0"])
def test_not_whole_numbers_are_quarantined(text: str) -> None:
    # 1e3 is a float in scientific notation: a count written that way is a sign of a
    # spreadsheet mishap, so it is flagged rather than guessed.
    assert _one(parse_integers, text) == (None, True)


@given(st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=20))
def test_number_parsers_never_raise(texts: list[str | None]) -> None:
    for parser in (parse_integers, parse_floats):
        values, invalid = parser(pa.array(texts, pa.string()))
        for text, value, bad in zip(texts, values.to_pylist(), invalid.to_pylist(), strict=True):
            blank = text is None or not text.strip()
            assert (value is None) == (bad or blank)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_csv_reader_raises_only_input_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(content)
    with contextlib.suppress(InputError):
        detect(path)
    try:
        table, header = read_strings(path)
    except InputError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert table.column_names[-1] == "source_row"
        assert set(header) <= set(table.column_names)


CIN_BYTES = CIN.read_bytes()
PSEUDO = Pseudonymiser(b"property-test-key" * 2)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=0, max_value=len(CIN_BYTES)),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(CIN_BYTES) - 1), st.binary(max_size=4)),
        max_size=4,
    ),
)
def test_cin_reader_on_damaged_bytes(
    tmp_path: Path, cut: int, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(CIN_BYTES[:cut])
    for at, new in edits:
        if at < len(data):
            data[at : at + len(new)] = new
    path = tmp_path / "damaged.xml"
    path.write_bytes(bytes(data))
    try:
        raws, _ = cin_census.read(path)
    except InputError:
        return
    for raw in raws:
        out = conform(raw, la_code=LA, load_id="L", source_file="f", pseudonymiser=PSEUDO)
        assert out.read == out.loaded + out.quarantined == raw.data.num_rows


def test_odd_but_valid_values_load_as_meant(tmp_path: Path, empty_warehouse: Path) -> None:
    home = _home(tmp_path / "home", empty_warehouse)
    for name in ("excel_serial_dates_missing.csv", "embedded_newlines_services.csv"):
        code, _, err = _invoke(["ingest", str(CORPUS / name), "--home", str(home), "--la-code", LA])
        assert code == 0, err
    with Warehouse.connect(f"duckdb://{home / 'warehouse.duckdb'}") as wh:
        starts = sorted(str(d.date()) for d in wh.table("missing").execute().start_date)
        assert starts == ["2023-10-01", "2024-03-31"]  # Excel days 45200 and 45382
        outcomes = set(wh.table("service_involvements").execute().outcome.dropna())
        assert outcomes == {"Closed: goals met.\nFamily thanked the team."}
