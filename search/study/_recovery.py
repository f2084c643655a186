"""Recovering a study after a worker died or was stopped: its trials failed, runs closed, work queued again.

Runs under the study lock in every worker, before it claims a trial, so a dead worker's trial is noticed
by the next worker that looks (at once on the same machine, after the heartbeat grace period on others).
"""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.study._attrs import INTERRUPTED, REASON_ATTR, RETRY_OF_ATTR, WORKER_ATTR
from search.study._trials import is_interrupted
from search.study._workers import WORKER_HOST_ENV

if TYPE_CHECKING:
    from search.tracking import StudyTracker


@dataclass(frozen=True)
class Recovery:
    """What one recovery did (all zero when nothing needed it)."""

    n_dead: int = 0
    n_closed: int = 0
    n_requeued: int = 0

    def __bool__(self) -> bool:
        return bool(self.n_dead or self.n_closed or self.n_requeued)

    def describe(self) -> str:
        return (f"Recovering: {self.n_dead} dead trial(s) failed, {self.n_closed} stale run(s) closed, "
                f"{self.n_requeued} interrupted trial(s) queued again with the same parameters.")


def recover(study: optuna.Study, tracker: StudyTracker, parent_run_id: str, *, close_runs: bool = False) -> Recovery:
    """Fails trials whose worker died, closes their MLflow runs and queues them to run again.

    ``close_runs`` closes orphaned trial runs even when no trial died just now (on a study's (re)start).
    Call under the study lock.
    """
    n_dead = fail_dead_trials(study)
    n_closed = 0
    if n_dead or close_runs:
        n_closed = tracker.close_stale_trial_runs(parent_run_id, run_is_orphaned(study))
    return Recovery(n_dead, n_closed, requeue_interrupted(study))


def worker_id() -> str:
    """``host:pid`` of this process, recorded on every trial it runs."""
    return f"{os.environ.get(WORKER_HOST_ENV) or socket.gethostname()}:{os.getpid()}"


def _worker_is_dead(trial: FrozenTrial) -> bool:
    """True when the trial's worker ran on this machine and its process no longer exists."""
    worker = trial.user_attrs.get(WORKER_ATTR)
    if worker is None:
        # Just asked by a live worker that has not tagged it yet, or orphaned long ago.
        started = trial.datetime_start
        return started is not None and (datetime.now() - started).total_seconds() > 120
    host, _, pid_text = str(worker).rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's worker: its liveness is the storage heartbeat's business
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # a previous process with our (reused) pid: we have not started any trial yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_dead_trials(study: optuna.Study) -> int:
    """Fails RUNNING trials whose worker is gone; returns how many.

    Two checks: a worker process on this machine that no longer exists (immediate), and, for any
    machine, a heartbeat older than the storage's grace period (``optuna.storages.fail_stale_trials``).
    """
    dead = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if _worker_is_dead(t)]
    for trial in dead:
        study._storage.set_trial_user_attr(trial._trial_id, REASON_ATTR, INTERRUPTED)
        try:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # it finished meanwhile
    n_running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    n_stale = n_running - len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    return len(dead) + max(n_stale, 0)


def requeue_interrupted(study: optuna.Study) -> int:
    """Enqueues, once each, the parameters of trials that were interrupted, so they run again."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get(RETRY_OF_ATTR) for t in trials}
    n_enqueued = 0
    for trial in trials:
        if is_interrupted(trial) and trial.number not in retried:
            study.enqueue_trial(trial.params, user_attrs={RETRY_OF_ATTR: trial.number}, skip_if_exists=False)
            n_enqueued += 1
    return n_enqueued


def run_is_orphaned(study: optuna.Study, settle_s: float = 60.0) -> Callable[[int], bool]:
    """A predicate over trial numbers: is a still-RUNNING MLflow run of that trial left without an owner?

    True when the trial is unknown, was interrupted, or finished more than ``settle_s`` ago (its worker
    died between telling the study and closing the run). A trial that finished just now is not: its own
    worker is closing the run.
    """
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    now = datetime.now()

    def orphaned(number: int) -> bool:
        trial = trials.get(number)
        if trial is None or is_interrupted(trial):
            return True
        if trial.state.is_finished() and trial.datetime_complete is not None:
            return (now - trial.datetime_complete).total_seconds() > settle_s
        return False

    return orphaned
