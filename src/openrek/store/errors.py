"""Errors of the metadata store that callers turn into AWS's errors."""

from __future__ import annotations


class DuplicateError(Exception):
    """A row with the same unique name already exists."""


class StaleRevisionError(Exception):
    """An optimistic-concurrency check failed: the row changed (or never existed) under this revision."""
