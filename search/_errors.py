"""Errors that the CLI reports as one line (they are the user's to fix, not bugs)."""

from __future__ import annotations


class NotFoundError(LookupError):
    """A study, model or store that the command names does not exist (the message says which)."""
