"""Errors a user can cause. Each message says what was wrong, where, and what to do about it.

The CLI prints these without a stack trace and exits with status 2.
"""


class C2CError(Exception):
    """Base class: a problem with input, settings or state that the user can fix."""


class SettingsError(C2CError):
    """A settings file has an unknown key, a bad value, or references an unset environment variable."""


class StorageError(C2CError):
    """A table cannot be read or written as asked."""


class TableNotFoundError(StorageError):
    """The table has never been written (no Delta log at its path)."""


class SchemaMismatchError(StorageError):
    """The data's schema differs from the table's and schema evolution was not asked for."""


class ConcurrentWriteError(StorageError):
    """Another writer committed a conflicting change first; this write left nothing behind."""


class EngineUnavailableError(StorageError):
    """Settings force the delta-spark engine but its classes are not on the classpath."""


class RestrictedZoneError(StorageError):
    """A direct or quasi identifier was about to be written outside the restricted root."""
