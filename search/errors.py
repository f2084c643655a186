"""Every error the platform reports to a person, under one base class.

A ``SearchError`` is the user's to fix, not a bug: the CLI prints its message as one line and exits
with ``exit_status`` (1, or 2 for a usage error). Messages state the rule, the value and the fix, and
never show a password. ``fer_core`` raises its own ``FerError`` family, which the CLI treats the same.
"""

from __future__ import annotations


class SearchError(Exception):
    """A problem the user can fix; the CLI prints the message alone and exits with ``exit_status``."""

    exit_status = 1


class UsageError(SearchError):
    """A command-line usage error: flags that cannot go together, a value out of range."""

    exit_status = 2


class SettingsError(SearchError, ValueError):
    """A command-line value breaks a rule (the message names the flag, the value and the fix)."""


class NotFoundError(SearchError, LookupError):
    """A study, model or store that the command names does not exist (the message says which)."""


class NoCompletedTrialError(NotFoundError):
    """The study has no completed trial to select from."""


class StudyMismatchError(SearchError, ValueError):
    """The named study exists but was created for another space or other data."""


class StorageError(SearchError, RuntimeError):
    """The study storage cannot be reached or refused us (the message never shows a password)."""


class TrackingError(SearchError, RuntimeError):
    """The MLflow tracking store cannot be reached or used (the message never shows a password)."""


class InfrastructureError(SearchError, RuntimeError):
    """A service the work needs (tracking server, study storage, disk) stayed unavailable past the retry budget.

    Not the candidate's fault: the interrupted trial or refit is left to run again and nothing is counted.
    The distinct status (75, ``EX_TEMPFAIL`` of sysexits.h: "try again later") lets a scheduler restart the
    worker once the service is back.
    """

    exit_status = 75


class SamplerUnavailable(SearchError, RuntimeError):
    """A registered sampler whose optional dependency is not installed."""


class AlreadyScoredError(SearchError, RuntimeError):
    """The study's test split was already used (re-scoring needs ``--force``)."""


class PromotionRefused(SearchError, RuntimeError):
    """The study cannot be promoted as asked (not scored, or the current champion is better)."""


class RefitBusyError(SearchError):
    """Another process is refitting the same study."""


class CheckpointMismatchError(SearchError):
    """An unfinished refit was started with other settings than the ones asked for now."""


class UiError(SearchError):
    """The MLflow UI cannot be started as asked (no store, port taken, server died)."""


__all__ = [
    "AlreadyScoredError", "CheckpointMismatchError", "InfrastructureError", "NoCompletedTrialError", "NotFoundError",
    "PromotionRefused", "RefitBusyError", "SamplerUnavailable", "SearchError", "SettingsError", "StorageError",
    "StudyMismatchError", "TrackingError", "UiError", "UsageError",
]
