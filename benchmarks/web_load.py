"""Loopback load test of the dashboard: N signed-in users request pages concurrently.

    python -m benchmarks.web_load                      # synthesise a large LA, then test
    python -m benchmarks.web_load --warehouse W.duckdb # reuse a loaded warehouse
    python -m benchmarks.web_load --users 20 --requests 30 --json

The server runs in its own process (uvicorn, one worker, as `csc-insight serve` runs it) on
a free loopback port; the load generator runs here, one thread and one session per user,
with no pause between requests (harder than real use). Before measuring, every page is
opened once and the overview's background work (the latest year and its 12 monthly trend
points) is awaited: pages are computed once per data load and then served from the cache,
which is what this measures. Bounded: each user makes exactly --requests requests.
Record the figures in docs/web.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

PAGES = (
    "/",
    "/timeliness",
    "/repeat-use",
    "/data-quality",
    "/catalogue",
    "/indicators/cin.referrals",
    "/indicators/cin.assessment_45wd_pct",
    "/api/indicators",
)
PASSWORD = "load test password"
SERVER = """
import sys, uvicorn
from pathlib import Path
from csc_insight.web.app import create_app
home, url, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
uvicorn.run(create_app(url, home=home), host="127.0.0.1", port=port, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(workdir: Path, scale: str, warehouse: Path | None, users: int) -> str:
    from csc_insight.appstate import AppState, default_url
    from csc_insight.appstate import users as user_store

    if warehouse is None:
        from csc_insight.ingest import ingest
        from csc_insight.privacy.pseudonymise import Pseudonymiser
        from csc_insight.rules import run as run_rules
        from csc_insight.synth import generate
        from csc_insight.warehouse.store import Warehouse

        generate(workdir / "files", scale=scale, seed=1)
        warehouse = workdir / "warehouse.duckdb"
        with Warehouse.connect(f"duckdb://{warehouse}") as wh:
            ingest([workdir / "files"], wh, Pseudonymiser(b"k" * 32))
            run_rules(wh)
    state = AppState(default_url(workdir))
    for i in range(users):
        name = f"user{i}"
        if user_store.get(state, name) is None:
            user_store.add(state, name, "analyst" if i % 2 else "viewer", PASSWORD)
    return f"duckdb://{warehouse.resolve()}"


def _sign_in(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code in (200, 303), response.text[:300]
    return client


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run(args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="csc-web-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    url = _prepare(
        workdir, args.scale, Path(args.warehouse) if args.warehouse else None, args.users
    )
    prepared = time.perf_counter() - started
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(workdir), url, str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        clients = [_sign_in(base, f"user{i}") for i in range(args.users)]
        # Warm: the overview's background work, then every page once per role.
        warm_start = time.perf_counter()
        first_seconds: dict[str, float] = {}
        while "being worked out" in clients[0].get("/").text:
            time.sleep(1)
        for client in clients[:2]:
            for page in PAGES:
                t = time.perf_counter()
                assert client.get(page).status_code == 200, page
                first_seconds.setdefault(page, round(time.perf_counter() - t, 3))
        warm = time.perf_counter() - warm_start

        timings: dict[str, list[float]] = {p: [] for p in PAGES}
        errors: list[str] = []
        lock = threading.Lock()

        def user(i: int) -> None:
            client = clients[i]
            for n in range(args.requests):
                page = PAGES[(i + n) % len(PAGES)]
                t = time.perf_counter()
                response = client.get(page)
                elapsed = time.perf_counter() - t
                with lock:
                    timings[page].append(elapsed)
                    if response.status_code != 200:
                        errors.append(f"{page}: {response.status_code}")

        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        load_start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - load_start
        every = [t for ts in timings.values() for t in ts]
        result: dict[str, object] = {
            "scale": "reused warehouse" if args.warehouse else args.scale,
            "users": args.users,
            "requests": len(every),
            "errors": errors[:10],
            "wall_seconds": round(wall, 2),
            "requests_per_second": round(len(every) / wall, 1),
            "p50_ms": round(statistics.median(every) * 1000, 1),
            "p95_ms": round(_percentile(every, 95) * 1000, 1),
            "max_ms": round(max(every) * 1000, 1),
            "by_page_p95_ms": {
                p: round(_percentile(ts, 95) * 1000, 1) for p, ts in timings.items()
            },
            "prepare_seconds": round(prepared, 1),
            "warm_up_seconds": round(warm, 1),
            "first_view_seconds": first_seconds,
            "cpus": os.cpu_count(),
            "load_average_before": os.getloadavg()[0],
            "python": platform.python_version(),
        }
        for client in clients:
            client.close()
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="la", help="small, la or national (default la)")
    parser.add_argument("--warehouse", help="Reuse this loaded DuckDB warehouse file.")
    parser.add_argument("--workdir", help="Folder for the synthetic files and app state.")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30, help="Requests per user.")
    parser.add_argument("--json", action="store_true", help="Print JSON only.")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    p95 = result["p95_ms"]
    assert isinstance(p95, float)
    print("PASS" if p95 < 300 and not result["errors"] else "FAIL", "(p95 under 300 ms)")


if __name__ == "__main__":
    main()
