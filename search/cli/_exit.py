"""Exit statuses of ``python -m search``, and which errors are the user's to fix."""

from __future__ import annotations

from search.errors import SearchError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def exit_status(error: Exception) -> int | None:
    """The exit status of an error that is the user's to fix (printed as one line); None for a bug."""
    from fer_core.errors import FerError

    if isinstance(error, SearchError):
        return error.exit_status
    if isinstance(error, (FerError, FileNotFoundError)):
        return EXIT_ERROR
    return None


__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "exit_status"]
