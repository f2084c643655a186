"""Infrastructure failures: telling them from a bad candidate, and riding them out for a bounded time.

A candidate that cannot be built, diverges or runs out of memory is the candidate's property: its trial
fails and counts. A tracking server or database that does not answer, a full disk or a permission refused
is not: the trial is left to run again (not counted), the worker waits with backoff for the services to
answer, and when they stay away past the retry budget it stops with ``InfrastructureError`` (one line
naming the service, exit status 75). Like PostgreSQL and MLflow themselves, nothing unfinished is counted.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search.defaults import DEFAULT_RETRY_S
from search.errors import InfrastructureError
from search.redaction import redact_text, redact_url
from search.tracking import is_tracking_outage, probe_store

if TYPE_CHECKING:
    import optuna

    from search.tracking import StudyTracker

_logger = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 15.0

DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO})
"""OSError numbers that are the machine's fault: full disk, quota, permission, read-only file system, I/O."""


def is_infrastructure_error(error: BaseException) -> bool:
    """True when ``error`` or any error it was raised from is an infrastructure failure, not the candidate's.

    Connections refused, reset or timed out (sockets, ``requests``, ``urllib3``, SQLAlchemy's
    ``OperationalError``/``InterfaceError``/``DisconnectionError``, a dropped database connection), MLflow
    "temporarily unavailable" answers, and disk errors (full, quota, permission, read-only, I/O).
    A candidate's ``MemoryError`` or TensorFlow's out-of-memory is not one: that is the candidate's size.
    """
    return any(_is_infrastructure(link) for link in _chain(error))


def fault_summary(error: BaseException) -> str:
    """``Type: first line`` of the innermost infrastructure error in ``error``'s chain (no password shown)."""
    links = [link for link in _chain(error) if _is_infrastructure(link)] or [error]
    root = links[-1]
    text = str(root).strip().splitlines()
    return redact_text(f"{type(root).__name__}: {text[0]}" if text else type(root).__name__)[:300]


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then what it was raised from (``__cause__``) or during (``__context__``), each once."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _is_infrastructure(error: BaseException) -> bool:
    if isinstance(error, (MemoryError, RecursionError)):
        return False
    if isinstance(error, (ConnectionError, TimeoutError)):
        return True
    if isinstance(error, OSError):
        return error.errno in DISK_ERRNOS
    if is_tracking_outage(error):
        return True
    return _is_connection_library_error(error)


def _is_connection_library_error(error: BaseException) -> bool:
    import requests
    import sqlalchemy.exc
    import urllib3.exceptions

    if isinstance(error, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                          requests.exceptions.RetryError, requests.exceptions.ChunkedEncodingError)):
        return True
    if isinstance(error, (urllib3.exceptions.MaxRetryError, urllib3.exceptions.NewConnectionError,
                          urllib3.exceptions.ProtocolError, urllib3.exceptions.TimeoutError)):
        return True
    if isinstance(error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                          sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError)):
        return True
    return isinstance(error, sqlalchemy.exc.DBAPIError) and bool(error.connection_invalidated)


@dataclass(frozen=True)
class Service:
    """A service the work needs, named for people, with a quick probe that raises when it does not answer."""

    name: str
    probe: Callable[[], object]

    def is_reachable(self) -> bool:
        try:
            self.probe()
        except Exception as error:  # noqa: BLE001 - any failure of the probe means "not now"
            _logger.debug("%s does not answer: %s", self.name, fault_summary(error))
            return False
        return True


def tracking_service(tracking_uri: str) -> Service:
    """The MLflow tracking store at ``tracking_uri``, as a probed service."""
    return Service(f"the MLflow tracking store {redact_url(tracking_uri)}", lambda: probe_store(tracking_uri))


def url_services(storage_url: str, tracking_uri: str) -> list[Service]:
    """The study storage at ``storage_url`` and the tracking store at ``tracking_uri``, as probed services."""
    return [Service(f"the study storage {redact_url(storage_url)}", lambda: probe_store(storage_url)),
            tracking_service(tracking_uri)]


def study_services(study: optuna.Study, tracker: StudyTracker) -> list[Service]:
    """The study's storage and its MLflow tracking store, as probed services."""
    storage = study._storage
    backend = getattr(storage, "_backend", storage)  # Optuna wraps an RDBStorage in a cache
    url = str(getattr(backend, "url", "") or "")
    name = study.study_name
    return [
        Service(f"the study storage {redact_url(url)}".rstrip(), lambda: storage.get_study_id_from_name(name)),
        tracking_service(tracker.tracking_uri),
    ]


class FaultRetry:
    """Rides out infrastructure failures: waits with backoff until the services answer, for ``budget_s`` in all.

    The budget counts from the first failure of a streak; ``succeeded()`` (a trial that ended on its own)
    ends the streak. Delays double from ``FIRST_DELAY_S`` up to ``MAX_DELAY_S``.

    Args:
        services: What to probe before work goes on.
        budget_s: Seconds a streak of failures may last before the worker stops.
        notify: Where a one-line notice goes when a streak starts.
        clock: Monotonic clock (seconds).
        sleep: Waits the given seconds.
    """

    def __init__(self, services: Sequence[Service], budget_s: float = DEFAULT_RETRY_S, *,
                 notify: Callable[[str], None] = _logger.warning, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if budget_s < 0:
            raise ValueError(f"the retry budget must be >= 0 seconds (got {budget_s})")
        self.services = list(services)
        self.budget_s = budget_s
        self._notify = notify
        self._clock = clock
        self._sleep = sleep
        self._since: float | None = None
        self._delay = FIRST_DELAY_S

    def succeeded(self) -> None:
        """Ends a streak of failures: the next failure gets the whole budget again."""
        self._since, self._delay = None, FIRST_DELAY_S

    def ride_out(self, error: BaseException, what: str) -> None:
        """Returns once work may go on after ``error`` (an infrastructure failure during ``what``).

        Raises:
            InfrastructureError: The budget is spent and a service still does not answer (or the disk
                still fails): one line naming it, the cause, and the fix.
        """
        now = self._clock()
        first = self._since is None
        if self._since is None:
            self._since = now
            self._notify(f"{what} hit an infrastructure failure ({fault_summary(error)}); retrying for up to "
                         f"{self.budget_s:g} s.")
        deadline = self._since + self.budget_s
        waited = False
        while True:
            down = [service for service in self.services if not service.is_reachable()]
            # A first failure whose services answer was a blip: go on at once. A repeated one waits its
            # backoff first, so a failure the probes cannot see (a full disk) still ends with the budget.
            if not down and (first or waited):
                return
            now = self._clock()
            if now >= deadline:
                raise infrastructure_error(error, down, self.budget_s)
            self._sleep(min(self._delay, deadline - now))
            self._delay = min(2 * self._delay, MAX_DELAY_S)
            waited = True


def infrastructure_error(error: BaseException, down: Sequence[Service], waited_s: float = 0.0) -> InfrastructureError:
    """The one-line error for a worker that stops on ``error``: names the services in ``down`` (or the disk)."""
    if down:
        where, verb = " and ".join(service.name for service in down), "did not answer"
    else:
        where, verb = _failing_resource(error), "kept failing" if waited_s else "failed"
    return InfrastructureError(
        f"{where} {verb}{f' for {waited_s:g} s' if waited_s else ''} ({fault_summary(error)}); the unfinished "
        "work was left to run again and nothing was counted: run the same command again once it is back"
    )


def unreachable(error: BaseException, services: Sequence[Service]) -> InfrastructureError:
    """``infrastructure_error`` for ``error`` at once, naming whichever of ``services`` does not answer now."""
    return infrastructure_error(error, [service for service in services if not service.is_reachable()])


def _failing_resource(error: BaseException) -> str:
    """What failed when no probed service is down: the disk (and the file) or an unnamed service."""
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno in DISK_ERRNOS:
            return f"the disk ({link.filename})" if link.filename else "the disk"
    return "a service the work needs"
