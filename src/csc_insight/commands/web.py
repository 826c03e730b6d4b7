"""The dashboard: serve, and demo (a synthetic authority served on the dashboard)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from csc_insight import settings
from csc_insight.commands.common import (
    BackendOption,
    HomeOption,
    StateOption,
    app,
    console,
    fail,
    open_state,
    out,
    progress_bar,
)
from csc_insight.commands.indicators import print_indicators


@app.command()
def serve(
    home: HomeOption = None,
    backend: BackendOption = None,
    state: StateOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    auth_header: Annotated[
        str | None,
        typer.Option(
            help=settings.SETTINGS_BY_NAME["auth_header"].help,
            envvar=settings.SETTINGS_BY_NAME["auth_header"].env,
            show_default=False,
        ),
    ] = None,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help=settings.SETTINGS_BY_NAME["trusted_proxies"].help,
            envvar=settings.SETTINGS_BY_NAME["trusted_proxies"].env,
            show_default=False,
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate (PEM).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's private key.")] = None,
) -> None:
    """Serve the dashboard: people sign in (csc-insight users add NAME --role ROLE)."""
    import uvicorn

    from csc_insight.appstate import users as user_store
    from csc_insight.web.app import create_app
    from csc_insight.web.auth import AuthConfig

    home_dir = settings.home(home)
    url = settings.backend_url(home_dir, backend)
    store = open_state(home_dir, state)
    auth = AuthConfig.from_settings(header=auth_header, trusted_proxies=trusted_proxies)
    if not user_store.all_users(store):
        console.print(
            "[yellow]No one can sign in yet:[/] add an account with "
            "`csc-insight users add NAME --role admin`."
        )
    scheme = "https" if tls_cert else "http"
    out.print(f"csc-insight dashboard: {scheme}://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(
        create_app(url, state=store, home=home_dir, auth_config=auth),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=",".join(sorted(auth.trusted_proxies)) or None,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


@app.command()
def demo(
    home: HomeOption = None,
    scale: Annotated[str, typer.Option(help="small, la or national.")] = "la",
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic authority.")] = 1,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve", help="Print headline figures and stop instead of serving the dashboard."
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the dashboard.")] = 8000,
) -> None:
    """Make a synthetic authority, load it, compute the indicators and serve the dashboard."""
    from csc_insight.indicators import compute
    from csc_insight.ingest import ingest as run_ingest
    from csc_insight.privacy.pseudonymise import Pseudonymiser, load_or_create_key
    from csc_insight.synth import SCALES, generate
    from csc_insight.warehouse.store import Warehouse

    if scale not in SCALES:
        fail(f"--scale must be one of {', '.join(SCALES)}, not {scale!r}.")
    # The demo keeps to a folder of its own so it never touches a real authority's warehouse.
    demo_home = settings.home(home) / "demo"
    files = demo_home / f"synthetic-{scale}-seed{seed}"
    warehouse_path = demo_home / "warehouse.duckdb"
    for stale in (files, warehouse_path, warehouse_path.with_suffix(".duckdb.wal")):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    url = f"duckdb://{warehouse_path.resolve()}"
    with progress_bar() as progress:
        result = generate(
            files,
            scale=scale,
            seed=seed,
            progress=lambda label, f: progress(f"synth: {label}", f * 0.6),
        )
        with Warehouse.connect(url) as warehouse:
            report = run_ingest(
                [files],
                warehouse,
                Pseudonymiser(load_or_create_key(demo_home)),
                progress=lambda label, f: progress(f"ingest: {label}", 0.6 + f * 0.4),
            )
    totals = report.to_json()["totals"]
    out.print(
        f"Synthetic authority {result.ground_truth.get('authority', {}).get('name', '')} "
        f"written to {files}"
    )
    out.print(
        f"Loaded {totals['loaded']:,} of {totals['read']:,} rows "
        f"({totals['quarantined']:,} quarantined)."
    )
    from csc_insight.rules import run as run_rules

    with Warehouse.connect(url) as warehouse:
        results = compute(warehouse)
        run_rules(warehouse)  # findings for the data-quality page
    if results:
        print_indicators(results)
    _demo_targets(demo_home)
    logins = _demo_logins(demo_home)
    if no_serve:
        return
    out.print(
        "\n[bold]Demo sign-in (DEMO ONLY: made-up data, throw-away accounts of this demo "
        f"workspace {demo_home}):[/]"
    )
    for name, role, password in logins:
        out.print(f"  {role:<8} user [bold]{name}[/]  password [bold]{password}[/]")
    serve(
        home=demo_home,
        backend=url,
        state=None,
        host="127.0.0.1",
        port=port,
        auth_header="",
        trusted_proxies=None,
        tls_cert=None,
        tls_key=None,
    )


DEMO_TARGETS = """# DEMO ONLY: made-up owners and targets for the synthetic authority.
[indicators."cin.assessment_45wd_pct"]
owner = "Head of Assessment (demo)"
target = 85
tolerance = 5
cadence = "monthly"

[indicators."cin.rereferral_pct"]
owner = "Head of Front Door (demo)"
target = 20
tolerance = 3
cadence = "monthly"

[indicators."cin.nfa_pct"]
owner = "Head of Front Door (demo)"
target = 30
tolerance = 5
cadence = "monthly"

[indicators."cin.icpc_15wd_pct"]
owner = "Head of Child Protection (demo)"
target = 80
tolerance = 5
cadence = "monthly"

[indicators."cp.repeat_plan_pct"]
owner = "Head of Child Protection (demo)"
target = 22
tolerance = 3
cadence = "quarterly"

[indicators."cla.placements_3plus_pct"]
owner = "Head of Children in Care (demo)"
target = 10
tolerance = 2
cadence = "quarterly"

[indicators."cla.health_check_pct"]
owner = "Head of Children in Care (demo)"
target = 90
tolerance = 5
cadence = "quarterly"

[indicators."leavers.eet_pct"]
owner = "Head of Leaving Care (demo)"
target = 60
tolerance = 5
cadence = "quarterly"

[indicators."svc.wait_median_days"]
owner = "Head of Early Help (demo)"
target = 10
tolerance = 3
cadence = "monthly"
"""


def _demo_targets(demo_home: Path) -> None:
    path = demo_home / "authority.toml"
    if not path.exists():
        path.write_text(DEMO_TARGETS, encoding="utf-8")


def _demo_logins(demo_home: Path) -> list[tuple[str, str, str]]:
    """The demo workspace's throw-away accounts, made on first run and kept in a 0600 file."""
    import secrets

    from csc_insight.appstate import users as user_store

    store = open_state(demo_home, None)
    path = demo_home / "demo-logins.txt"
    logins: list[tuple[str, str, str]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, role, password = line.split("\t")
                logins.append((name, role, password))
    if {n for n, _, _ in logins} != {"demo-viewer", "demo-analyst", "demo-admin"} or any(
        user_store.get(store, n) is None for n, _, _ in logins
    ):
        logins = []
        for role in ("viewer", "analyst", "admin"):
            name, password = f"demo-{role}", secrets.token_urlsafe(12)
            if user_store.get(store, name) is None:
                user_store.add(store, name, role, password)
            else:
                user_store.set_password(store, name, password)
            logins.append((name, role, password))
        path.touch(mode=0o600)
        path.write_text(
            "# DEMO ONLY: sign-ins for the synthetic demo workspace; never use for real data.\n"
            + "".join(f"{n}\t{r}\t{p}\n" for n, r, p in logins),
            encoding="utf-8",
        )
        path.chmod(0o600)
    return logins
