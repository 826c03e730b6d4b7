"""The app's own state: users, sessions, the audit log, actions, settings and uploads.

Kept apart from the warehouse (which holds only data loads) in a small transactional store:
SQLite in the workspace by default, PostgreSQL by URL for a shared deployment. See
docs/security.md.
"""

from csc_insight.appstate.store import AppState, StateError, default_url
from csc_insight.appstate.users import ROLES, User, UserError

__all__ = ["ROLES", "AppState", "StateError", "User", "UserError", "default_url"]
