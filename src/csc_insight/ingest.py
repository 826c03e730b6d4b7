"""Ingest: files in, one atomic load out, with a reconciliation of every row read.

Every file is detected by content, read, typed against the canonical model (rows that cannot
be typed are quarantined with a reason) and the lot is committed as one load: either all of
it is in the warehouse or none of it is.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from csc_insight import forking, settings
from csc_insight.datasets import annex_a, cin_census, local, population, ssda903, ssda903_xml
from csc_insight.datasets.conform import Conformed, RawTable, conform
from csc_insight.datasets.detect import (
    ANNEX_A,
    CIN_CENSUS,
    POPULATION,
    SSDA903_XML,
    Detection,
    detect,
    walk,
)
from csc_insight.datasets.la_codes import ons_code
from csc_insight.datasets.tabular import sniff
from csc_insight.errors import InputError
from csc_insight.privacy.options import PrivacyOptions
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.privacy.reidentification import LookupCollector
from csc_insight.warehouse.batch import FileTableReport, LoadBatch, new_load_id
from csc_insight.warehouse.model import table as model_table

if TYPE_CHECKING:
    from csc_insight.warehouse.store import Warehouse

Progress = Callable[[str, float], None]
ONS_POPULATION = f"{POPULATION}.{population.ONS_MID_YEAR}"
CENSUS_POPULATION = f"{POPULATION}.{population.CENSUS_ETHNICITY}"
# Files that name an authority on every row, so they need none for the whole file.
PER_ROW_AUTHORITY = frozenset({CIN_CENSUS, ONS_POPULATION, CENSUS_POPULATION})
_YEAR_IN_PATH = re.compile(r"(?<!\d)(20\d\d)(?:[-_/](\d\d))?(?!\d)")


@dataclass
class TableCount:
    """Rows of one file for one canonical table."""

    table: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    # Of ``loaded``: rows that gave way to a record the warehouse already held from a newer
    # return (docs/ingest.md section 6).
    superseded: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "superseded": self.superseded,
        }


@dataclass
class FileResult:
    """What one file contributed."""

    path: Path
    source_file: str
    dataset: str
    la_code: str
    collection_year: int | None
    sha256: str
    tables: dict[str, TableCount] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": str(self.path),
            "dataset": self.dataset,
            "tables": [t.to_json() for t in self.tables.values()],
            "source_file": self.source_file,
            "la_code": self.la_code,
            "collection_year": self.collection_year,
        }
        if self.notes:
            out["notes"] = self.notes
        return out


@dataclass
class AlreadyLoaded:
    """A file whose exact content an earlier load (or an earlier file of this one) holds."""

    path: Path
    load_id: str
    loaded_at: datetime | None
    same_as: str
    # Set when the earlier copy was parsed into this folder rather than loaded.
    parsed_into: str | None = None

    def sentence(self) -> str:
        if self.loaded_at is not None and self.parsed_into is not None:
            return (
                f"{self.path}: already parsed on {self.loaded_at:%d/%m/%Y at %H:%M} into "
                f"{self.parsed_into} (as {self.same_as}); it was not parsed again."
            )
        if self.loaded_at is None:
            return (
                f"{self.path}: has the same content as {self.same_as} in this load; "
                "it was read once."
            )
        return (
            f"{self.path}: already loaded on {self.loaded_at:%d/%m/%Y at %H:%M} in load "
            f"{self.load_id} (as {self.same_as}); nothing was added."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "loaded_in": self.load_id,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "same_as": self.same_as,
            "message": self.sentence(),
        }


@dataclass
class IngestReport:
    """The reconciliation of one ingest run.

    ``files`` were read (every row loaded or quarantined); ``skipped`` are not a dataset
    csc-insight reads; ``failed`` are datasets that could not be read at all (nothing from
    them was loaded); ``already_loaded`` were loaded before and not read again. ``load_id``
    is None when nothing was written (no file read).
    """

    load_id: str | None
    files: list[FileResult]
    skipped: list[tuple[Path, str]]
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    already_loaded: list[AlreadyLoaded] = field(default_factory=list)

    def nothing_loaded(self) -> str | None:
        """Why not a single row was loaded, or None if some were (or all were loaded before)."""
        if self.totals()["loaded"]:
            return None
        if self.already_loaded and not self.failed and not self.totals()["read"]:
            return None
        if self.totals()["read"]:
            return "Nothing was loaded: every row read was quarantined (see the reasons above)."
        if self.failed:
            return "Nothing was loaded: no file could be read (see the reasons above)."
        if self.files:
            return "Nothing was loaded: the files hold no rows, only column names."
        if self.skipped:
            return (
                "Nothing was loaded: none of the files is an SSDA903 table, CIN census, "
                "Annex A workbook or local extract (see the reasons above)."
            )
        return "Nothing was loaded: there were no files to read."

    def totals(self) -> dict[str, int]:
        counts = [t for f in self.files for t in f.tables.values()]
        return {
            "read": sum(t.read for t in counts),
            "loaded": sum(t.loaded for t in counts),
            "quarantined": sum(t.quarantined for t in counts),
            "superseded": sum(t.superseded for t in counts),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "files": [f.to_json() for f in self.files],
            "totals": self.totals(),
            "skipped": [{"path": str(p), "reason": r} for p, r in self.skipped],
            "failed": [{"path": str(p), "reason": r} for p, r in self.failed],
            "already_loaded": [a.to_json() for a in self.already_loaded],
            "quarantine_reasons": self.quarantine_reasons,
            "nothing_loaded": self.nothing_loaded(),
        }


@dataclass
class ReadFile:
    """One file after reading and conforming: what it feeds, ready to commit or to save."""

    result: FileResult
    contributed: list[tuple[str, Conformed]]
    # Where the file comes in a load (load_order): Annex A last, oldest return first.
    order: tuple[bool, int, str]


@dataclass
class ReadFiles:
    """Phase one of a load: every file read and conformed, nothing written yet.

    ``files`` are in load order (oldest collection year first), the order the commit needs
    so that, within a load, the newer return wins.
    """

    load_id: str
    started: datetime
    files: list[ReadFile]
    skipped: list[tuple[Path, str]]
    failed: list[tuple[Path, str]]
    already: list[AlreadyLoaded]


def ingest(
    paths: list[Path],
    warehouse: Warehouse,
    pseudonymiser: Pseudonymiser,
    *,
    la_code: str | None = None,
    collection_year: int | None = None,
    progress: Progress | None = None,
    privacy: PrivacyOptions | None = None,
) -> IngestReport:
    """Load every file under ``paths`` into ``warehouse`` as one atomic load.

    ``privacy`` sets how much detail is kept (dates of birth, postcodes) and whether the
    re-identification lookup is written; by default, everything as the model describes it.
    """
    return _ingest(
        paths,
        lambda: warehouse,
        pseudonymiser,
        warehouse.loaded_files(),
        la_code=la_code,
        collection_year=collection_year,
        progress=progress,
        privacy=privacy,
    )[1]


def ingest_new(
    paths: list[Path],
    open_warehouse: Callable[[], Warehouse],
    pseudonymiser: Pseudonymiser,
    *,
    la_code: str | None = None,
    collection_year: int | None = None,
    progress: Progress | None = None,
) -> tuple[Warehouse, IngestReport]:
    """The first load into a new warehouse, which ``open_warehouse`` makes while the files
    are being read (``validate PATH``'s scratch warehouse: there is nothing to skip)."""
    return _ingest(
        paths,
        open_warehouse,
        pseudonymiser,
        {},
        la_code=la_code,
        collection_year=collection_year,
        progress=progress,
    )


def _ingest(
    paths: list[Path],
    open_warehouse: Callable[[], Warehouse],
    pseudonymiser: Pseudonymiser,
    earlier: Mapping[str, tuple[str, str, datetime | None]],
    *,
    la_code: str | None,
    collection_year: int | None,
    progress: Progress | None,
    privacy: PrivacyOptions | None = None,
) -> tuple[Warehouse, IngestReport]:
    report = progress or (lambda _message, _fraction: None)
    opened: list[Warehouse] = []
    read = read_files(
        paths,
        pseudonymiser,
        load_id=new_load_id(),
        earlier=earlier,
        la_code=la_code,
        collection_year=collection_year,
        progress=report,
        privacy=privacy,
        meanwhile=lambda: opened.append(open_warehouse()),
    )
    warehouse = opened[0] if opened else open_warehouse()
    report("Saving to the warehouse", 0.99)
    done = commit_files(read, warehouse)
    report("Done", 1.0)
    return warehouse, done


def read_files(
    paths: list[Path],
    pseudonymiser: Pseudonymiser,
    *,
    load_id: str,
    earlier: Mapping[str, tuple[str, str, datetime | None]],
    la_code: str | None = None,
    collection_year: int | None = None,
    progress: Progress | None = None,
    privacy: PrivacyOptions | None = None,
    wanted: Callable[[str], bool] | None = None,
    context_from_all: bool = False,
    processes: int | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> ReadFiles:
    """Phase one: detect, read, conform and pseudonymise every file under ``paths``.

    ``earlier`` maps the SHA-256 of content already loaded (or saved) to (load id, file name,
    when), so such files are not read again; ``wanted`` (by SHA-256) picks this process's
    share of the files when several parse the same list. With ``context_from_all``, the
    authority, collection years and names come from every file given, read now or not, so
    every share (and every re-run) agrees on them.

    The files are read by ``processes`` processes (default: the read_processes setting);
    ``meanwhile`` runs in this one while the others start (see forking.share).
    """
    options = privacy or PrivacyOptions()
    lookup = LookupCollector() if options.reidentification_lookup else None
    report = progress or (lambda _message, _fraction: None)
    started = datetime.now(UTC)
    found = walk([Path(p) for p in paths])
    report(f"Looking at {len(found)} file(s)", 0.0)

    detections: list[tuple[Detection, Path]] = []
    skipped: list[tuple[Path, str]] = []
    failed: list[tuple[Path, str]] = []
    already: list[AlreadyLoaded] = []
    hashes: dict[Path, str] = {}
    seen: dict[str, Path] = {}
    context: list[tuple[Detection, Path]] = []
    for path, root in found:
        try:
            d = detect(path)
            sha = _sha256(path) if d.recognised else ""
        except InputError as exc:
            failed.append((path, _plain(exc, path)))
            continue
        if not d.recognised:
            skipped.append((path, d.reason or "not recognised"))
            continue
        if sha not in seen:
            context.append((d, root))
        if sha in earlier:
            previous = earlier[sha]
            already.append(AlreadyLoaded(path, previous[0], previous[2], previous[1]))
        elif sha in seen:
            already.append(AlreadyLoaded(path, load_id, None, str(seen[sha])))
        else:
            seen[sha] = path
            hashes[path] = sha
            detections.append((d, root))

    if not context_from_all:
        context = detections
    default_la = _default_la(context, la_code)
    years = _collection_years(context, collection_year)
    names = _source_names(context)
    if wanted is not None:
        detections = [(d, root) for d, root in detections if wanted(hashes[d.path])]
    # Oldest return first: within a load the last row for a key wins. Annex A workbooks
    # last, so their records can be linked to the referrals of the CIN census files.
    detections.sort(key=lambda dr: load_order(years.get(dr[0].path), dr[0].path, dr[0].dataset))
    reader = os.getpid()
    position = {d.path: i for i, (d, _root) in enumerate(detections)}
    reached = [0.0]

    def read_group(group: list[Detection]) -> GroupRead:
        # A group's files share the referrals that Annex A lists 4 to 7 are linked to.
        referrals = annex_a.Referrals()
        collected = LookupCollector() if lookup is not None else None
        done: list[tuple[Path, ReadFile | str]] = []
        for d in group:
            if os.getpid() == reader:  # a forked reader must not draw this process's bar
                # Files are taken largest first, so the bar moves by the furthest file read.
                reached[0] = max(reached[0], position[d.path] / len(detections))
                report(f"Reading {d.path.name} ({d.dataset})", reached[0])
            file_la = _file_la(d, la_code, default_la)
            result = FileResult(
                d.path, names[d.path], d.dataset or "", file_la, years.get(d.path), hashes[d.path]
            )
            order = load_order(years.get(d.path), d.path, d.dataset)
            read = _read_one(
                d, result, pseudonymiser, load_id, options, collected, referrals, order
            )
            done.append((d.path, read))
        return GroupRead(done, collected)

    groups = _reading_groups(
        [d for d, _root in detections], lambda d: _file_la(d, la_code, default_la)
    )
    files: list[ReadFile] = []
    outcomes: dict[Path, ReadFile | str] = {}
    for group_read in forking.share(
        groups, read_group, read_processes() if processes is None else processes, meanwhile
    ):
        outcomes.update(group_read.files)
        if lookup is not None and group_read.lookup is not None:
            lookup.merge(group_read.lookup)
    for d, _root in detections:  # load order
        outcome = outcomes[d.path]
        if isinstance(outcome, str):
            failed.append((d.path, outcome))
        else:
            files.append(outcome)

    if lookup is not None and options.home is not None:
        # Written before the load commits: a lookup entry without rows is harmless, rows an
        # analyst cannot re-identify after asking for the lookup are not.
        lookup.write(options.home, pseudonymiser)
    return ReadFiles(load_id, started, files, skipped, failed, already)


@dataclass
class GroupRead:
    """What reading one group of files gave: each file's result (or why it failed)."""

    files: list[tuple[Path, ReadFile | str]]
    lookup: LookupCollector | None


def read_processes() -> int:
    """How many processes read a load's files (the read_processes setting; at least 1)."""
    try:
        return max(1, int(settings.get("read_processes")))
    except ValueError:
        return 1


def _reading_groups(
    detections: list[Detection], authority: Callable[[Detection], str]
) -> list[list[Detection]]:
    """The files in groups that can be read apart, in load order within each, largest first.

    An authority's CIN census files and Annex A workbooks are one group (Annex A lists 4 to
    7 are linked to the census's referrals, in load order); every other file is read alone.
    """
    linked: dict[str, list[Detection]] = {}
    groups: list[list[Detection]] = []
    for d in detections:
        if d.dataset in (CIN_CENSUS, ANNEX_A):
            key = authority(d)
            if key not in linked:
                linked[key] = []
                groups.append(linked[key])
            linked[key].append(d)
        else:
            groups.append([d])
    return sorted(groups, key=lambda g: -sum(_reading_cost(d) for d in g))


def _reading_cost(d: Detection) -> float:
    """A rough guess at how long a file takes to read: its size, a workbook's much more
    (it is compressed and every cell becomes a Python object)."""
    try:
        size = d.path.stat().st_size
    except OSError:
        return 0.0
    return size * (4.0 if d.dataset == ANNEX_A else 1.0)


def _read_one(
    d: Detection,
    result: FileResult,
    pseudonymiser: Pseudonymiser,
    load_id: str,
    options: PrivacyOptions,
    lookup: LookupCollector | None,
    referrals: annex_a.Referrals,
    order: tuple[bool, int, str],
) -> ReadFile | str:
    """One file read and counted, or, if it could not be read, the reason in plain words."""
    try:
        contributed = _read_file(d, result, pseudonymiser, load_id, options, lookup, referrals)
    except InputError as exc:
        label = "CIN census XML" if d.dataset == CIN_CENSUS else "XML"
        return _plain(exc, d.path, label)
    except Exception as exc:  # a reader bug must not cost the user the other files
        return _unexpected(exc)
    result.notes[:0] = _text_notes(d)
    if contributed and not any(c.read for _, c in contributed):
        result.notes.append(
            "The file has a header row but no data rows: there was nothing to load."
        )
    for _dataset, conformed in contributed:
        count = result.tables.setdefault(conformed.table, TableCount(conformed.table))
        count.read += conformed.read
        count.loaded += conformed.loaded
        count.quarantined += conformed.quarantined
    return ReadFile(result, contributed, order)


def load_order(
    collection_year: int | None, path: Path | str, dataset: str | None
) -> tuple[bool, int, str]:
    """Where a file comes in a load: oldest return first, so the newest wins a key; Annex A
    workbooks after every return, whose referrals they link to."""
    return (dataset == ANNEX_A, collection_year or 0, str(path))


def commit_files(read: ReadFiles, warehouse: Warehouse) -> IngestReport:
    """Phase two: write what phase one read as one load, and report it."""
    batch = build_batch(read)
    if batch.files:
        warehouse.commit_load(batch)
        record_superseded(read, batch)
    return ingest_report(read, quarantine_reasons(read.files), written=bool(batch.files))


def reconciliation(result: FileResult, dataset: str, counts: TableCount) -> FileTableReport:
    """The load_files row of one file and one table it feeds."""
    return FileTableReport(
        source_file=result.source_file,
        content_sha256=result.sha256,
        dataset=dataset,
        target_table=counts.table,
        collection_year=result.collection_year,
        read=counts.read,
        loaded=counts.loaded,
        quarantined=counts.quarantined,
    )


def build_batch(read: ReadFiles) -> LoadBatch:
    """The load's batch: rows in load order, quarantine and the per-file reconciliation.

    Each table's rows carry the index of their reconciliation row (``part``), so the commit
    can count the rows that gave way to a newer return already loaded.
    """
    batch = LoadBatch(load_id=read.load_id, started_at=read.started)
    for f in read.files:
        for dataset, conformed in f.contributed:
            counts = TableCount(
                conformed.table, conformed.read, conformed.loaded, conformed.quarantined
            )
            batch.files.append(reconciliation(f.result, dataset, counts))
            batch.add(
                conformed.table,
                conformed.rows,
                part=len(batch.files) - 1,
                gives_way=f.result.dataset == ANNEX_A,
            )
            if conformed.quarantined:
                batch.quarantine.append(conformed.quarantine)
    return batch


def record_superseded(read: ReadFiles, batch: LoadBatch) -> None:
    """After the commit: each file's rows that gave way to a newer return, and a note."""
    parts = iter(batch.files)
    for f in read.files:
        for _dataset, conformed in f.contributed:
            f.result.tables[conformed.table].superseded += next(parts).superseded
    for f in read.files:
        note = _superseded_note(f.result)
        if note:
            f.result.notes.append(note)


def quarantine_reasons(files: Iterable[ReadFile]) -> dict[str, int]:
    """Quarantined rows by kind of reason (quoted values removed), over ``files``."""
    reasons: Counter[str] = Counter()
    for f in files:
        for _dataset, conformed in f.contributed:
            if conformed.quarantined:
                reasons.update(reason_kinds(conformed.quarantine))
    return dict(reasons)


def ingest_report(read: ReadFiles, reasons: dict[str, int], *, written: bool) -> IngestReport:
    """The reconciliation of a load that phase one read (``written``: a load was committed)."""
    return IngestReport(
        read.load_id if written else None,
        [f.result for f in read.files],
        read.skipped,
        reasons,
        failed=read.failed,
        already_loaded=read.already,
    )


def _superseded_note(result: FileResult) -> str | None:
    """What an analyst should know about rows that gave way to records already loaded."""
    counts = {t.table: t.superseded for t in result.tables.values() if t.superseded}
    if not counts:
        return None
    total = sum(counts.values())
    detail = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    if result.dataset == ANNEX_A:
        held, effect = (
            "a CIN census or SSDA903 return (Annex A gives way to the returns)",
            "only filled values those records left blank",
        )
    else:
        held, effect = (
            "a newer return",
            "only filled blanks in children and adoptions and were not applied to the other tables",
        )
    return (
        f"{total:,} row(s) ({detail}) were superseded: the warehouse already held these "
        f"records from {held}, which were kept. They count as loaded; this file's values "
        f"{effect} (see docs/ingest.md, section 6)."
    )


def _plain(exc: Exception, path: Path, label: str = "XML") -> str:
    """An InputError's message without the path it starts with, in plainer words for XML."""
    cause = exc.__cause__
    if isinstance(cause, etree.XMLSyntaxError) and "malformed" in str(exc):
        line = cause.lineno or 0
        if line >= _line_count(path):
            return (
                f"The {label} ends early (line {line}): the file may have been cut off when "
                "copied. Nothing from this file was loaded; export it again."
            )
        what = re.sub(r", line \d+, column \d+$", "", cause.msg or "")
        return (
            f"The {label} is damaged at line {line} ({what}). Nothing from this file was "
            "loaded; export it again."
        )
    return str(exc).removeprefix(f"{path}: ").removeprefix(f"{path}:")


def _unexpected(exc: Exception) -> str:
    return (
        f"csc-insight could not read this file because of an unexpected problem "
        f"({type(exc).__name__}). Nothing from this file was loaded; please report this."
    )


def _line_count(path: Path) -> int:
    lines = 1
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return lines


def _text_notes(d: Detection) -> list[str]:
    """What the user should know about how a CSV file was read (encoding, delimiter)."""
    if d.dataset is None or not d.dataset.startswith(("ssda903.", "local.")):
        return []
    try:
        return sniff(d.path).notes()
    except InputError:
        return []


def _read_file(
    d: Detection,
    result: FileResult,
    pseudonymiser: Pseudonymiser,
    load_id: str,
    privacy: PrivacyOptions,
    lookup: LookupCollector | None = None,
    referrals: annex_a.Referrals | None = None,
) -> list[tuple[str, Conformed]]:
    """(dataset name for load_files, conformed rows) for every table the file feeds."""
    dataset = d.dataset or ""
    # Rows of a statutory return carry its year, so the newest return wins (see upsert.py).
    statutory = dataset in (CIN_CENSUS, SSDA903_XML) or dataset.startswith("ssda903.")
    # Hashes of the identifiers read from this file, shared by its tables; dropped with it.
    memo: dict[tuple[bytes, str], dict[str, str]] = {}

    def run(
        raw: RawTable,
        rejected: pa.Array | None = None,
        parent: str = "",
        return_year: int | None = None,
    ) -> Conformed:
        if lookup is not None and "child_id" in raw.data.column_names:
            lookup.add(result.la_code, raw.data.column("child_id"))
        if statutory and model_table(raw.table).has_return_year:
            raw.constants.setdefault("return_year", result.collection_year)
        done = conform(
            raw,
            la_code=result.la_code,
            load_id=load_id,
            source_file=result.source_file,
            pseudonymiser=pseudonymiser,
            rejected_parents=rejected,
            parent_name=parent,
            return_year=return_year,
            hash_memo=memo,
        )
        done.rows = privacy.degrade(done.table, done.rows)
        return done

    if dataset == CIN_CENSUS:
        raws, header = cin_census.read(d.path)
        done: dict[str, Conformed] = {}
        for raw in raws:
            if raw.table == "referrals" and referrals is not None:
                referrals.add_cin(raw)
            parent = cin_census.PARENTS.get(raw.table)
            rejected = done[parent].quarantined_rows() if parent else None
            label = "referral it belongs to" if parent == "referrals" else "plan it belongs to"
            done[raw.table] = run(raw, rejected, label, header.collection_year)
        return [(dataset, c) for c in done.values()]
    if dataset == ANNEX_A:
        lists, others = annex_a.sheets(d.path)
        if result.collection_year is None:
            result.collection_year = annex_a.workbook_year(lists)
        out: list[tuple[str, Conformed]] = []
        # List 3 first: lists 4 to 7 are linked to its referrals.
        for sheet in sorted(lists, key=lambda sheet: sheet.number):
            if sheet.number in annex_a.PARTLY_LOADED:
                result.notes.append(annex_a.PARTLY_LOADED[sheet.number])
            for raw in annex_a.read_sheet(sheet, referrals, result.collection_year):
                out.append((f"annex_a.list{sheet.number}", run(raw)))
        result.notes.extend(f"sheet {name!r} is not an Annex A list" for name in others)
        missing = sorted(set(annex_a.FEEDS) - {sheet.number for sheet in lists})
        if missing:
            names = ", ".join(
                f"list {n} ({'/'.join(f.table for f in annex_a.FEEDS[n])})" for n in missing
            )
            result.notes.append(
                f"This workbook has no sheet for Annex A {names}, so none was loaded from "
                "them; check each sheet is there and named like 'List 3'."
            )
        return out
    if dataset == SSDA903_XML:
        xml = ssda903_xml.read(
            d.path,
            collection_year=result.collection_year,
            postcode_precision=privacy.postcode_precision,
        )
        result.collection_year = xml.collection_year
        result.notes.extend(xml.notes)
        return [
            (f"{dataset}.{kind}", run(raw)) for kind, raws in xml.tables.items() for raw in raws
        ]
    family, _, kind = dataset.partition(".")
    if family == POPULATION:
        raws, notes = population.read(d.path, kind)
        result.notes.extend(notes)
        return [(dataset, run(raw)) for raw in raws]
    if family == "ssda903":
        if kind in ssda903.NOT_LOADED:
            result.notes.append(ssda903.NOT_LOADED[kind])
            return []
        raws = ssda903.read(
            d.path,
            kind,
            collection_year=result.collection_year,
            postcode_precision=privacy.postcode_precision,
        )
    else:
        raws = local.read(d.path, kind)
    return [(dataset, run(raw)) for raw in raws]


def _default_la(detections: list[tuple[Detection, Path]], given: str | None) -> str | None:
    """The authority for files that do not name one (SSDA903, Annex A, local extracts)."""
    if given:
        return ons_code(given)
    named = {ons_code(d.la_code) for d, _ in detections if d.la_code}
    # ONS population files name an authority on every row; the others need one for the file.
    needs = [d for d, _ in detections if d.dataset not in PER_ROW_AUTHORITY]
    if len(named) == 1:
        return named.pop()
    if needs and not named:
        raise InputError(
            "These files do not say which local authority they belong to; give its ONS "
            "code (e.g. --la-code E10000011)."
        )
    if needs:
        raise InputError(
            f"The CIN census files name {len(named)} authorities ({', '.join(sorted(named))}); "
            "give the authority of the other files (--la-code)."
        )
    return None


def _file_la(d: Detection, given: str | None, default: str | None) -> str:
    if given:
        return ons_code(given)
    if d.la_code:
        return ons_code(d.la_code)
    if d.dataset in (ONS_POPULATION, CENSUS_POPULATION):
        return default or ""  # every row names its own authority
    if default is None:  # pragma: no cover - _default_la raised already
        raise InputError(f"{d.path}: cannot tell which authority this file belongs to.")
    return default


def _collection_years(
    detections: list[tuple[Detection, Path]], given: int | None
) -> dict[Path, int | None]:
    """The collection year of each file: given, else its header, else its folder's returns.

    An SSDA903 table does not say its year; the episodes table in the same folder does
    (the year ending 31 March after its latest date), else a CIN census header there, else
    a year in the folder or file name (2024, or 2023-24).
    """
    if given is not None:
        return {d.path: given for d, _ in detections}
    years: dict[Path, int | None] = {d.path: d.collection_year for d, _ in detections}
    by_folder: dict[Path, int] = {}
    for d, _ in detections:
        if d.dataset == "ssda903.episodes":
            year = _episodes_year(d.path)
            if year is not None:
                by_folder[d.path.parent] = year
    for d, _ in detections:
        if d.dataset == CIN_CENSUS and d.collection_year is not None:
            by_folder.setdefault(d.path.parent, d.collection_year)
    for d, root in detections:
        if years[d.path] is None and d.dataset and d.dataset.startswith("ssda903."):
            years[d.path] = by_folder.get(d.path.parent) or _year_in_path(d.path, root)
    return years


def _episodes_year(path: Path) -> int | None:
    try:
        raws = ssda903.read(path, "episodes", collection_year=None)
    except InputError:
        return None
    return ssda903.collection_year_of(raws[0].data)


def _year_in_path(path: Path, root: Path) -> int | None:
    try:
        relative = str(path.relative_to(root))
    except ValueError:
        relative = path.name
    matches = _YEAR_IN_PATH.findall(f"{root.name}/{relative}")
    if not matches:
        return None
    start, end = matches[-1]
    # "2023-24" names the year ending 31 March 2024.
    return int(start) + 1 if end and int(end) == (int(start) + 1) % 100 else int(start)


def _source_names(detections: list[tuple[Detection, Path]]) -> dict[Path, str]:
    """A short, unique name per file: its path under the folder it was found in."""
    names: dict[Path, str] = {}
    for d, root in detections:
        try:
            names[d.path] = d.path.relative_to(root).as_posix()
        except ValueError:
            names[d.path] = d.path.name
    seen = Counter(names.values())
    for p in [p for p, n in names.items() if seen[n] > 1]:
        names[p] = str(p.resolve())
    return names


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def reason_kinds(quarantine: pa.Table) -> dict[str, int]:
    """Quarantine reasons with quoted values removed, counted by kind."""
    reasons = quarantine.column("reason").combine_chunks()
    kinds = pc.value_counts(pc.replace_substring_regex(reasons, r" '[^']*'", ""))
    return {
        str(k): int(n)
        for k, n in zip(
            kinds.field("values").to_pylist(), kinds.field("counts").to_pylist(), strict=True
        )
    }
