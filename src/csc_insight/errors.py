"""Errors a council analyst can act on; the CLI prints their message, never a traceback."""


class CscInsightError(Exception):
    """Base of every error csc-insight reports to its user in plain English."""


class InputError(CscInsightError):
    """A file or folder given to csc-insight cannot be used as it is."""


class ConfigError(CscInsightError):
    """A setting or option is wrong or something it needs is missing."""


class WarehouseError(CscInsightError):
    """The warehouse cannot be opened or written."""
