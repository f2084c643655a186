"""A trial's heartbeat: while it runs, the worker stamps the storage so others can tell it is alive.

Optuna records heartbeats only inside ``Study.optimize``; our trials run through ask-and-tell, so the
worker beats itself. A trial whose heartbeat is older than the storage's grace period is failed by
``optuna.storages.fail_stale_trials`` in any worker, and then run again with the same parameters.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import optuna


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
            except Exception:  # noqa: BLE001 - a missed beat must not kill the training
                pass


def _interval(storage: optuna.storages.BaseStorage) -> float | None:
    get_interval = getattr(storage, "get_heartbeat_interval", None)
    return get_interval() if get_interval is not None else None
