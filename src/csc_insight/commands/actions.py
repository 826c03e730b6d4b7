"""The action plan: actions add, list, update, review, close and history."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from csc_insight import settings
from csc_insight.commands.common import (
    HomeOption,
    StateOption,
    app,
    fail,
    open_state,
    out,
    print_json,
)

actions_app = typer.Typer(
    help="The action plan: add, list, update, review and close actions, and see their history.",
    no_args_is_help=True,
)
app.add_typer(actions_app, name="actions")


def _default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "(command line)"


ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is making the change (default: your login name)."),
]


def _ids(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [i.strip() for v in values for i in v.split(",") if i.strip()]


def _print_action(a: Any) -> None:
    due = a.due_date.isoformat() if a.due_date else "no due date"
    out.print(
        f"#{a.id} [bold]{escape(a.title)}[/] ({a.status}; {escape(a.owner or 'no owner')}; "
        f"due {due})"
    )


@actions_app.command("add")
def actions_add(
    title: Annotated[str, typer.Argument(help="What will be done.")],
    owner: Annotated[str | None, typer.Option(help="Who owns it.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.")] = None,
    indicator: Annotated[
        list[str] | None,
        typer.Option("--indicator", help="Indicator id(s) it should move (repeat or comma)."),
    ] = None,
    concern: Annotated[
        str | None,
        typer.Option(help="The area of concern it answers (a key from `concerns --json`)."),
    ] = None,
    description: Annotated[str | None, typer.Option(help="More detail.")] = None,
    effect_from: Annotated[
        str | None,
        typer.Option("--effect-from", help="Month its effect is measured from (YYYY-MM)."),
    ] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Add an action to the plan."""
    from csc_insight import actions

    a = actions.create(
        open_state(settings.home(home), state),
        title=title,
        created_by=by or _default_user(),
        owner=owner,
        due_date=due,
        indicator_ids=_ids(indicator),
        concern=concern,
        description=description,
        effect_from=effect_from,
    )
    out.print(f"Added action #{a.id}.")
    _print_action(a)


@actions_app.command("list")
def actions_list(
    status: Annotated[
        str | None, typer.Option(help="Only this status: open, 'in progress', done, dropped.")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Include done and dropped actions.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the actions as JSON.")] = False,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """List the actions, soonest due first (open and in progress unless --all or --status)."""
    from csc_insight import actions

    found = actions.list_actions(
        open_state(settings.home(home), state),
        status=status,
        active_only=not show_all and status is None,
    )
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    table = RichTable(title="Actions")
    for column in ("#", "action", "owner", "due", "status", "indicators", "last review"):
        table.add_column(column)
    for a in found:
        last = a.last_review
        table.add_row(
            str(a.id),
            a.title,
            a.owner or "-",
            (a.due_date.isoformat() if a.due_date else "-") + (" (overdue)" if a.overdue() else ""),
            a.status,
            ", ".join(a.indicator_ids) or "-",
            f"{last.on.isoformat()}: {last.note}" if last else "-",
        )
    out.print(table)


@actions_app.command("update")
def actions_update(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date, YYYY-MM-DD.")] = None,
    status: Annotated[
        str | None, typer.Option(help="open, 'in progress', done or dropped.")
    ] = None,
    indicator: Annotated[
        list[str] | None,
        typer.Option("--indicator", help="Replace the linked indicator id(s)."),
    ] = None,
    concern: Annotated[str | None, typer.Option(help="The area of concern it answers.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes.")] = None,
    effect_from: Annotated[
        str | None, typer.Option("--effect-from", help="Month its effect is measured from.")
    ] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Change an action (only the options given); every change is kept in its history."""
    from csc_insight import actions

    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "title": title,
            "owner": owner,
            "due_date": due,
            "status": status,
            "indicator_ids": _ids(indicator),
            "concern": concern,
            "description": description,
            "notes": notes,
            "effect_from": effect_from,
        }.items()
        if v is not None
    }
    if not changes:
        fail("Nothing to change: give at least one option (see --help).")
    a = actions.update(
        open_state(settings.home(home), state), action_id, by=by or _default_user(), **changes
    )
    _print_action(a)


@actions_app.command("review")
def actions_review(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    note: Annotated[str, typer.Option(help="What the review found.")],
    status: Annotated[
        str | None, typer.Option(help="New status: open, 'in progress', done or dropped.")
    ] = None,
    on: Annotated[str | None, typer.Option(help="Date of the review (default today).")] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Add a dated review note (and optionally a new status)."""
    from csc_insight import actions

    a = actions.review(
        open_state(settings.home(home), state),
        action_id,
        by=by or _default_user(),
        note=note,
        status=status,
        on=on,
    )
    _print_action(a)


@actions_app.command("close")
def actions_close(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    dropped: Annotated[
        bool, typer.Option("--dropped", help="Close as dropped rather than done.")
    ] = False,
    note: Annotated[str | None, typer.Option(help="A closing review note.")] = None,
    by: ByOption = None,
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Close an action as done (or --dropped)."""
    from csc_insight import actions

    a = actions.close(
        open_state(settings.home(home), state),
        action_id,
        by=by or _default_user(),
        status=actions.DROPPED if dropped else actions.DONE,
        note=note,
    )
    _print_action(a)


@actions_app.command("history")
def actions_history(
    action_id: Annotated[int, typer.Argument(help="The action's number.")],
    home: HomeOption = None,
    state: StateOption = None,
) -> None:
    """Who changed what on an action, and when."""
    from csc_insight import actions

    table = RichTable(title=f"History of action #{action_id}")
    for column in ("when", "who", "field", "from", "to"):
        table.add_column(column)
    for c in actions.history(open_state(settings.home(home), state), action_id):
        table.add_row(
            c.at.strftime("%Y-%m-%d %H:%M"), c.by or "-", c.field, c.old or "-", c.new or "-"
        )
    out.print(table)
