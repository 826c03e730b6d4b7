"""Parsing to Parquet and loading parsed folders: ingest's two phases, run apart.

``parse`` runs phase one of an ingest (detect, read, conform, pseudonymise, quarantine) and
saves each input file's result in its own folder, named by the file's SHA-256::

    OUT/<sha256>/manifest.json       what the file is, its reconciliation, notes, reasons
    OUT/<sha256>/<table>.parquet     canonical rows per table, child ids already pseudonymised
    OUT/<sha256>/quarantine.parquet  the rows set aside, with their reasons

One folder per input file means many processes or machines can parse different files (or
different shares of one list, ``part``) into the same OUT. A folder is written under a
dot-name and renamed when complete, so a loader never sees half of one.

``load_parsed`` is phase two: the same commit as ingest (upsert by natural key, newest return
wins within a load, children and adoptions merged column by column, idempotent by content
hash, atomic on DuckDB and PostgreSQL). On Spark the rows are read where they lie with
``spark.read.parquet``, never through this process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from csc_insight import __version__
from csc_insight.datasets.conform import Conformed
from csc_insight.errors import InputError
from csc_insight.ingest import (
    ANNEX_A,
    AlreadyLoaded,
    FileResult,
    IngestReport,
    Progress,
    ReadFile,
    ReadFiles,
    TableCount,
    commit_files,
    ingest_report,
    quarantine_reasons,
    read_files,
    reconciliation,
    record_superseded,
)
from csc_insight.privacy.options import PrivacyOptions
from csc_insight.privacy.pseudonymise import Pseudonymiser
from csc_insight.warehouse.model import table as model_table
from csc_insight.warehouse.store import LoadBatch, Warehouse
from csc_insight.warehouse.store import _files_table as files_table
from csc_insight.warehouse.store import _load_row as load_row
from csc_insight.warehouse.upsert import (
    GIVES_WAY,
    ORDINAL,
    PART,
    Superseded,
    load_spark,
    quote_spark,
)

FORMAT = "csc-insight-parsed"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
QUARANTINE = "quarantine"
# Each saved row's place in its file's rows for that table: with the file's place in a load
# it orders rows exactly as an ingest of the same files would.
ROW = "_csc_row"
# The input file's SHA-256 on each saved row: Spark finds a row's file by it, whatever the
# folders are called where the cluster reads them.
FILE = "_csc_file"
# Rows are saved before any load exists; loading gives them the load's id.
UNLOADED = "not-loaded-yet"
# A load orders rows by (file's place << 32) + row: room for 4 billion rows per file.
_FILE_SHIFT = 32


def key_fingerprint(pseudonymiser: Pseudonymiser) -> str:
    """A short fingerprint of the pseudonymisation key (the key cannot be derived from it)."""
    return hmac.new(pseudonymiser.key, b"csc-insight key fingerprint", hashlib.sha256).hexdigest()[
        :16
    ]


# --- parse ------------------------------------------------------------------------------------


@dataclass
class ParseReport:
    """What a parse run saved, with the same reconciliation as an ingest report."""

    out: Path
    report: IngestReport
    saved: dict[str, str]  # input path -> its output folder

    def to_json(self) -> dict[str, Any]:
        payload = self.report.to_json()
        payload.pop("load_id")
        payload["out"] = str(self.out)
        for f in payload["files"]:
            f["output"] = self.saved.get(f["path"])
        if payload["nothing_loaded"]:
            payload["nothing_loaded"] = payload["nothing_loaded"].replace(
                "Nothing was loaded", "Nothing was parsed"
            )
        payload["nothing_parsed"] = payload.pop("nothing_loaded")
        payload["already_parsed"] = payload.pop("already_loaded")
        return payload


def parse_part(text: str) -> tuple[int, int]:
    """``K/N`` (this process parses the K-th of N shares) as (K, N)."""
    k, _, n = text.partition("/")
    try:
        part, parts = int(k), int(n)
    except ValueError:
        part, parts = 0, 0
    if not 1 <= part <= parts:
        raise InputError(f"--part must be K/N with 1 <= K <= N (e.g. 2/8), not {text!r}.")
    return part, parts


def parse(
    paths: list[Path],
    out: Path,
    pseudonymiser: Pseudonymiser,
    *,
    la_code: str | None = None,
    collection_year: int | None = None,
    progress: Progress | None = None,
    privacy: PrivacyOptions | None = None,
    part: tuple[int, int] | None = None,
) -> ParseReport:
    """Read every file under ``paths`` as ingest does and save each one's rows under ``out``.

    Files already saved in ``out`` (same content) are not parsed again. ``part`` = (K, N)
    parses only the K-th of N shares of the files (by content hash), so N processes given the
    same list parse each file once between them.
    """
    out.mkdir(parents=True, exist_ok=True)
    wanted: Callable[[str], bool] | None = None
    if part is not None:
        k, n = part
        wanted = lambda sha: int(sha[:12], 16) % n == k - 1  # noqa: E731
    # A file saved before is reported as parsed "into" its folder (in the load id's place).
    earlier = {
        m["sha256"]: (str(m["folder"]), m["source_file"], m["parsed_at"]) for m in _saved(out)
    }
    read = read_files(
        paths,
        pseudonymiser,
        load_id=UNLOADED,
        earlier=earlier,
        la_code=la_code,
        collection_year=collection_year,
        progress=progress,
        privacy=privacy,
        wanted=wanted,
        context_from_all=True,
    )
    for a in read.already:
        if a.loaded_at is not None:
            a.parsed_into = a.load_id
    fingerprint = key_fingerprint(pseudonymiser)
    saved = {str(f.result.path): str(_save(f, out, fingerprint)) for f in read.files}
    return ParseReport(
        out, ingest_report(read, quarantine_reasons(read.files), written=False), saved
    )


def _save(f: ReadFile, out: Path, fingerprint: str) -> Path:
    """Write one file's rows, quarantine and manifest; returns its folder."""
    sha = f.result.sha256
    final = out / sha
    work = out / f".{sha}-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        by_table: dict[str, list[pa.Table]] = {}
        quarantine: list[pa.Table] = []
        for _dataset, conformed in f.contributed:
            by_table.setdefault(conformed.table, []).append(conformed.rows)
            quarantine.append(conformed.quarantine)
        rows_saved: dict[str, int] = {}
        for name, parts in by_table.items():
            rows = _canonical(name, parts)
            if rows.num_rows:
                rows = rows.append_column(ROW, pa.array(range(rows.num_rows), pa.int64()))
                rows = rows.append_column(
                    FILE,
                    pa.DictionaryArray.from_arrays(
                        pa.nulls(rows.num_rows, pa.int8()).fill_null(0), [sha]
                    ),
                )
                pq.write_table(rows, work / f"{name}.parquet")
                rows_saved[name] = rows.num_rows
        pq.write_table(_canonical(QUARANTINE, quarantine), work / f"{QUARANTINE}.parquet")
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "csc_insight_version": __version__,
            "parsed_at": datetime.now(UTC).isoformat(),
            "key_fingerprint": fingerprint,
            "path": str(f.result.path),
            "order": list(f.order),
            "source_file": f.result.source_file,
            "dataset": f.result.dataset,
            "la_code": f.result.la_code,
            "collection_year": f.result.collection_year,
            "sha256": f.result.sha256,
            "notes": f.result.notes,
            "contributions": [
                {
                    "dataset": dataset,
                    "table": c.table,
                    "read": c.read,
                    "loaded": c.loaded,
                    "quarantined": c.quarantined,
                }
                for dataset, c in f.contributed
            ],
            "tables": rows_saved,
            "quarantine_reasons": quarantine_reasons([f]),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1))
        try:
            os.rename(work, final)
        except OSError:
            # Another process saved the same content meanwhile: its copy is as good.
            if not (final / MANIFEST).exists():
                raise
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def _canonical(name: str, parts: list[pa.Table]) -> pa.Table:
    schema = model_table(name).arrow_schema()
    if not parts:
        return schema.empty_table()
    return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])


# --- finding saved folders ----------------------------------------------------------------------


def _saved(root: Path) -> Iterator[dict[str, Any]]:
    """The manifest of every complete parsed folder under ``root`` (with its ``folder``)."""
    if (root / MANIFEST).is_file():
        candidates = [root / MANIFEST]
    else:
        candidates = sorted(
            p
            for p in root.rglob(MANIFEST)
            if not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
    for path in candidates:
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} cannot be read as a parsed file's manifest ({exc}).") from exc
        if manifest.get("format") != FORMAT:
            continue
        if manifest.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"{path.parent} was parsed by csc-insight {manifest.get('csc_insight_version')} "
                f"in a format this version cannot load (version {manifest.get('format_version')});"
                " parse the files again."
            )
        manifest["folder"] = path.parent
        manifest["parsed_at"] = datetime.fromisoformat(manifest["parsed_at"])
        yield manifest


# --- load ---------------------------------------------------------------------------------------


def load_parsed(
    folders: list[Path],
    warehouse: Warehouse,
    *,
    key: Pseudonymiser | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Load parsed folders into ``warehouse`` exactly as ingest would load the original files.

    ``key``: the workspace's pseudonymisation key, if it has one; folders parsed with another
    key are refused, as their children would not match the ones already loaded.
    """
    report = progress or (lambda _message, _fraction: None)
    manifests = [m for folder in folders for m in _saved(folder)]
    if not manifests:
        raise InputError(
            f"No parsed files were found in {', '.join(str(f) for f in folders)}: give the "
            "folder `csc-insight parse --out` wrote."
        )
    _check_one_key(manifests, key)
    read = ReadFiles(
        warehouse.new_load_id(), datetime.now(UTC), files=[], skipped=[], failed=[], already=[]
    )
    earlier = warehouse.loaded_files()
    seen: dict[str, str] = {}
    chosen: list[dict[str, Any]] = []
    for m in sorted(manifests, key=lambda m: tuple(m["order"])):
        path = Path(m["path"])
        if m["sha256"] in earlier:
            load_id, name, when = earlier[m["sha256"]]
            read.already.append(AlreadyLoaded(path, load_id, when, name))
        elif m["sha256"] in seen:
            read.already.append(AlreadyLoaded(path, read.load_id, None, seen[m["sha256"]]))
        else:
            seen[m["sha256"]] = str(path)
            chosen.append(m)
    report(f"Loading {len(chosen)} parsed file(s)", 0.1)
    if warehouse.engine.name == "pyspark":
        return _load_spark(chosen, read, warehouse)
    read.files = [_read_back(m, read.load_id) for m in chosen]
    return commit_files(read, warehouse)


def _check_one_key(manifests: list[dict[str, Any]], key: Pseudonymiser | None) -> None:
    prints = {m["key_fingerprint"] for m in manifests}
    if len(prints) > 1:
        raise InputError(
            "These folders were parsed with different pseudonymisation keys, so the same child "
            "would have different pseudonyms: parse every file with the same workspace key "
            "(copy pseudonymisation.key into each parsing workspace)."
        )
    if key is not None and prints != {key_fingerprint(key)}:
        raise InputError(
            "These files were parsed with a different pseudonymisation key from this "
            "workspace's, so their children would not match the ones loaded here: parse them "
            "with this workspace's pseudonymisation.key (or load them into a new workspace "
            "that has the parsing key)."
        )


def _file_result(m: dict[str, Any]) -> FileResult:
    result = FileResult(
        Path(m["path"]),
        m["source_file"],
        m["dataset"],
        m["la_code"],
        m["collection_year"],
        m["sha256"],
        notes=list(m["notes"]),
    )
    for c in m["contributions"]:
        count = result.tables.setdefault(c["table"], TableCount(c["table"]))
        count.read += c["read"]
        count.loaded += c["loaded"]
        count.quarantined += c["quarantined"]
    return result


def _read_back(m: dict[str, Any], load_id: str) -> ReadFile:
    """A parsed folder as phase one left it: the same Conformed parts, now in this load."""
    folder: Path = m["folder"]
    tables = {
        name: _with_load_id(pq.read_table(folder / f"{name}.parquet").drop([ROW, FILE]), load_id)
        for name in m["tables"]
    }
    quarantine = _with_load_id(pq.read_table(folder / f"{QUARANTINE}.parquet"), load_id)
    offsets: Counter[str] = Counter()
    q_offset = 0
    contributed: list[tuple[str, Conformed]] = []
    for c in m["contributions"]:
        name = c["table"]
        rows = tables[name] if name in tables else model_table(name).arrow_schema().empty_table()
        part = Conformed(
            name,
            rows.slice(offsets[name], c["loaded"]),
            quarantine.slice(q_offset, c["quarantined"]),
            c["read"],
        )
        offsets[name] += c["loaded"]
        q_offset += c["quarantined"]
        contributed.append((c["dataset"], part))
    return ReadFile(_file_result(m), contributed, _order(m))


def _order(m: dict[str, Any]) -> tuple[bool, int, str]:
    gives_way, year, path = m["order"]
    return (bool(gives_way), int(year), str(path))


def _with_load_id(rows: pa.Table, load_id: str) -> pa.Table:
    i = rows.schema.get_field_index("load_id")
    return rows.set_column(i, "load_id", pa.array([load_id] * rows.num_rows, pa.string()))


# --- Spark: rows read where they lie --------------------------------------------------------


def _load_spark(
    chosen: list[dict[str, Any]], read: ReadFiles, warehouse: Warehouse
) -> IngestReport:
    from pyspark.sql import functions as F

    session = warehouse.con._session  # type: ignore[attr-defined]
    batch = LoadBatch(read.load_id, read.started)
    reasons: Counter[str] = Counter()
    for m in chosen:
        result = _file_result(m)
        for c in m["contributions"]:
            counts = TableCount(c["table"], c["read"], c["loaded"], c["quarantined"])
            batch.files.append(reconciliation(result, c["dataset"], counts))
        reasons.update(m["quarantine_reasons"])
        read.files.append(ReadFile(result, [], _order(m)))
    if not batch.files:
        return ingest_report(read, {}, written=False)

    place = session.createDataFrame(
        [(m["sha256"], i) for i, m in enumerate(chosen)], f"{FILE} string, _csc_place long"
    )
    # Which reconciliation row (PART) each saved row counts in, and whether it gives way to
    # the returns (Annex A): a file's contributions to a table are saved one after another.
    spans: list[tuple[str, str, int, int, int, bool]] = []
    part = 0
    for m in chosen:
        start: Counter[str] = Counter()
        for c in m["contributions"]:
            lo = start[c["table"]]
            start[c["table"]] += c["loaded"]
            spans.append(
                (m["sha256"], c["table"], lo, start[c["table"]], part, m["dataset"] == ANNEX_A)
            )
            part += 1
    span_frame = session.createDataFrame(
        spans,
        f"{FILE} string, _csc_table string, _csc_lo long, _csc_hi long, "
        f"{PART} long, {GIVES_WAY} boolean",
    )

    def rows_of(name: str, paths: list[str]) -> Any:
        """The saved rows for ``name``, typed as the warehouse table, in this load."""
        target = session.table(quote_spark(name)).schema
        frame = session.read.parquet(*paths).withColumn("load_id", F.lit(read.load_id))
        columns = [F.col(f.name).cast(f.dataType).alias(f.name) for f in target.fields]
        return frame, columns

    upserts: list[tuple[Any, Any]] = []
    names = sorted({name for m in chosen for name in m["tables"]})
    for name in names:
        paths = [str(m["folder"] / f"{name}.parquet") for m in chosen if name in m["tables"]]
        frame, columns = rows_of(name, paths)
        frame = frame.join(F.broadcast(place), FILE)
        these = F.broadcast(span_frame.filter(F.col("_csc_table") == name).drop("_csc_table"))
        frame = frame.join(
            these,
            (frame[FILE] == these[FILE])
            & (frame[ROW] >= these["_csc_lo"])
            & (frame[ROW] < these["_csc_hi"]),
        )
        ordinal = (F.col("_csc_place") * (1 << _FILE_SHIFT) + F.col(ROW)).alias(ORDINAL)
        staged = frame.select(*columns, these[GIVES_WAY], these[PART], ordinal)
        upserts.append((model_table(name), staged))
    q_paths = [str(m["folder"] / f"{QUARANTINE}.parquet") for m in chosen]
    q_frame, q_columns = rows_of(QUARANTINE, q_paths)

    def appends(superseded: Superseded) -> list[tuple[Any, Any]]:
        # Built once the upserts ran: the superseded counts are known then.
        batch.record_superseded(superseded)
        return [
            (model_table(QUARANTINE), q_frame.select(*q_columns)),
            (model_table("load_files"), files_table(batch.load_id, batch.files)),
            (model_table("loads"), load_row(batch)),
        ]

    load_spark(session, upserts, appends)
    record_superseded(read, batch)
    return ingest_report(read, dict(reasons), written=True)
