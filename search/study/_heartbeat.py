"""A trial's heartbeat: while it runs, the worker stamps the storage so others can tell it is alive.

Optuna records heartbeats only inside ``Study.optimize``; our trials run through ask-and-tell, so the
worker beats itself. A trial whose heartbeat is older than the storage's grace period is failed by
``optuna.storages.fail_stale_trials`` in any worker, and then run again with the same parameters.
A beat that cannot be written is logged (a warning on stderr): silent misses would let a live trial look
dead and be run again elsewhere without anyone knowing why.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

import optuna

from search.study._faults import fault_summary

_logger = logging.getLogger(__name__)


class Heartbeat:
    """Context manager that records a heartbeat for ``trial_id`` every ``interval`` seconds.

    Args:
        storage: The study's storage (a no-op when its heartbeat is not enabled).
        trial_id: Storage id of the running trial.
    """

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int) -> None:
        # Any: record_heartbeat belongs to the storages with a heartbeat (RDBStorage), not to BaseStorage.
        self._storage: Any = storage
        self._trial_id = trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.n_missed = 0

    def __enter__(self) -> Heartbeat:
        interval = _interval(self._storage)
        if interval is not None:
            self._storage.record_heartbeat(self._trial_id)
            self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True,
                                            name="fer-heartbeat")
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as error:  # noqa: BLE001 - a missed beat must not kill the training; it is logged
                self.n_missed += 1
                _logger.warning(
                    "Heartbeat of trial id %d not recorded (%s); %d missed in a row. Silent for %g s, the trial "
                    "counts as dead and other workers run it again.",
                    self._trial_id, fault_summary(error), self.n_missed,
                    getattr(self._storage, "grace_period", None) or 2 * interval,
                )
            else:
                self.n_missed = 0


def _interval(storage: optuna.storages.BaseStorage) -> float | None:
    get_interval = getattr(storage, "get_heartbeat_interval", None)
    return get_interval() if get_interval is not None else None
