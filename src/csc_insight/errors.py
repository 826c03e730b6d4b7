"""Errors csc-insight raises on purpose: the CLI prints their message instead of a traceback."""

from __future__ import annotations


class CscInsightError(Exception):
    """Base of every error whose message is meant for the user."""


class ConfigError(CscInsightError):
    """A setting or argument is missing or invalid."""


class InputError(CscInsightError):
    """A whole input file cannot be used (unreadable, wrong shape, ambiguous)."""


class WarehouseError(CscInsightError):
    """The warehouse cannot be opened or written."""
