"""Dashboard accounts: users add, list, role, password, disable and remove."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table as RichTable

from csc_insight import settings
from csc_insight.commands.common import (
    HomeOption,
    StateOption,
    app,
    open_state,
    out,
)

users_app = typer.Typer(
    help="Accounts for the dashboard: add, list, change role, reset password, disable, remove.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name they sign in with.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    sso_only: Annotated[
        bool,
        typer.Option("--sso-only", help="No password: signs in only through the SSO header."),
    ] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Add an account (the password is asked for, or read with --password-stdin)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = open_state(settings.home(home), state)
    password = None if sso_only else _read_password(password_stdin)
    user_store.add(store, name, role, password)
    audit.record(store, audit.USER_ADDED, user="(command line)", target=name, detail=f"role {role}")
    out.print(f"Added {name} ({role}).")


@users_app.command("list")
def users_list(home: HomeOption = None, state: StateOption = None) -> None:
    """List the accounts."""
    from csc_insight.appstate import users as user_store

    table = RichTable(title="Users")
    for column in ("name", "role", "sign-in", "status"):
        table.add_column(column)
    for u in user_store.all_users(open_state(settings.home(home), state)):
        table.add_row(
            u.name,
            u.role,
            "password" if u.has_password else "single sign-on",
            "disabled" if u.disabled else "active",
        )
    out.print(table)


@users_app.command("role")
def users_role(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="viewer, analyst or admin.")],
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Change an account's role (their sessions end)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = open_state(settings.home(home), state)
    user_store.set_role(store, name, role)
    audit.record(
        store, audit.USER_CHANGED, user="(command line)", target=name, detail=f"role {role}"
    )
    out.print(f"{name} is now {role}.")


@users_app.command("password")
def users_password(
    name: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Set a new password (their sessions end)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = open_state(settings.home(home), state)
    user_store.set_password(store, name, _read_password(password_stdin))
    audit.record(
        store, audit.USER_CHANGED, user="(command line)", target=name, detail="password reset"
    )
    out.print(f"Password of {name} changed.")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument()],
    enable: Annotated[bool, typer.Option("--enable", help="Enable instead.")] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Disable (or --enable) an account."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = open_state(settings.home(home), state)
    user_store.set_disabled(store, name, not enable)
    audit.record(
        store,
        audit.USER_CHANGED,
        user="(command line)",
        target=name,
        detail="enabled" if enable else "disabled",
    )
    out.print(f"{name} is {'enabled' if enable else 'disabled'}.")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument()],
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Remove an account (the audit log keeps its entries)."""
    from csc_insight.appstate import audit
    from csc_insight.appstate import users as user_store

    store = open_state(settings.home(home), state)
    user_store.remove(store, name)
    audit.record(store, audit.USER_REMOVED, user="(command line)", target=name)
    out.print(f"Removed {name}.")
