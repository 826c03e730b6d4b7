"""National-scale ingest and validation benchmark.

    python -m benchmarks.national [--cache DIR] [--stages ...] [--regenerate]
    make bench ARGS="national"

Inputs are built quickly rather than by ``synth`` at national scale (15 minutes): one
``la``-scale authority is synthesised (one collection year) and its files are replicated
until the CIN census holds about 650,000 referrals (a national year):

* ``cin/``: one CIN census XML per copy, each under its own DfE LA code (the header's LEA)
  with LAchildIDs renumbered (UPNs are left as they are: csc-insight does not load them),
  as DfE's national collection is one file per authority. All are loaded in one ingest, as one load.
* ``cin_single/``: the same children in one file under one LEA: a reader stress test (no
  authority sends a file this size).
* ``ssda903/``: the 903 CSV tables (header, episodes, reviews, missing, oc2, oc3, ...) with
  every copy's rows, CHILD renumbered, loaded as one pseudo-authority (a 903 CSV does not
  name its authority, so one ingest is one authority).
* ``la/``: the original authority's files, every format (CIN census, 903, Annex A, local
  extracts, population): the single large authority.

The inputs are cached in ``--cache`` (default ``~/.cache/csc-insight-bench``) and reused
while the parameters match. Each stage runs in a fresh process so its peak RSS is its own.
Results go to stdout as a table, then JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_REFERRALS = 650_000
SEED = 1
# A pseudo-authority for the national 903 (Isles of Scilly, not among the copies' codes).
NATIONAL_903_LA = "E06000053"
MANIFEST_VERSION = 2
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
    "csc-insight-bench"
)
STAGES = (
    "la_ingest",
    "la_validate",
    "la_check",
    "la_work",
    "cin_ingest",
    "cin_validate",
    "ssda903_ingest",
    "all_validate",
    "cin_single_ingest",
)
KEY = b"k" * 32


# --- inputs -------------------------------------------------------------------------------
def prepare(
    cache: Path, *, target: int = TARGET_REFERRALS, regenerate: bool = False, years: int = 1
) -> dict:
    """Build (or reuse) the national inputs under ``cache``; returns the manifest.

    With ``years`` above 1 the ``la`` authority is synthesised for that many collection
    years and each year's returns are replicated the same way, into ``cin/YEAR/`` and
    ``ssda903/YEAR/`` (no ``cin_single/``): five national years in seconds instead of hours.
    The number of copies is set by the latest year's census, so every year is national-size.
    """
    manifest_path = cache / "manifest.json"
    wanted = {"version": MANIFEST_VERSION, "target_referrals": target, "seed": SEED}
    if years > 1:
        wanted["years"] = years
    if manifest_path.exists() and not regenerate:
        manifest = json.loads(manifest_path.read_text())
        if all(manifest.get(k) == v for k, v in wanted.items()) and manifest.get(
            "years", 1
        ) == wanted.get("years", 1):
            return manifest
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    from csc_insight.synth import generate

    started = time.perf_counter()
    generate(cache / "la", scale="la", seed=SEED, years=years)
    synth_seconds = time.perf_counter() - started
    cin_files = sorted((cache / "la" / "cin_census").glob("*.xml"))
    if len(cin_files) != years:
        raise SystemExit(f"expected {years} CIN census files, found {len(cin_files)}")
    texts = [f.read_text(encoding="utf-8") for f in cin_files]
    per_copy = texts[-1].count("<CINdetails>")
    copies = math.ceil(target / per_copy)
    folders_903 = sorted((cache / "la" / "ssda903").iterdir())
    if years == 1:
        _replicate_cin(texts[0], copies, cache / "cin", cache / "cin_single")
        _replicate_903(folders_903[0], copies, cache / "ssda903")
    else:
        for f, text in zip(cin_files, texts, strict=True):
            _replicate_cin(text, copies, cache / "cin" / f.stem.rsplit("_", 1)[-1], None)
        for folder in folders_903:
            _replicate_903(folder, copies, cache / "ssda903" / folder.name)
    manifest = {
        **wanted,
        "copies": copies,
        "la_referrals": per_copy,
        "cin_referrals": per_copy * copies,
        "cin_records": sum(t.count("<CINdetails>") for t in texts) * copies,
        "synth_la_seconds": round(synth_seconds, 1),
        "prepare_seconds": round(time.perf_counter() - started, 1),
        "bytes": {
            name: sum(p.stat().st_size for p in (cache / name).rglob("*") if p.is_file())
            for name in ("la", "cin", "cin_single", "ssda903")
            if (cache / name).exists()
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def _lea_codes(copies: int, original: str) -> list[str]:
    from csc_insight.datasets.la_codes import OLD_TO_ONS

    others = (c for c, ons in OLD_TO_ONS.items() if c != original and ons != NATIONAL_903_LA)
    codes = [original, *sorted(others)]
    if copies > len(codes):
        raise SystemExit(f"{copies} copies need more authorities than the {len(codes)} known")
    return codes[:copies]


def _replicate_cin(text: str, copies: int, out: Path, single: Path | None) -> None:
    """One file per copy into ``out`` and, if ``single`` is given, all copies in one file."""
    start = text.index("<Children>") + len("<Children>")
    end = text.rindex("</Children>")
    head, body, tail = text[:start], text[start:end], text[end:]
    original = re.search(r"<LEA>(\d{3})</LEA>", head)
    if original is None:
        raise SystemExit("the CIN census header names no LEA")
    leas = _lea_codes(copies, original.group(1))
    ids = re.compile(r"<LAchildID>([^<]*)</LAchildID>")
    out.mkdir(parents=True)
    one = None
    if single is not None:
        single.mkdir(parents=True)
        one = (single / "cin_census_national.xml").open("w", encoding="utf-8")
        one.write(head)
    for k, lea in enumerate(leas):
        renumbered = ids.sub(f"<LAchildID>{k:03d}\\1</LAchildID>", body)
        if one is not None:
            one.write(renumbered)
        la_head = head.replace(f"<LEA>{original.group(1)}</LEA>", f"<LEA>{lea}</LEA>")
        (out / f"cin_census_{lea}.xml").write_text(la_head + renumbered + tail, encoding="utf-8")
    if one is not None:
        one.write(tail)
        one.close()


def _replicate_903(folder: Path, copies: int, out: Path) -> None:
    out.mkdir(parents=True)
    for csv in sorted(folder.glob("*.csv")):
        header, *lines = csv.read_text(encoding="utf-8").splitlines()
        if not header.startswith("CHILD,"):
            raise SystemExit(f"{csv.name}: CHILD is not the first column")
        with (out / csv.name).open("w", encoding="utf-8") as f:
            f.write(header + "\n")
            for k in range(copies):
                f.writelines(f"{k:03d}{line}\n" for line in lines)


# --- stages (each runs in its own process) ------------------------------------------------
def _fact_rows(warehouse: Any) -> int:
    from csc_insight.warehouse.model import FACT_TABLES

    con = warehouse.con.con
    return sum(con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0] for t in FACT_TABLES)


def _ingest(db: Path, folder: Path, *, fresh: bool, la_code: str | None = None) -> dict:
    from csc_insight.ingest import ingest
    from csc_insight.privacy.pseudonymise import Pseudonymiser
    from csc_insight.warehouse.store import Warehouse

    if fresh:
        for p in db.parent.glob(db.name + "*"):
            p.unlink()
    w = Warehouse.connect(f"duckdb://{db}")
    report = ingest([folder], w, Pseudonymiser(KEY), la_code=la_code)
    totals = report.to_json()["totals"]
    if report.failed:
        raise SystemExit(f"files failed: {report.failed}")
    return {"rows": totals["read"], "loaded": totals["loaded"], "files": len(report.files)}


def _validate(db: Path) -> dict:
    from csc_insight import rules
    from csc_insight.warehouse.store import Warehouse

    w = Warehouse.connect(f"duckdb://{db}")
    result = rules.run(w)
    return {"rows": _fact_rows(w), "findings": result.findings.num_rows}


def _check(folder: Path, work: Path) -> dict:
    """What an analyst runs to check a return before sending it: `csc-insight validate PATH`
    (a scratch warehouse in memory, loaded and validated in one process), run as the real
    command, so its time is the analyst's: from starting Python to the process ending."""
    command = [sys.executable, "-m", "csc_insight.cli", "validate", str(folder), "--json"]
    command += ["--home", str(work / "check-home")]
    cpu_before = _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu_before
    if done.returncode:
        raise SystemExit(f"csc-insight validate failed:\n{done.stderr[-4000:]}")
    summary = json.loads(done.stdout)
    return {
        "rows": summary["rows_checked"]["read"],
        "findings": summary["findings"],
        "command_seconds": round(seconds, 2),
        # The command and the process it forks to read files (waited for, so counted).
        "command_cpu_seconds": round(cpu, 2),
    }


def _work(folder: Path, work: Path) -> dict:
    """What `la_check` does, timed inside one process once everything is imported: loading
    the files into a scratch warehouse and validating it, without Python's start-up."""
    import tempfile

    from csc_insight import rules
    from csc_insight.ingest import ingest_new
    from csc_insight.privacy.pseudonymise import Pseudonymiser
    from csc_insight.warehouse.store import Warehouse

    rules.prepare()
    cpu_before = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        warehouse, report = ingest_new(
            [folder], lambda: Warehouse.scratch(Path(scratch)), Pseudonymiser(KEY)
        )
        with warehouse:
            result = rules.run(warehouse)
    seconds = time.perf_counter() - start
    cpu = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu_before
    return {
        "rows": report.to_json()["totals"]["read"],
        "findings": result.findings.num_rows,
        "command_seconds": round(seconds, 2),
        "command_cpu_seconds": round(cpu, 2),
    }


def run_stage(name: str, cache: Path, work: Path) -> dict:
    national, la = work / "national.duckdb", work / "la.duckdb"
    if name == "la_ingest":
        return _ingest(la, cache / "la", fresh=True)
    if name == "la_validate":
        return _validate(la)
    if name == "la_check":
        return _check(cache / "la", work)
    if name == "la_work":
        return _work(cache / "la", work)
    if name == "cin_ingest":
        return _ingest(national, cache / "cin", fresh=True)
    if name == "cin_validate":
        return _validate(national)
    if name == "ssda903_ingest":
        return _ingest(national, cache / "ssda903", fresh=False, la_code=NATIONAL_903_LA)
    if name == "all_validate":
        return _validate(national)
    if name == "cin_single_ingest":
        return _ingest(work / "single.duckdb", cache / "cin_single", fresh=True)
    raise SystemExit(f"unknown stage {name}")


def _child(name: str, cache: Path, work: Path, timeout: float) -> dict:
    """Run ``name`` in a fresh interpreter; its wall time, peak RSS and what it reports."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    cpu_before = _cpu(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.national", "--_stage", name, str(cache), str(work)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {
            "stage": name,
            "seconds": round(timeout, 2),
            "rows": 0,
            "rows_per_second": 0,
            "peak_rss_mib": 0,
            "load_before": round(load, 2),
            "timed_out": True,
        }
    seconds = time.perf_counter() - start
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu_before
    if done.returncode:
        raise SystemExit(f"stage {name} failed:\n{done.stderr[-4000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    rows = int(out.pop("rows"))
    # A stage that runs a command times the command alone (not this stage's own start).
    seconds = out.pop("command_seconds", seconds)
    cpu = out.pop("command_cpu_seconds", cpu)
    return {
        "stage": name,
        "seconds": round(seconds, 2),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(out.pop("peak_kib") / 1024),
        "load_before": round(load, 2),
        # User + system CPU of the stage's process: on a shared machine, wall time includes
        # waiting for a core, CPU time does not.
        "cpu_seconds": round(cpu, 2),
        **out,
    }


def _cpu(who: int) -> float:
    """User + system CPU seconds of this process (RUSAGE_SELF) or of the children it has
    waited for (RUSAGE_CHILDREN)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kib = 0
    import duckdb
    import pyarrow

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def table(results: list[dict]) -> str:
    lines = [
        f"{'stage':<18} {'seconds':>8} {'cpu s':>6} {'rows':>10} {'rows/s':>9} {'peak MiB':>9} "
        f"{'load':>5}",
    ]
    for r in results:
        lines.append(
            f"{r['stage']:<18} {r['seconds']:>8.2f} {r.get('cpu_seconds', 0):>6.2f} "
            f"{r['rows']:>10,} {r['rows_per_second']:>9,} "
            f"{r['peak_rss_mib']:>9,} {r['load_before']:>5.2f}"
            + ("  timed out" if r.get("timed_out") else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--_stage"]:
        name, cache, work = args[1], Path(args[2]), Path(args[3])
        out = run_stage(name, cache, work)
        # Files are read by this process and a forked one (read_processes): their peaks
        # added, an upper bound (the fork's pages shared with this process count twice).
        out["peak_kib"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        )
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.national", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="inputs folder")
    parser.add_argument("--work", type=Path, help="warehouses (default: CACHE/work)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--target-referrals", type=int, default=TARGET_REFERRALS)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the inputs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before a stage is stopped"
    )
    opts = parser.parse_args(args)
    cache = opts.cache.expanduser().resolve()
    manifest = prepare(cache, target=opts.target_referrals, regenerate=opts.regenerate)
    work = (opts.work or cache / "work").expanduser().resolve()
    work.mkdir(parents=True, exist_ok=True)
    stages = list(opts.stages)
    # Validation reads the warehouse its ingest stage wrote.
    for needed, before in (
        ("la_validate", "la_ingest"),
        ("cin_validate", "cin_ingest"),
        ("ssda903_ingest", "cin_ingest"),
        ("all_validate", "ssda903_ingest"),
    ):
        if needed in stages and before not in stages:
            stages.append(before)
    stages.sort(key=STAGES.index)
    results = []
    for name in stages:
        results.append(_child(name, cache, work, opts.timeout))
        print(table(results[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    report = {"inputs": manifest, "machine": machine(), "results": results}
    print(table(results))
    print(json.dumps(report, indent=2))
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
