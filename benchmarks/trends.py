"""Five national years: generation, ingest + validation, the catalogue, 60 monthly trends.

    python -m benchmarks.trends [--cache DIR] [--stages ...] [--spark-size 8] ...
    make bench ARGS="trends ..."

The inputs are built as ``benchmarks.national`` builds one national year, for five: the
``la`` authority synthesised for five collection years (2020-21 to 2024-25), each year's
CIN census replicated under 104 DfE LA codes and its 903 tables as one pseudo-authority
(``national.prepare(..., years=5)``), cached in ``--cache`` (default
``~/.cache/csc-insight-bench-trends``). Stages, each in a fresh process:

* ``generate``: building those inputs from nothing (synthesis and replication);
* ``ingest``: loading them into a fresh DuckDB warehouse, one load per collection year (CIN
  census files, then the 903 tables), as an authority loads each year's returns;
* ``validate``: every validation rule over the five years;
* ``year``: the full catalogue for the latest year (``compute(w, "2024-25")``);
* ``trends``: the full catalogue for each of the 60 months April 2020 to March 2025 in one
  batched computation (``compute_series``);
* ``months_loop``: the same catalogue month by month, the way it was computed before
  ``compute_series``, for the last ``--loop-months`` months only (it is the slow way);
* ``page``: the data of the dashboard's Overview page as the web app works it out on a
  fresh start: ``DataService.prepare_overview`` (what the app's background thread does
  after start: the latest year and its 12 months in one batch), then the page's own calls
  (figures with targets, the 12 monthly trend points, the filters, loads);
* ``small``: ``year``, ``trends`` and ``page`` on the 1/``--spark-size`` warehouse (the first
  authorities' copies, all five years) on DuckDB, and ``spark`` the same on PySpark
  ``local[2]`` (the DuckDB warehouse copied in with ``commit_load`` first, timed apart).

Wall time includes starting Python and importing csc-insight. Peak memory is the largest
resident set of the stage's whole process tree (the Spark JVM included), sampled every
0.1 s. Results go to stdout and ``--json`` (default ``benchmarks/results/trends.json``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import catalogue, national

ROOT = Path(__file__).resolve().parent.parent
YEARS = 5
PERIOD = "2024-25"
DEFAULT_CACHE = national.DEFAULT_CACHE.with_name("csc-insight-bench-trends")
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "trends.json"
STAGES = (
    "generate",
    "ingest",
    "validate",
    "year",
    "trends",
    "months_loop",
    "page",
    "small",
    "spark",
)
BUILD_VERSION = 1


def trend_months(period: str, years: int) -> list[str]:
    """The monthly labels of the ``years`` financial years ending with ``period``."""
    from csc_insight.indicators.periods import months_between, parse

    end = parse(period)
    first = parse(f"{end.start.year - years + 1}-{(end.start.year - years + 2) % 100:02d}")
    return [m.label for m in months_between(first.start, end.end)]


# --- warehouses ---------------------------------------------------------------------------
def _db(work: Path, size: int) -> Path:
    return work / f"five_years_1of{size}.duckdb"


def _year_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir())


def _load(cache: Path, work: Path, size: int, manifest: dict) -> dict:
    """A fresh warehouse with 1/size of the authorities, one load per year and return."""
    db = _db(work, size)
    copies = max(1, round(manifest["copies"] / size))
    work.mkdir(parents=True, exist_ok=True)
    inputs = work / f"inputs_1of{size}"
    if inputs.exists():
        shutil.rmtree(inputs)
    # national._replicate_903 prefixes CHILD with the copy number, k:03d; the CIN files of
    # the first copies are the first LA codes in national._lea_codes order.
    for year in _year_folders(cache / "cin"):
        catalogue_subset = inputs / year.name
        (catalogue_subset / "cin").mkdir(parents=True)
        (catalogue_subset / "ssda903").mkdir()
        leas = national._lea_codes(manifest["copies"], _original_lea(cache))[:copies]
        for lea in leas:
            (catalogue_subset / "cin" / f"cin_census_{lea}.xml").symlink_to(
                year / f"cin_census_{lea}.xml"
            )
        prefixes = tuple(f"{k:03d}" for k in range(copies))
        for csv in sorted((cache / "ssda903" / year.name).glob("*.csv")):
            with (
                csv.open(encoding="utf-8") as src,
                (catalogue_subset / "ssda903" / csv.name).open("w") as dst,
            ):
                dst.write(next(src))
                dst.writelines(line for line in src if line.startswith(prefixes))
    started = time.perf_counter()
    rows, loads = 0, 0
    for year in _year_folders(inputs):
        rows += national._ingest(db, year / "cin", fresh=loads == 0)["rows"]
        rows += national._ingest(
            db, year / "ssda903", fresh=False, la_code=national.NATIONAL_903_LA
        )["rows"]
        loads += 2
    seconds = time.perf_counter() - started
    shutil.rmtree(inputs)
    key = {"version": BUILD_VERSION, "inputs": manifest, "copies": copies}
    db.with_suffix(".json").write_text(json.dumps({"key": key}))
    return {"rows": rows, "loads": loads, "copies": copies, "ingest_seconds": round(seconds, 2)}


def _original_lea(cache: Path) -> str:
    import re

    header = next((cache / "la" / "cin_census").glob("*.xml")).read_text()[:2000]
    found = re.search(r"<LEA>(\d{3})</LEA>", header)
    if found is None:
        raise SystemExit("the CIN census header names no LEA")
    return found.group(1)


def _loaded(work: Path, size: int, cache: Path, manifest: dict) -> None:
    """Load the warehouse of this size unless the one there was made from these inputs."""
    db, stamp = _db(work, size), _db(work, size).with_suffix(".json")
    copies = max(1, round(manifest["copies"] / size))
    key = {"version": BUILD_VERSION, "inputs": manifest, "copies": copies}
    if not (db.exists() and stamp.exists() and json.loads(stamp.read_text())["key"] == key):
        _load(cache, work, size, manifest)


# --- stages (each in its own process) -----------------------------------------------------
def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = work()
    return value, round(time.perf_counter() - started, 2)


def _cpu(work: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """``work()`` with its wall seconds and the CPU seconds of this process's threads.

    CPU time is much less sensitive than wall time to other work on a shared machine (it
    does not count the engine's own processes: Spark's JVM).
    """
    cpu = time.process_time()
    value, seconds = _timed(work)
    return value, {
        "compute_seconds": seconds,
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }


def _catalogue_stages(url: str, which: list[str], loop_months: int) -> dict:
    """The catalogue stages on one warehouse: their figures and seconds each."""
    from csc_insight.indicators import compute, compute_series
    from csc_insight.warehouse.store import Warehouse

    w = Warehouse.connect(url)
    months = trend_months(PERIOD, YEARS)
    out: dict[str, Any] = {}
    if "year" in which:
        results, timing = _cpu(lambda: compute(w, PERIOD))
        out["year"] = {**timing, "figures": len(results)}
    if "trends" in which:
        results, timing = _cpu(lambda: compute_series(w, months))
        out["trends"] = {
            **timing,
            "figures": len(results),
            "periods": len(months),
        }
    if "months_loop" in which:
        chosen = months[-loop_months:]
        results, timing = _cpu(lambda: [r for m in chosen for r in compute(w, m)])
        out["months_loop"] = {
            **timing,
            "figures": len(results),
            "periods": len(chosen),
        }
    if "page" in which:
        out["page"] = _page(url)
    out["rows"] = national._fact_rows(w) if url.startswith("duckdb") else 0
    w.close()
    return out


def _page(url: str) -> dict:
    """The Overview page's data, as a freshly started web app works it out."""
    from csc_insight.web.service import DataService, Filters

    svc = DataService(url, None, threshold=5)

    def page() -> tuple[str, int]:
        svc.prepare_overview()  # what the app's background thread does after start
        latest = svc.latest_period()
        assert latest is not None
        results = svc.indicators(latest, Filters(period=latest), suppressed=True)
        trend = svc.trend(latest, Filters(period=latest), suppressed=True, wait=True)
        svc.choices()
        svc.la_codes()
        svc.loads()
        return latest, len(results) + sum(len(v) for v in (trend or {}).values())

    (latest, figures), timing = _cpu(page)
    svc.close()
    return {**timing, "figures": figures, "period": latest}


def _spark(db: Path, work: Path, loop_months: int) -> dict:
    """The DuckDB warehouse copied into PySpark local[2], then the catalogue stages there."""
    _w, url, session_seconds, copy_seconds, rows = catalogue.copy_into_spark(db, work)
    session_seconds, copy_seconds = round(session_seconds, 2), round(copy_seconds, 2)
    # The web app opens its own connection from the URL: on Spark that is the same session.
    out = _catalogue_stages(url, ["year", "trends", "page"], loop_months)
    out.update(session_seconds=session_seconds, copy_seconds=copy_seconds, rows=rows)
    return out


def run_stage(name: str, cache: Path, work: Path, opts: dict) -> dict:
    size, loop_months = int(opts["spark_size"]), int(opts["loop_months"])
    if name == "generate":
        started = time.perf_counter()
        manifest = national.prepare(cache, regenerate=True, years=YEARS)
        seconds = round(time.perf_counter() - started, 2)
        return {"compute_seconds": seconds, "rows": _generated_rows(cache), **_brief(manifest)}
    manifest = national.prepare(cache, years=YEARS)
    if name == "ingest":
        out = _load(cache, work, 1, manifest)
        return {**out, "compute_seconds": out["ingest_seconds"]}
    if name == "validate":
        from csc_insight import rules
        from csc_insight.warehouse.store import Warehouse

        _loaded(work, 1, cache, manifest)
        w = Warehouse.connect(f"duckdb://{_db(work, 1)}")
        result, seconds = _timed(lambda: rules.run(w))
        return {
            "compute_seconds": seconds,
            "findings": result.findings.num_rows,
            "rows": national._fact_rows(w),
        }
    if name in ("year", "trends", "months_loop", "page"):
        _loaded(work, 1, cache, manifest)
        out = _catalogue_stages(f"duckdb://{_db(work, 1)}", [name], loop_months)
        return {**out.pop(name), "rows": out["rows"]}
    if name == "small":
        _loaded(work, size, cache, manifest)
        return _catalogue_stages(
            f"duckdb://{_db(work, size)}", ["year", "trends", "page"], loop_months
        )
    if name == "spark":
        _loaded(work, size, cache, manifest)
        return _spark(_db(work, size), work, loop_months)
    raise SystemExit(f"unknown stage {name}")


def _generated_rows(cache: Path) -> int:
    """Records written: CIN census referrals (every year's file) and 903 rows."""
    rows = 0
    for f in (cache / "cin").rglob("*.xml"):
        rows += f.read_text(encoding="utf-8").count("<CINdetails>")
    for f in (cache / "ssda903").rglob("*.csv"):
        with f.open(encoding="utf-8") as lines:
            rows += sum(1 for _ in lines) - 1
    return rows


def _brief(manifest: dict) -> dict:
    return {k: manifest[k] for k in ("copies", "synth_la_seconds", "bytes") if k in manifest}


# --- the parent ---------------------------------------------------------------------------
def _row(stage: str, size: str, r: dict) -> dict:
    return {"stage": stage, "size": size, **r}


def _split(result: dict, stage: str, size: str) -> list[dict]:
    """A ``small`` or ``spark`` result as one row per catalogue stage in it."""
    rows = []
    for part in ("year", "trends", "page"):
        sub = result[part]
        secs = sub["compute_seconds"]
        rows.append(
            {
                "stage": f"{stage}:{part}",
                "size": size,
                "seconds": secs,
                "rows": result["rows"],
                "rows_per_second": round(result["rows"] / secs) if secs else 0,
                "peak_rss_mib": result["peak_rss_mib"],
                "peak_tree_mib": result["peak_tree_mib"],
                "load_before": result["load_before"],
                **sub,
            }
        )
    return rows


def table(results: list[dict]) -> str:
    head = (
        f"{'stage':<14} {'size':>4} {'wall s':>7} {'compute s':>9} {'cpu s':>6} {'rows':>10} "
        f"{'rows/s':>10} {'figures':>7} {'peak MiB':>8} {'load':>5}"
    )
    lines = [head]
    for r in results:
        if r.get("timed_out"):
            lines.append(f"{r['stage']:<14} {r['size']:>4} timed out after {r['seconds']} s")
            continue
        lines.append(
            f"{r['stage']:<14} {r['size']:>4} {r['seconds']:>7.2f} "
            f"{r.get('compute_seconds', 0):>9.2f} {r.get('cpu_seconds', 0):>6.1f} {r['rows']:>10,} "
            f"{r['rows_per_second']:>10,} {r.get('figures', ''):>7} "
            f"{max(r['peak_rss_mib'], r['peak_tree_mib']):>8,} {r['load_before']:>5.2f}"
        )
    return "\n".join(lines)


def ratios(results: list[dict]) -> dict[str, float]:
    """Spark's compute time over DuckDB's for each catalogue stage on the same warehouse."""
    by = {r["stage"]: r for r in results if not r.get("timed_out")}
    out = {}
    for part in ("year", "trends", "page"):
        duck, spark = by.get(f"small:{part}"), by.get(f"spark:{part}")
        if duck and spark and duck["compute_seconds"]:
            out[part] = round(spark["compute_seconds"] / duck["compute_seconds"], 1)
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--_stage"]:
        name, cache, work, opts = args[1], Path(args[2]), Path(args[3]), json.loads(args[4])
        out = run_stage(name, cache, work, opts)
        out["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.trends", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="inputs")
    parser.add_argument("--work", type=Path, help="warehouses (default: CACHE/work)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--spark-size", type=int, default=8, help="8: 1/8 of the authorities")
    parser.add_argument("--loop-months", type=int, default=12)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per stage")
    opts = parser.parse_args(args)
    cache = opts.cache.expanduser().resolve()
    work = (opts.work or cache / "work").expanduser().resolve()
    stage_opts = json.dumps({"spark_size": opts.spark_size, "loop_months": opts.loop_months})
    results: list[dict] = []
    for name in sorted(opts.stages, key=STAGES.index):
        cmd = [sys.executable, "-m", "benchmarks.trends", "--_stage", name]
        cmd += [str(cache), str(work), stage_opts]
        measured = catalogue.measure(cmd, opts.timeout)
        size = f"1/{opts.spark_size}" if name in ("small", "spark") else "all"
        if name in ("small", "spark") and not measured.get("timed_out"):
            rows = _split(measured, name, size)
            if name == "spark":
                for r in rows:
                    r.update(
                        session_seconds=measured["session_seconds"],
                        copy_seconds=measured["copy_seconds"],
                        stage_wall_seconds=measured["seconds"],
                    )
        else:
            rows = [_row(name, size, measured)]
        results += rows
        for r in rows:
            print(table([r]).splitlines()[-1], file=sys.stderr, flush=True)
    manifest_path = cache / "manifest.json"
    report = {
        "inputs": json.loads(manifest_path.read_text()) if manifest_path.exists() else None,
        "period": PERIOD,
        "months": len(trend_months(PERIOD, YEARS)),
        "machine": national.machine(),
        "spark_over_duckdb": ratios(results),
        "results": results,
    }
    print(table(results))
    print(json.dumps(report, indent=2))
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
