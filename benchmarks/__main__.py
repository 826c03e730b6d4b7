"""End-to-end benchmark: synthesise an authority, load it, compute the indicators.

Run with `make bench` (or `make bench ARGS="--scale small"`). Each stage runs in a fresh
process so its peak memory is its own. Record figures in docs/performance.md.

`make bench ARGS="national ..."` runs the national-scale ingest and validation benchmark
instead (benchmarks/national.py; `ARGS="national --help"` lists its options), and
`make bench ARGS="catalogue ..."` the indicator catalogue at national scale
(benchmarks/catalogue.py), and `make bench ARGS="trends ..."` five national years with
monthly trends, the dashboard's Overview page and Spark (benchmarks/trends.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = {
    "synth": (
        "from csc_insight.synth import generate; from pathlib import Path; import sys; "
        "r = generate(Path(sys.argv[1]) / 'files', scale=sys.argv[2], seed=1); "
        "print(sum(r.counts.values()))"
    ),
    "ingest": (
        "from csc_insight.ingest import ingest; from csc_insight.warehouse.store import "
        "Warehouse; from csc_insight.privacy.pseudonymise import Pseudonymiser; "
        "from pathlib import Path; import sys; d = Path(sys.argv[1]); "
        "w = Warehouse.connect(f'duckdb://{d}/warehouse.duckdb'); "
        "r = ingest([d / 'files'], w, Pseudonymiser(b'k' * 32)); "
        "print(r.to_json()['totals']['read'])"
    ),
    "indicators": (
        "from csc_insight.indicators import compute; from csc_insight.warehouse.store import "
        "Warehouse; import sys; w = Warehouse.connect(f'duckdb://{sys.argv[1]}/warehouse.duckdb');"
        " print(len(compute(w)))"
    ),
}


def run_stage(name: str, workdir: Path, scale: str) -> dict[str, float | int | str]:
    """Run one stage in a child process; wall time, peak RSS and the rows it handled."""
    # The child reports its own peak, so each stage's memory is measured on its own.
    script = STAGES[name] + "; import resource; print(resource.getrusage(0).ru_maxrss)"
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", script, str(workdir), scale],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    *_, rows, peak_kib = completed.stdout.split()
    return {
        "stage": name,
        "seconds": round(seconds, 2),
        "rows": int(rows),
        "rows_per_second": round(int(rows) / seconds) if name != "indicators" else 0,
        "peak_rss_mib": round(int(peak_kib) / 1024),
    }


def main() -> None:
    if sys.argv[1:2] == ["national"]:
        from benchmarks import national

        national.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["catalogue"]:
        from benchmarks import catalogue

        catalogue.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["trends"]:
        from benchmarks import trends

        trends.main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="la", choices=["small", "la", "national"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results = [run_stage(name, workdir, args.scale) for name in STAGES]
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpus": os.cpu_count(),
    }
    print(json.dumps({"scale": args.scale, "machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
