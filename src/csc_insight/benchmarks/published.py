"""DfE's published tables -> the published_values and statistical_neighbours tables.

Explore Education Statistics (EES) publishes every table as a CSV in one layout: the time and
place columns (``time_period``, ``time_identifier``, ``geographic_level``, ``country_code``,
``region_code``, ``old_la_code``, ``new_la_code``, ``la_name`` ...), then filter columns
(``category``, ``population_type``, ``care_leaver_age`` ...) and measures. Each file is
recognised by its columns (``SPECS``), turned into long tidy rows (one per area, year,
measure and filter combination) and written through one atomic load. DfE's symbols (c, z, x,
k, u) are kept beside a missing value, so a suppressed figure never looks like a zero.

The statistical-neighbour files (the 2025 model's ``sn_model_2025_wide.csv`` and the April
2021 groupings) name authorities by their old three-digit codes; they are stored by ONS
code with the old code kept. The files are never bundled: users download them (see
docs/benchmarking.md).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from csc_insight.datasets import la_codes
from csc_insight.datasets.tabular import sniff
from csc_insight.errors import InputError
from csc_insight.warehouse.model import table
from csc_insight.warehouse.store import FileTableReport, LoadBatch, Warehouse

PUBLISHED = "published_values"
NEIGHBOURS = "statistical_neighbours"
ENGLAND = "E92000001"
NATIONAL, REGIONAL, LOCAL_AUTHORITY = "National", "Regional", "Local authority"

# DfE's symbols for a figure that is not given, and what each means (EES guidance). "low"
# and ":" are older spellings of k and x.
SYMBOLS: dict[str, str] = {
    "c": "suppressed to protect confidentiality",
    "z": "not applicable",
    "x": "not available",
    "k": "rounds to zero, but is not zero",
    "u": "low reliability",
    "low": "rounds to zero, but is not zero",
    ":": "not available",
}

# The time and place columns every EES file starts with: never filters, never measures.
GEOGRAPHY = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
)
EES_REQUIRED = ("time_period", "geographic_level")


@dataclass(frozen=True)
class Spec:
    """One published table: how to recognise its file and which columns are filters."""

    source: str
    title: str
    signature: tuple[str, ...]
    filters: tuple[str, ...] = ()
    # Columns that are neither filters nor measures (e.g. a name beside a code).
    ignore: tuple[str, ...] = ()
    # For two files with the same columns: a value of a filter column that only this one has.
    marker: tuple[str, tuple[str, ...]] | None = None

    @property
    def label(self) -> str:
        return f"{self.source} ({', '.join(self.signature)})"


SPECS: tuple[Spec, ...] = (
    Spec(
        "b1",
        "B1: children in need (episodes and children, during the year and at 31 March)",
        ("At31_episodes", "Started_episodes"),
        ("category",),
    ),
    Spec(
        "c1",
        "C1: referrals, re-referrals within 12 months and referrals with no further action",
        ("referral_count", "rereferral_percent"),
        ("category",),
    ),
    Spec(
        "c3",
        "C3: factors identified at the end of assessment",
        ("Episodes_with_assessment_factor",),
        ("category",),
    ),
    Spec(
        "d3",
        "D3: child protection plans starting that were a second or subsequent plan",
        ("CPP_subsequent_percent", "CPP_start"),
        ("category",),
    ),
    Spec(
        "d5",
        "D5: child protection plans at 31 March by length of plan",
        ("CPP_At31",),
        ("category",),
    ),
    Spec(
        "cla_number_and_rate_per_10k_children",
        "Children looked after at 31 March, starting and ceasing, numbers and rates",
        ("population_type", "children_count", "rate_per_10000"),
        ("population_type",),
    ),
    Spec(
        "la_cla_placement_stability",
        "Placement stability of children looked after",
        ("cla_group", "placement_stability", "children_count"),
        ("cla_group", "placement_stability"),
    ),
    Spec(
        "la_cla_during_year_new_placements",
        "New placements during the year: location and reason for change",
        ("characteristic", "breakdown", "children_count"),
        ("characteristic", "breakdown"),
    ),
    Spec(
        "la_care_leavers_activity",
        "Care leavers aged 17 to 21: activity (education, employment or training)",
        ("care_leaver_age", "breakdown", "care_leaver_count"),
        ("care_leaver_age", "breakdown"),
        marker=("breakdown", ("Total in education, employment or training",)),
    ),
    Spec(
        "la_care_leavers_accommodation_suitability",
        "Care leavers aged 17 to 21: suitability of accommodation",
        ("care_leaver_age", "breakdown", "care_leaver_count"),
        ("care_leaver_age", "breakdown"),
        marker=("breakdown", ("Accommodation considered suitable", "Suitability total")),
    ),
    Spec(
        "national_cla_adopted_average_time_between_adoption_process_stages",
        "Children adopted: average time between adoption process stages (England only)",
        ("stage_of_adoption_process", "age_start_poc", "number"),
        ("cla_group", "stage_of_adoption_process", "age_start_poc"),
    ),
    Spec(
        "absence_la",
        "Absence of children in need and looked after, by local authority",
        ("social_care_group", "t_sess_possible"),
        ("absence_terms", "social_care_group", "phase_type_grouping"),
    ),
    Spec(
        "ons_mid_year_population",
        "ONS mid-year estimates of the child population (aged 0 to 17)",
        ("age_group", "population_estimate"),
        ("age_group",),
    ),
)
SPECS_BY_SOURCE: dict[str, Spec] = {s.source: s for s in SPECS}

# Census 2021 ethnic group (20 categories) by area, from ONS's custom dataset tool.
CENSUS_ETHNICITY = "census_2021_ethnic_group"
_CENSUS_LEVELS = {
    "countries": NATIONAL,
    "regions": REGIONAL,
    "upper tier local authorities": LOCAL_AUTHORITY,
}
_CENSUS_CODE = re.compile(r"^(?:\d{4} )?(.+?) code$", re.IGNORECASE)

# Statistical neighbours: the 2025 model file and the April 2021 groupings.
SN_2025, SN_2021 = "2025", "2021"
SN_MODELS = (SN_2025, SN_2021)
_SN_SIGNATURES = {
    SN_2025: ("old_la_code", "SN_1", "SN_1P"),
    SN_2021: ("LA num", "SN1", "SNP"),
}
# Files people will try that csc-insight recognises but does not need.
_NOT_NEEDED: dict[tuple[str, ...], str] = {
    ("LTLA23CD", "UTLA23CD"): (
        "This is ONS's lower-tier to upper-tier authority lookup; benchmarks do not need it "
        "(published figures are by upper-tier authority already). Nothing was loaded."
    ),
}

_TIME = re.compile(r"^(\d{4})(\d{2})?$")
_YEARS_MONTHS = re.compile(r"^(\d+):(\d{2})$")
DAYS_PER_MONTH = 365.25 / 12


@dataclass
class ImportedFile:
    """What one file gave: its kind, rows read and written, and notes worth telling."""

    path: str
    kind: str
    title: str
    rows_read: int = 0
    values: int = 0
    years: list[str] = field(default_factory=list)
    symbols: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    target_table: str = PUBLISHED

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "title": self.title,
            "table": self.target_table,
            "rows_read": self.rows_read,
            "values": self.values,
            "years": self.years,
            "symbols": self.symbols,
            "notes": self.notes,
        }


@dataclass
class ImportReport:
    """One ``benchmarks import`` run."""

    load_id: str | None
    files: list[ImportedFile]

    def to_json(self) -> dict[str, Any]:
        return {"load_id": self.load_id, "files": [f.to_json() for f in self.files]}


# --- reading ------------------------------------------------------------------------------


def _rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the data rows of a delimited text file (BOM and encoding handled)."""
    fmt = sniff(path)
    encoding = "utf-8-sig" if fmt.encoding in ("utf-8", "utf-8-sig") else fmt.encoding
    handle = path.open(encoding=encoding, newline="", errors="strict")
    reader = csv.reader(handle, delimiter=fmt.delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        handle.close()
        raise InputError(f"{path}: the file is empty.") from None

    def body() -> Iterator[list[str]]:
        with handle:
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield row

    return header, body()


def _expected_message(path: Path, header: list[str]) -> str:
    shown = ", ".join(header[:14]) + (", ..." if len(header) > 14 else "")
    kinds = "; ".join(s.label for s in SPECS)
    return (
        f"{path.name} is not a published table csc-insight recognises (its columns: {shown}). "
        "Expected an Explore Education Statistics CSV (columns time_period, geographic_level, "
        "region_code, old_la_code, new_la_code, la_name, then measures) with the columns of "
        f"one of: {kinds}; or a statistical-neighbour file (old_la_code, SN_1, SN_1P, ... for "
        "the 2025 model; LA num, SN1, SNP, ... for the 2021 groupings); or a Census 2021 "
        "ethnic group table (area code, Ethnic group (20 categories), Observation). "
        "Nothing was loaded."
    )


def detect(path: Path, header: list[str], sample: list[list[str]] | None = None) -> str:
    """The kind of file a header is: a spec's source, ``sn:2025``/``sn:2021`` or census."""
    names = set(header)
    for model, signature in _SN_SIGNATURES.items():
        if all(c in names for c in signature):
            return f"sn:{model}"
    for signature_cols, _ in _NOT_NEEDED.items():
        if all(c in names for c in signature_cols):
            return "not_needed:" + ",".join(signature_cols)
    lowered = [h.lower() for h in header]
    if "observation" in lowered and any(h.startswith("ethnic group") for h in lowered):
        return CENSUS_ETHNICITY
    if all(c in names for c in EES_REQUIRED):
        candidates = [s for s in SPECS if all(c in names for c in s.signature)]
        if len(candidates) > 1 and sample is not None:
            for spec in candidates:
                if spec.marker is None:
                    continue
                column, values = spec.marker
                index = header.index(column)
                if any(len(r) > index and r[index].strip() in values for r in sample):
                    return spec.source
            raise InputError(
                f"{path.name} has the columns of "
                f"{' and '.join(s.source for s in candidates)} but none of the values that "
                "tell them apart (e.g. 'Total in education, employment or training' or "
                "'Accommodation considered suitable' in breakdown). Nothing was loaded."
            )
        if candidates:
            return candidates[0].source
    raise InputError(_expected_message(path, header))


def parse_value(text: str) -> tuple[float | None, str | None]:
    """A published cell as (value, symbol): '22.6' -> (22.6, None), 'c' -> (None, 'c')."""
    cell = text.strip()
    if cell == "":
        return None, None
    if cell.lower() in SYMBOLS:
        return None, cell.lower()
    try:
        return float(cell.replace(",", "")), None
    except ValueError:
        return None, cell


def year_of(time_period: str) -> int | None:
    """The year a published period ends in: 2025 for '2025' and for '202425'."""
    m = _TIME.match(time_period.strip())
    if not m:
        return None
    return int(m.group(1)) + (1 if m.group(2) else 0)


@functools.lru_cache(maxsize=4096)
def area_code(level: str, country: str, region: str, old: str, new: str) -> tuple[str, str | None]:
    """(ONS code of the area, old LA code) for one published row.

    Authorities are keyed by the ONS code of their old LA code (the latest code where an
    authority was reorganised without a new old code, as the warehouse keys them), falling
    back to the row's own new_la_code.
    """
    if level == LOCAL_AUTHORITY:
        mapped = la_codes.ons_code(old) if old else ""
        return (mapped if la_codes.is_ons_code(mapped) else new or old), old or None
    if level == REGIONAL:
        return region or country, None
    return country or ENGLAND, None


def _breakdown(pairs: Iterable[tuple[str, str]]) -> str:
    return _breakdown_of(tuple(sorted(pairs)))


@functools.lru_cache(maxsize=4096)
def _breakdown_of(pairs: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(pairs), ensure_ascii=False, separators=(",", ":"))


def _published_rows(
    path: Path, spec: Spec, header: list[str], rows: Iterable[list[str]], report: ImportedFile
) -> list[dict[str, Any]]:
    index = {h: i for i, h in enumerate(header)}
    filters = [c for c in spec.filters if c in index]
    measures = [
        h
        for h in header
        if h
        and h not in GEOGRAPHY
        and h not in spec.filters
        and h not in spec.ignore
        and not h.startswith("column ")
    ]
    out: list[dict[str, Any]] = []
    symbols: Counter[str] = Counter()
    years: set[str] = set()
    unreadable: Counter[str] = Counter()

    def cell(row: list[str], name: str) -> str:
        i = index.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    for number, row in enumerate(rows, start=1):
        report.rows_read += 1
        level = cell(row, "geographic_level")
        period = cell(row, "time_period")
        year = year_of(period)
        if year is None:
            unreadable[f"time_period {period!r}"] += 1
            continue
        years.add(period)
        code, old = area_code(
            level,
            cell(row, "country_code"),
            cell(row, "region_code"),
            cell(row, "old_la_code"),
            cell(row, "new_la_code"),
        )
        name = (
            cell(row, "la_name")
            if level == LOCAL_AUTHORITY
            else cell(row, "region_name") or cell(row, "country_name")
        )
        key = _breakdown((f, cell(row, f)) for f in filters)
        base = {
            "source": spec.source,
            "time_period": period,
            "year": year,
            "geographic_level": level,
            "area_code": code,
            "area_name": name or None,
            "old_la_code": old,
            "region_code": cell(row, "region_code") or None,
            "breakdown": key,
            "source_file": path.name,
            "source_row": number,
        }
        for measure in measures:
            text = cell(row, measure)
            value, symbol = parse_value(text)
            name_out = measure
            if value is None and symbol is not None and symbol not in SYMBOLS:
                ym = _YEARS_MONTHS.match(symbol)
                if ym:  # adoption stages are "years:months" (01:07 = 1 year 7 months)
                    months = int(ym.group(1)) * 12 + int(ym.group(2))
                    out.append(base | {"measure": "average_months", "value": float(months)})
                    name_out, value, symbol = "average_days", months * DAYS_PER_MONTH, None
                else:
                    unreadable[f"{measure} {symbol!r}"] += 1
            if symbol is not None:
                symbols[symbol] += 1
            if value is None and symbol is None:
                continue  # a blank cell: nothing published, nothing to keep
            out.append(base | {"measure": name_out, "value": value, "symbol": symbol})
    report.years = sorted(years)
    report.symbols = {s: n for s, n in sorted(symbols.items()) if s in SYMBOLS}
    for what, n in unreadable.most_common(5):
        report.notes.append(f"{n} value(s) of {what} are not numbers or DfE symbols.")
    return out


def _census_rows(
    path: Path, header: list[str], rows: Iterable[list[str]], report: ImportedFile
) -> list[dict[str, Any]]:
    code_col = next(i for i, h in enumerate(header) if _CENSUS_CODE.match(h))
    area_label = _CENSUS_CODE.match(header[code_col]).group(1)  # type: ignore[union-attr]
    level = _CENSUS_LEVELS.get(area_label.strip().lower(), LOCAL_AUTHORITY)
    lowered = [h.lower() for h in header]
    group_col = next(
        i for i, h in enumerate(lowered) if h.startswith("ethnic group") and not h.endswith("code")
    )
    value_col = lowered.index("observation")
    out = []
    for number, row in enumerate(rows, start=1):
        report.rows_read += 1
        code = row[code_col].strip()
        if not code.startswith("E"):
            continue  # Wales: DfE's benchmarks are for England
        value, symbol = parse_value(row[value_col])
        out.append(
            {
                "source": CENSUS_ETHNICITY,
                "time_period": "2021",
                "year": 2021,
                "geographic_level": NATIONAL if code == ENGLAND else level,
                "area_code": code,
                "area_name": row[code_col + 1].strip() if code_col + 1 < len(row) else None,
                "old_la_code": None,
                "region_code": None,
                "measure": "observation",
                "breakdown": _breakdown([("ethnic_group", row[group_col].strip())]),
                "value": value,
                "symbol": symbol,
                "source_file": path.name,
                "source_row": number,
            }
        )
    report.years = ["2021"]
    return out


def _neighbour_rows(
    path: Path, model: str, header: list[str], rows: Iterable[list[str]], report: ImportedFile
) -> list[dict[str, Any]]:
    """Ten neighbours per authority, in order, with how close each is."""
    if model == SN_2025:
        code_col, name_col = header.index("old_la_code"), header.index("la_name")
        pairs = [
            (header.index(f"SN_{k}"), header.index(f"SN_{k}P"))
            for k in range(1, 11)
            if f"SN_{k}" in header
        ]
    else:
        code_col, name_col = header.index("LA num"), header.index("LA Name")
        pairs = [(header.index(f"SN{k}"), header.index(f"SN{k}") + 1) for k in range(1, 11)]
    table_rows: list[list[str]] = list(rows)
    names = {r[code_col].strip(): r[name_col].strip() for r in table_rows if len(r) > name_col}
    out: list[dict[str, Any]] = []
    for number, row in enumerate(table_rows, start=1):
        report.rows_read += 1
        old = row[code_col].strip()
        if not old:
            continue
        for rank, (code_i, close_i) in enumerate(pairs, start=1):
            neighbour = row[code_i].strip() if code_i < len(row) else ""
            if not neighbour:
                continue
            closeness = row[close_i].strip() if close_i < len(row) else ""
            out.append(
                {
                    "model": model,
                    "la_code": la_codes.ons_code(old),
                    "old_la_code": old,
                    "la_name": names.get(old),
                    "rank": rank,
                    "neighbour_code": la_codes.ons_code(neighbour),
                    "neighbour_old_code": neighbour,
                    "neighbour_name": names.get(neighbour),
                    "closeness": closeness or None,
                    "source_file": path.name,
                    "source_row": number,
                }
            )
    unknown = sorted(
        {str(r["old_la_code"]) for r in out if not la_codes.is_ons_code(str(r["la_code"]))}
    )
    if unknown:
        report.notes.append(
            f"{len(unknown)} authorities have no current ONS code (e.g. {', '.join(unknown[:3])}:"
            " reorganised since); they are kept under their old code."
        )
    return out


def read_file(path: Path) -> tuple[ImportedFile, str, list[dict[str, Any]]]:
    """One file as (report, target table, rows ready for the warehouse, lineage aside)."""
    if not path.is_file():
        raise InputError(f"Cannot find {path}.")
    header, body = _rows(path)
    sample: list[list[str]] = []
    for row in body:
        sample.append(row)
        if len(sample) >= 2000:
            break
    rows = _chain(sample, body)
    kind = detect(path, header, sample)
    if kind.startswith("not_needed:"):
        signature = tuple(kind.split(":", 1)[1].split(","))
        report = ImportedFile(str(path), "not needed", "Not a benchmark file")
        report.notes.append(_NOT_NEEDED[signature])
        return report, PUBLISHED, []
    if kind.startswith("sn:"):
        model = kind.split(":", 1)[1]
        title = f"Statistical neighbours ({model} {'model' if model == SN_2025 else 'groupings'})"
        report = ImportedFile(str(path), f"statistical_neighbours_{model}", title)
        report.target_table = NEIGHBOURS
        out = _neighbour_rows(path, model, header, rows, report)
        report.years = [model]
        report.values = len(out)
        return report, NEIGHBOURS, out
    if kind == CENSUS_ETHNICITY:
        report = ImportedFile(str(path), kind, "Census 2021: population by ethnic group")
        out = _census_rows(path, header, rows, report)
    else:
        spec = SPECS_BY_SOURCE[kind]
        report = ImportedFile(str(path), kind, spec.title)
        out = _published_rows(path, spec, header, rows, report)
    report.values = len(out)
    return report, PUBLISHED, out


def _chain(first: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from first
    yield from rest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_files(warehouse: Warehouse, paths: list[Path]) -> ImportReport:
    """Load published tables and neighbour files in one atomic load (re-imports replace)."""
    batch = LoadBatch(warehouse.new_load_id(), datetime.now(UTC))
    reports: list[ImportedFile] = []
    for path in paths:
        report, target, rows = read_file(path)
        reports.append(report)
        if not rows:
            continue
        for row in rows:
            row["load_id"] = batch.load_id
        schema = table(target).schema().to_pyarrow()
        columns = {name: [row.get(name) for row in rows] for name in schema.names}
        batch.add(target, pa.Table.from_pydict(columns, schema=schema))
        batch.files.append(
            FileTableReport(
                source_file=path.name,
                content_sha256=_sha256(path),
                dataset=f"dfe_published.{report.kind}",
                target_table=target,
                collection_year=None,
                read=report.rows_read,
                loaded=report.rows_read,
                quarantined=0,
            )
        )
    if not batch.files:
        return ImportReport(None, reports)
    warehouse.commit_load(batch)
    return ImportReport(batch.load_id, reports)


__all__ = [
    "ENGLAND",
    "NEIGHBOURS",
    "PUBLISHED",
    "SN_2021",
    "SN_2025",
    "SPECS",
    "SYMBOLS",
    "ImportReport",
    "ImportedFile",
    "detect",
    "import_files",
    "parse_value",
    "read_file",
    "year_of",
]
