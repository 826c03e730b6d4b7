"""The action plan: actions agreed at the meeting, reviewed and closed, with their history.

For the dashboard and the API (every function takes the ``AppState`` first)::

    create(state, *, title, created_by, description=None, owner=None, due_date=None,
           indicator_ids=None, concern=None, status="open", notes=None, effect_from=None)
    update(state, action_id, *, by, **changes)        # any of FIELDS
    review(state, action_id, *, by, note, status=None, on=None)
    close(state, action_id, *, by, status="done", note=None)   # done or dropped
    list(state, *, status=None, indicator_id=None, concern=None, due_by=None,
         active_only=False)                           # also list_actions
    get(state, action_id)
    history(state, action_id)                         # [Change], oldest first

Each returns ``Action`` (or a list); bad input raises ``ActionError`` with a plain message.
``effect.movement(action, figures, period)`` says how its indicators moved since.
"""

from __future__ import annotations

from csc_insight.actions.plan import (
    ACTIVE,
    CLOSED,
    DONE,
    DROPPED,
    FIELDS,
    IN_PROGRESS,
    OPEN,
    STATUSES,
    Action,
    ActionError,
    Change,
    Review,
    close,
    create,
    get,
    history,
    list_actions,
    review,
    update,
)

list = list_actions  # actions.list, as the dashboard calls it

__all__ = [
    "ACTIVE",
    "CLOSED",
    "DONE",
    "DROPPED",
    "FIELDS",
    "IN_PROGRESS",
    "OPEN",
    "STATUSES",
    "Action",
    "ActionError",
    "Change",
    "Review",
    "close",
    "create",
    "get",
    "history",
    "list",
    "list_actions",
    "review",
    "update",
]
