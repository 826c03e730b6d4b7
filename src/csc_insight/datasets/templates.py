"""Templates and guidance for the three local extracts, written from their column contract.

``formats.LOCAL_CONTRACTS`` says which columns each extract must and may have; the canonical
model says what each column means and its type. This module joins the two into a guide per
column, and writes it as an empty CSV to fill in, an xlsx workbook (the data sheet plus a
"Guidance" sheet) and the docs/local-data.md page
(``python -m csc_insight.datasets.templates > docs/local-data.md``; a test keeps the page
and the code in step).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from csc_insight.datasets import formats
from csc_insight.errors import ConfigError
from csc_insight.warehouse import model

ALL = "all"
FORMATS = ("xlsx", "csv")
DATES = "yyyy-mm-dd or dd/mm/yyyy (an Excel date cell is fine)"
_TYPE_FORMAT = {
    "date": f"date: {DATES}",
    "int64": "whole number",
    "float64": "number",
    "boolean": "Y or N (yes/no, true/false and 1/0 are accepted too)",
    "string": "text",
}
# The canonical table each extract's columns are described by (children for the child
# characteristics a service extract may carry).
_TABLES = {
    "service_involvements": ("service_involvements", "children"),
    "attendance": ("attendance",),
    "feedback": ("feedback",),
}
# Where the model's wording is about the warehouse rather than the file, the file's own.
_MEANING = {
    "child_id": "Your own identifier of the child (e.g. the person ID in the case management "
    "system), the same one your SSDA903 and CIN returns use so records link up. csc-insight "
    "replaces it by a pseudonym as the file is read; it is never stored.",
    "sex": "Sex as the CIN census and SSDA903 code it: 1 male, 2 female, 0 not known, "
    "9 not stated.",
    "date_of_birth": "Date of birth of the child.",
    "disability": "Whether the child has a disability.",
    "locality": "The authority's own locality or area team name for where the child lives.",
}
_CODES = {
    "sex": "1, 2, 0 or 9",
    "ethnicity": "DfE ethnicity code, e.g. WBRI",
    "respondent_type": "child, parent/carer, professional or other",
}
LIKERT_COLUMN = f"{formats.LIKERT_PREFIX}<question>"
_EXAMPLES: dict[str, dict[str, str]] = {
    "service_involvements": {
        "involvement_id": "SI000123",
        "child_id": "123456",
        "service": "Family Support",
        "date_requested": "2024-04-01",
        "team": "Family Support North",
        "date_started": "2024-04-16",
        "date_ended": "2024-09-30",
        "outcome": "Completed - needs met",
        "sex": "2",
        "date_of_birth": "2015-10-20",
        "ethnicity": "WBRI",
        "disability": "N",
        "locality": "North",
    },
    "attendance": {
        "child_id": "123456",
        "period": "2023-24 Spring",
        "period_start": "2024-01-04",
        "period_end": "2024-03-22",
        "sessions_possible": "104",
        "sessions_attended": "97",
    },
    "feedback": {
        "response_id": "FB000456",
        "service": "Family Support",
        "response_date": "2024-07-21",
        "respondent_type": "parent/carer",
        "child_id": "123456",
        "free_text": "Having someone to talk to every week made a big difference.",
        LIKERT_COLUMN: "4",
    },
}


@dataclass(frozen=True)
class ColumnGuide:
    """What one column of a local extract holds."""

    name: str
    required: bool
    format: str
    meaning: str
    example: str


def names() -> tuple[str, ...]:
    """The local extracts a template can be written for."""
    return tuple(formats.LOCAL_CONTRACTS)


def _contract(name: str) -> formats.LocalContract:
    try:
        return formats.LOCAL_CONTRACTS[name]
    except KeyError:
        raise ConfigError(
            f"There is no local extract called {name!r}: choose one of "
            f"{', '.join(names())} or {ALL}."
        ) from None


def _model_column(extract: str, column: str) -> model.Column:
    for table in _TABLES[extract]:
        try:
            return model.table(table).column(column)
        except KeyError:
            continue
    raise KeyError(f"{column} of {extract} is not in the model")  # pragma: no cover


def guide(name: str) -> list[ColumnGuide]:
    """Every column of extract ``name``: required first, in contract order."""
    contract = _contract(name)
    examples = _EXAMPLES[name]
    out: list[ColumnGuide] = []
    for column in (*contract.required, *contract.optional):
        c = _model_column(name, column)
        fmt = _TYPE_FORMAT[c.dtype]
        if column in _CODES:
            fmt = f"code: {_CODES[column]}"
        meaning = _MEANING.get(column, c.description.replace("null", "blank"))
        out.append(ColumnGuide(column, column in contract.required, fmt, meaning, examples[column]))
    if name == "feedback":
        out.append(
            ColumnGuide(
                LIKERT_COLUMN,
                False,
                "whole number from 1 (very poor) to 5 (very good); blank if not answered",
                "One column per survey question, named q_ and the question (e.g. "
                "q_felt_listened_to). Add as many as the survey has.",
                examples[LIKERT_COLUMN],
            )
        )
    return out


def header(name: str) -> list[str]:
    """The header row of the template (feedback with one example question column)."""
    return ["q_felt_listened_to" if g.name == LIKERT_COLUMN else g.name for g in guide(name)]


_GENERAL = (
    "Keep the header row: columns may come in any order, their names are matched ignoring "
    "case, spaces and punctuation, and extra columns are ignored.",
    "One file (or workbook) per extract. In a workbook the first sheet whose header row has "
    "every required column is read; a title above the header row is fine.",
    f"Dates: {DATES}.",
    "Blank cells are fine in optional columns. A row missing a required value is not loaded; "
    "the ingest report says which row and why.",
)


# --- writers ---------------------------------------------------------------------------
def write_csv(name: str, path: Path) -> Path:
    """An empty CSV with the header row of extract ``name``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(header(name))
    return path


def write_xlsx(name: str, path: Path) -> Path:
    """A workbook: the data sheet (header row only) and a Guidance sheet."""
    columns = guide(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    try:
        bold = book.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1})
        required = book.add_format({"bold": True, "bg_color": "#FFDD00", "border": 1})
        text = book.add_format({"num_format": "@"})
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        title = book.add_format({"bold": True, "font_size": 14})

        data = book.add_worksheet(name[:31])
        for i, (label, g) in enumerate(zip(header(name), columns, strict=True)):
            data.write_string(0, i, label, required if g.required else bold)
            c_type = g.format.split(":")[0]
            data.set_column(i, i, max(14, len(label) + 2), date if c_type == "date" else text)
            if g.format.startswith("code:") and g.name in ("sex", "respondent_type"):
                choices = ["1", "2", "0", "9"] if g.name == "sex" else _respondents()
                data.data_validation(
                    1, i, 100_000, i, {"validate": "list", "source": choices, "ignore_blank": True}
                )
            elif g.name == "disability":
                data.data_validation(1, i, 100_000, i, {"validate": "list", "source": ["Y", "N"]})
        data.freeze_panes(1, 0)

        sheet = book.add_worksheet("Guidance")
        contract = formats.LOCAL_CONTRACTS[name]
        sheet.write_string(0, 0, f"{name}: {contract.description}", title)
        row = 1
        for line in _GENERAL:
            sheet.write_string(row, 0, line)
            row += 1
        sheet.write_string(
            row, 0, "Required columns are shaded yellow on the data sheet; the rest are optional."
        )
        row += 2
        for i, label in enumerate(("column", "required or optional", "format", "meaning")):
            sheet.write_string(row, i, label, bold)
        sheet.write_string(row, 4, "example", bold)
        for g in columns:
            row += 1
            sheet.write_string(row, 0, g.name)
            sheet.write_string(row, 1, "required" if g.required else "optional")
            sheet.write_string(row, 2, g.format, wrap)
            sheet.write_string(row, 3, g.meaning, wrap)
            sheet.write_string(row, 4, g.example)
        row += 2
        sheet.write_string(row, 0, "An example row (for illustration; do not copy it in):", bold)
        for i, (label, g) in enumerate(zip(header(name), columns, strict=True)):
            sheet.write_string(row + 1, i, label, bold)
            sheet.write_string(row + 2, i, g.example)
        sheet.set_column(0, 0, 26)
        sheet.set_column(1, 1, 20)
        sheet.set_column(2, 2, 40)
        sheet.set_column(3, 3, 70)
        sheet.set_column(4, max(4, len(columns) - 1), 22)
    finally:
        book.close()
    return path


def _respondents() -> list[str]:
    return [v.strip() for v in _CODES["respondent_type"].replace(" or ", ", ").split(",")]


def write(name: str, out: Path, fmt: str | None = None) -> list[Path]:
    """Write the template(s): one extract to a .csv or .xlsx path, or ``all`` into a folder.

    The format comes from the path's suffix; for ``all`` (or a folder) from ``fmt``
    (xlsx unless told otherwise).
    """
    if name == ALL or out.is_dir() or not out.suffix:
        chosen = (fmt or "xlsx").lower().lstrip(".")
        if chosen not in FORMATS:
            raise ConfigError(f"The template format must be xlsx or csv, not {fmt!r}.")
        targets = names() if name == ALL else (_contract(name).name,)
        writer = write_xlsx if chosen == "xlsx" else write_csv
        return [writer(n, out / f"{n}.{chosen}") for n in targets]
    _contract(name)
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ConfigError(f"Write the template as .xlsx or .csv, not {out.suffix!r}.")
    return [(write_xlsx if suffix == "xlsx" else write_csv)(name, out)]


# --- docs/local-data.md ----------------------------------------------------------------
_INTRO = """\
# Local data: the column contract

Generated from `src/csc_insight/datasets/formats.py` (`LOCAL_CONTRACTS`) and the data model by
`python -m csc_insight.datasets.templates > docs/local-data.md`; a test fails if this page and
the code disagree.

Besides the statutory returns, csc-insight reads three extracts an authority makes from its
own systems: **service involvements** (requests for local services, early help and
commissioned services), **school attendance** and **feedback** from children, families and
professionals. Each is a CSV file or an Excel workbook (.xlsx) with the columns below.
`csc-insight template NAME --out FILE.xlsx` (or `.csv`) writes an empty template with a
Guidance sheet; `csc-insight template all --out FOLDER` writes all three.

How the files are read:
"""


def local_data_markdown() -> str:
    """The whole docs/local-data.md page."""
    lines = [_INTRO]
    lines += [f"- {line}" for line in _GENERAL]
    lines += [
        "- Child identifiers are pseudonymised with a keyed hash as the file is read (see "
        "[privacy](privacy.md)); a child named in any extract counts as a child known to the "
        "authority, so services reaching children outside social care show in equal-access "
        "analysis.",
        "",
    ]
    for name, contract in formats.LOCAL_CONTRACTS.items():
        lines += [f"## `{name}`", "", contract.description, ""]
        lines += [
            f"Required: {', '.join(f'`{c}`' for c in contract.required)}.",
            "",
            "| column | required | format | meaning | example |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{g.name}` | {'yes' if g.required else ''} | {g.format} | {g.meaning} | "
            f"{g.example} |"
            for g in guide(name)
        ]
        lines += ["", "Example file:", "", "```csv"]
        lines.append(",".join(header(name)))
        lines.append(",".join(_csv_cell(g.example) for g in guide(name)))
        lines += ["```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _csv_cell(value: str) -> str:
    return f'"{value}"' if any(ch in value for ch in ',"\n') else value


if __name__ == "__main__":
    print(local_data_markdown(), end="")
