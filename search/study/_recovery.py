"""Recovering a study after a worker died or was stopped: its trials failed, runs closed, work queued again.

Runs under the study lock in every worker, before it claims a trial, so a dead worker's trial is noticed
by the next worker that looks (at once on the same machine, after the heartbeat grace period on others).

A trial whose worker died (it recorded nothing: killed for host memory, a native crash) is a crash; a
trial stopped by Ctrl-C or SIGTERM recorded its interruption and is not. Each re-queued trial carries how
many times its parameter set has crashed a worker: at ``max_crashes`` it ends as failed with that reason,
counted like any failed candidate, instead of being run again on every resume.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.study._attrs import (
    CRASHED_ATTR,
    CRASHES_ATTR,
    INTERRUPTED,
    REASON_ATTR,
    RETRY_OF_ATTR,
    RUN_ID_ATTR,
    WORKER_ATTR,
)
from search.study._trials import is_interrupted
from search.study._workers import WORKER_HOST_ENV

if TYPE_CHECKING:
    from search.tracking import StudyTracker

DEFAULT_MAX_CRASHES = 3
"""Worker crashes a parameter set may cause before it ends as failed (``run --max-crashes``)."""


@dataclass(frozen=True)
class Recovery:
    """What one recovery did (all zero when nothing needed it)."""

    n_dead: int = 0
    n_closed: int = 0
    n_requeued: int = 0
    n_crashed_out: int = 0

    def __bool__(self) -> bool:
        return bool(self.n_dead or self.n_closed or self.n_requeued or self.n_crashed_out)

    def describe(self) -> str:
        text = (f"Recovering: {self.n_dead} dead trial(s) failed, {self.n_closed} stale run(s) closed, "
                f"{self.n_requeued} interrupted trial(s) queued again with the same parameters.")
        if self.n_crashed_out:
            text += (f" {self.n_crashed_out} trial(s) ended as failed: their parameters crashed a worker "
                     "--max-crashes times.")
        return text


def recover(study: optuna.Study, tracker: StudyTracker, parent_run_id: str, *, close_runs: bool = False,
            max_crashes: int = DEFAULT_MAX_CRASHES) -> Recovery:
    """Fails trials whose worker died, closes their MLflow runs and queues them to run again.

    ``close_runs`` closes orphaned trial runs even when no trial died just now (on a study's (re)start).
    A trial whose parameters have crashed a worker ``max_crashes`` times is not queued again: it ends as
    failed with that reason, in the study and on its MLflow run. Call under the study lock.
    """
    from search.tracking import TrialState as RunState

    dead = fail_crashed_trials(study, max_crashes=max_crashes)
    n_closed = 0
    if dead or close_runs:
        n_closed = tracker.close_stale_trial_runs(parent_run_id, run_is_orphaned(study))
    crashed_out = [trial for trial in dead if is_crashed_out(trial)]
    for trial in crashed_out:  # closed as KILLED just now, like every dead trial's run: FAILED, with the reason
        run_id = trial.user_attrs.get(RUN_ID_ATTR)
        if run_id is not None:
            tracker.finish_trial_run(run_id, RunState.FAILED, trial.user_attrs[REASON_ATTR])
    return Recovery(len(dead), n_closed, requeue_interrupted(study), len(crashed_out))


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


def fail_dead_trials(study: optuna.Study, *, max_crashes: int = DEFAULT_MAX_CRASHES) -> int:
    """Fails RUNNING trials whose worker is gone; returns how many (see ``fail_crashed_trials``)."""
    return len(fail_crashed_trials(study, max_crashes=max_crashes))


def fail_crashed_trials(study: optuna.Study, *, max_crashes: int = DEFAULT_MAX_CRASHES) -> list[FrozenTrial]:
    """Fails RUNNING trials whose worker is gone, each marked as a crash; returns them as they are now.

    Two checks: a worker process on this machine that no longer exists (immediate), and, for any
    machine, a heartbeat older than the storage's grace period (Optuna's heartbeat). A trial is run
    again (reason ``interrupted``) unless its parameters have now crashed ``max_crashes`` workers: then
    its reason says so and it counts as a failed trial. Attributes are written before the state: Optuna
    refuses to change a finished trial.
    """
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    stale = set(_stale_trial_ids(study))
    failed = []
    for trial in running:
        if trial._trial_id not in stale and not _worker_is_dead(trial):
            continue
        crashes = int(trial.user_attrs.get(CRASHES_ATTR, 0)) + 1
        reason = crash_reason(crashes, max_crashes) if trial.params and crashes >= max_crashes else INTERRUPTED
        try:
            study._storage.set_trial_user_attr(trial._trial_id, CRASHED_ATTR, True)
            study._storage.set_trial_user_attr(trial._trial_id, REASON_ATTR, reason)
            if study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                failed.append(study._storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # it finished meanwhile, or another worker failed it first
    return failed


def _stale_trial_ids(study: optuna.Study) -> list[int]:
    """RUNNING trials whose heartbeat is older than the storage's grace period (none without heartbeats)."""
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled

    storage = study._storage
    if not isinstance(storage, BaseHeartbeat) or not is_heartbeat_enabled(storage):
        return []
    return list(storage._get_stale_trial_ids(study._study_id))


def n_crashes(trial: FrozenTrial) -> int:
    """How many times the trial's parameter set has crashed a worker, this trial included."""
    return int(trial.user_attrs.get(CRASHES_ATTR, 0)) + bool(trial.user_attrs.get(CRASHED_ATTR))


def crash_reason(crashes: int, max_crashes: int) -> str:
    """The ``fail_reason`` of a trial whose parameters crashed their worker too often."""
    return (f"crashed its worker {crashes} times (the process died while training these parameters: out of host "
            f"memory or a native crash); not run again (--max-crashes {max_crashes})")


def is_crashed_out(trial: FrozenTrial) -> bool:
    """A trial ended as failed because its parameters crashed their worker ``--max-crashes`` times."""
    return bool(trial.user_attrs.get(CRASHED_ATTR)) and not is_interrupted(trial)


def requeue_interrupted(study: optuna.Study) -> int:
    """Enqueues, once each, the parameters of trials that were interrupted, so they run again.

    The new trial carries the crashes of its parameter set so far (``CRASHES_ATTR``).
    """
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get(RETRY_OF_ATTR) for t in trials}
    n_enqueued = 0
    for trial in trials:
        if is_interrupted(trial) and trial.number not in retried:
            crashes = n_crashes(trial) if trial.params else 0  # no parameters yet: nothing to count them for
            study.enqueue_trial(trial.params, user_attrs={RETRY_OF_ATTR: trial.number, CRASHES_ATTR: crashes},
                                skip_if_exists=False)
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
