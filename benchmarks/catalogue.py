"""Indicator catalogue benchmark at national scale: one year, monthly trends, scaling, Spark.

    python -m benchmarks.catalogue [--cache DIR] [--work DIR] [--period 2024-25] ...
    make bench ARGS="catalogue ..."

Reuses the national inputs of ``benchmarks.national`` (one ``la`` authority replicated 104
times: 652,912 CIN referrals, 104 authorities, and the 903 tables of every copy as one
pseudo-authority; built if the cache has none). For each size (1/8, 1/4, 1/2 and all of the
authorities: the first N CIN files by LA code, and the 903 rows of the same copies) it loads
a DuckDB warehouse once and keeps it in ``WORK/catalogue/`` while the inputs are unchanged.
Then, each in a fresh process:

* ``year``: the full catalogue (``compute(w, PERIOD)``) on the national warehouse;
* ``months``: the catalogue for each of the 12 months of PERIOD (monthly trends);
* ``profile``: each indicator of the catalogue timed on its own (national warehouse);
* ``scale``: the full catalogue on every size (the scaling curve);
* ``spark``: the same catalogue on PySpark ``local[2]`` for the sizes in ``--spark-sizes``
  (the DuckDB warehouse's tables are copied into Spark with ``commit_load`` first; the copy
  is timed separately and not counted in the catalogue time).

Wall time includes starting Python and importing csc-insight. Peak memory is the largest
resident set of the child's whole process tree (so the Spark JVM is counted), sampled every
0.1 s, and the child's own ``ru_maxrss``. Results go to stdout as a table and JSON
(``--json``, default ``benchmarks/results/catalogue.json``, not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import national

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "catalogue.json"
SIZES = (8, 4, 2, 1)  # 1/8, 1/4, 1/2 and all of the authorities
STAGES = ("build", "year", "months", "profile", "scale", "spark")
BUILD_VERSION = 1
SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "3g",
    "spark.ui.showConsoleProgress": "false",
}


# --- warehouses ---------------------------------------------------------------------------
def _warehouse(work: Path, size: int) -> Path:
    return work / "catalogue" / f"national_1of{size}.duckdb"


def _subset_inputs(cache: Path, copies: int, out: Path) -> None:
    """The first ``copies`` authorities' CIN files (links) and their 903 rows."""
    if out.exists():
        shutil.rmtree(out)
    (out / "cin").mkdir(parents=True)
    (out / "ssda903").mkdir()
    for f in sorted((cache / "cin").glob("*.xml"))[:copies]:
        (out / "cin" / f.name).symlink_to(f)
    # national._replicate_903 prefixes CHILD with the copy number, k:03d.
    prefixes = tuple(f"{k:03d}" for k in range(copies))
    for csv in sorted((cache / "ssda903").glob("*.csv")):
        with csv.open(encoding="utf-8") as src, (out / "ssda903" / csv.name).open("w") as dst:
            dst.write(next(src))
            dst.writelines(line for line in src if line.startswith(prefixes))


def build(cache: Path, work: Path, size: int, manifest: dict) -> dict:
    """Load (or reuse) the warehouse holding 1/size of the authorities."""
    db = _warehouse(work, size)
    stamp = db.with_suffix(".json")
    copies = max(1, round(manifest["copies"] / size))
    wanted = {"version": BUILD_VERSION, "inputs": manifest, "copies": copies}
    if db.exists() and stamp.exists() and json.loads(stamp.read_text()).get("key") == wanted:
        return {"rows": 0, "reused": True, **json.loads(stamp.read_text())["built"]}
    db.parent.mkdir(parents=True, exist_ok=True)
    inputs = db.parent / f"inputs_1of{size}"
    _subset_inputs(cache, copies, inputs)
    started = time.perf_counter()
    cin = national._ingest(db, inputs / "cin", fresh=True)
    ssda = national._ingest(db, inputs / "ssda903", fresh=False, la_code=national.NATIONAL_903_LA)
    built = {
        "copies": copies,
        "ingest_seconds": round(time.perf_counter() - started, 2),
        "rows_read": cin["rows"] + ssda["rows"],
    }
    shutil.rmtree(inputs)
    stamp.write_text(json.dumps({"key": wanted, "built": built}))
    return {"rows": built["rows_read"], "reused": False, **built}


# --- stages (each in its own process) -----------------------------------------------------
def _months(period: str) -> list[str]:
    from csc_insight.indicators.periods import parse

    start = parse(period).start
    return [
        f"{start.year + (start.month - 1 + i) // 12}-{(start.month - 1 + i) % 12 + 1:02d}"
        for i in range(12)
    ]


def _catalogue(db: Path, period: str) -> dict:
    from csc_insight.indicators import compute
    from csc_insight.warehouse.store import Warehouse

    w = Warehouse.connect(f"duckdb://{db}")
    started = time.perf_counter()
    results = compute(w, period)
    return {
        "compute_seconds": round(time.perf_counter() - started, 2),
        "figures": len(results),
        "rows": national._fact_rows(w),
    }


def _monthly(db: Path, period: str) -> dict:
    from csc_insight.indicators import compute
    from csc_insight.warehouse.store import Warehouse

    w = Warehouse.connect(f"duckdb://{db}")
    per_month = {}
    figures = 0
    started = time.perf_counter()
    for label in _months(period):
        t = time.perf_counter()
        figures += len(compute(w, label))
        per_month[label] = round(time.perf_counter() - t, 2)
    return {
        "compute_seconds": round(time.perf_counter() - started, 2),
        "figures": figures,
        "per_month": per_month,
        "rows": national._fact_rows(w),
    }


def _profile(db: Path, period: str) -> dict:
    from csc_insight.indicators import REGISTRY, Tables, compute_indicator
    from csc_insight.indicators.periods import parse
    from csc_insight.warehouse.store import Warehouse

    w = Warehouse.connect(f"duckdb://{db}")
    tables, p = Tables(w), parse(period)
    timings = {}
    for ind in REGISTRY.values():
        if ind.child_level:
            continue
        t = time.perf_counter()
        compute_indicator(ind, tables, p)
        timings[ind.id] = round(time.perf_counter() - t, 3)
    top = sorted(timings.items(), key=lambda kv: -kv[1])
    return {
        "compute_seconds": round(sum(timings.values()), 2),
        "indicators": len(timings),
        "top": dict(top[:8]),
        "all": timings,
        "rows": national._fact_rows(w),
    }


def copy_into_spark(db: Path, work: Path) -> tuple[Any, str, float, float, int]:
    """A local[2] Spark warehouse holding the DuckDB warehouse ``db``'s tables.

    Returns the warehouse, its URL, the seconds to start the session and to copy the
    tables in (one ``commit_load``), and the fact rows copied.
    """
    import duckdb

    from csc_insight.warehouse.model import FACT_TABLES, TABLES
    from csc_insight.warehouse.store import LoadBatch, Warehouse

    root = work / "spark"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    conf = {
        **SPARK_CONF,
        "spark.sql.warehouse.dir": str(root / "spark-warehouse"),
        "spark.local.dir": str(root / "spark-local"),
    }
    url = "pyspark://local[2]?" + "&".join(f"{k}={v}" for k, v in conf.items())
    started = time.perf_counter()
    w = Warehouse.connect(url)
    session_seconds = time.perf_counter() - started
    src = duckdb.connect(str(db), read_only=True)
    batch = LoadBatch(load_id=Warehouse.new_load_id(), started_at=datetime.now(UTC))
    for t in TABLES:
        if t.name in ("loads", "load_files", "quarantine"):  # commit_load records its own
            continue
        cols = ", ".join(f'"{c}"' for c in t.column_names)
        batch.add(t.name, src.execute(f'SELECT {cols} FROM "{t.name}"').fetch_arrow_table())
    fact = {t.name for t in FACT_TABLES}
    rows = sum(sum(p.num_rows for p in parts) for n, parts in batch.tables.items() if n in fact)
    src.close()
    started = time.perf_counter()
    w.commit_load(batch)
    copy_seconds = time.perf_counter() - started
    return w, url, session_seconds, copy_seconds, rows


def _spark(db: Path, period: str, work: Path) -> dict:
    """Copy the DuckDB warehouse into a local[2] Spark session, then the catalogue there."""
    from csc_insight.indicators import compute

    w, _url, session_seconds, copy_seconds, rows = copy_into_spark(db, work)
    t1 = time.perf_counter()
    results = compute(w, period)
    compute_seconds = time.perf_counter() - t1
    w.close()
    return {
        "compute_seconds": round(compute_seconds, 2),
        "session_seconds": round(session_seconds, 2),
        "copy_seconds": round(copy_seconds, 2),
        "figures": len(results),
        "rows": rows,
    }


def run_stage(name: str, cache: Path, work: Path, size: int, period: str) -> dict:
    db = _warehouse(work, size)
    if name == "build":
        return build(cache, work, size, national.prepare(cache))
    if name in ("year", "scale"):
        return _catalogue(db, period)
    if name == "months":
        return _monthly(db, period)
    if name == "profile":
        return _profile(db, period)
    if name == "spark":
        return _spark(db, period, work / "catalogue")
    raise SystemExit(f"unknown stage {name}")


# --- the parent ---------------------------------------------------------------------------
def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(p, 0) for p in tree)


def measure(args: list[str], timeout: float) -> dict:
    """Run a stage's process: its wall time, the peak RSS of its whole tree, its last JSON line.

    ``timed_out`` is set (and nothing else) when it ran longer than ``timeout`` seconds.
    """
    load = os.getloadavg()[0]
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"timed_out": True, "seconds": timeout, "load_before": round(load, 2)}
    seconds = time.perf_counter() - start
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[2:5])} failed:\n{err[-4000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    rows = int(result.pop("rows"))
    busy = result.get("compute_seconds") or seconds
    return {
        "seconds": round(seconds, 2),
        "rows": rows,
        "rows_per_second": round(rows / busy) if rows else 0,
        "peak_rss_mib": round(result.pop("peak_kib") / 1024),
        "peak_tree_mib": round(peak[0] / 1024),
        "load_before": round(load, 2),
        **result,
    }


def _child(name: str, size: int, opts: argparse.Namespace) -> dict:
    args = [sys.executable, "-m", "benchmarks.catalogue", "--_stage", name, str(size)]
    args += [str(opts.cache), str(opts.work), opts.period]
    return {"stage": name, "size": f"1/{size}", **measure(args, opts.timeout)}


def table(results: list[dict]) -> str:
    head = (
        f"{'stage':<8} {'size':>4} {'wall s':>7} {'compute s':>9} {'fact rows':>10} "
        f"{'rows/s':>10} {'figures':>7} {'peak MiB':>8} {'load':>5}"
    )
    lines = [head]
    for r in results:
        if r.get("timed_out"):
            lines.append(f"{r['stage']:<8} {r['size']:>4} timed out after {r['seconds']} s")
            continue
        lines.append(
            f"{r['stage']:<8} {r['size']:>4} {r['seconds']:>7.2f} "
            f"{r.get('compute_seconds', r.get('ingest_seconds', 0)):>9.2f} {r['rows']:>10,} "
            f"{r['rows_per_second']:>10,} {r.get('figures', ''):>7} "
            f"{max(r['peak_rss_mib'], r['peak_tree_mib']):>8,} {r['load_before']:>5.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--_stage"]:
        name, size, cache, work, period = args[1], int(args[2]), *map(Path, args[3:5]), args[5]
        out = run_stage(name, cache, work, size, period)
        out["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.catalogue", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cache", type=Path, default=national.DEFAULT_CACHE, help="inputs")
    parser.add_argument("--work", type=Path, help="warehouses (default: CACHE/work)")
    parser.add_argument("--period", default="2024-25", help="financial year (default 2024-25)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument(
        "--sizes", nargs="+", type=int, default=list(SIZES), help="fractions: 8 = 1/8"
    )
    parser.add_argument("--spark-sizes", nargs="+", type=int, default=[8])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per stage")
    opts = parser.parse_args(args)
    opts.cache = opts.cache.expanduser().resolve()
    manifest = national.prepare(opts.cache)
    opts.work = (opts.work or opts.cache / "work").expanduser().resolve()
    sizes = sorted(
        set(opts.sizes)
        | ({1} if {"year", "months", "profile"} & set(opts.stages) else set())
        | (set(opts.spark_sizes) if "spark" in opts.stages else set()),
        reverse=True,
    )
    plan: list[tuple[str, int]] = []
    plan += [("build", s) for s in sizes]  # reused when already built
    plan += [(s, 1) for s in ("year", "months", "profile") if s in opts.stages]
    if "scale" in opts.stages:
        plan += [("scale", s) for s in sorted(opts.sizes, reverse=True)]
    if "spark" in opts.stages:
        plan += [("spark", s) for s in sorted(opts.spark_sizes, reverse=True)]
    results = []
    for name, size in plan:
        results.append(_child(name, size, opts))
        print(table(results[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    report = {
        "inputs": manifest,
        "period": opts.period,
        "machine": national.machine(),
        "results": results,
    }
    print(table(results))
    print(json.dumps(report, indent=2))
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
