"""The Optuna engine's loop: claim a queued trial, run it, until the study has ``--trials`` counted ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager

import optuna

from search import study as st
from search.study import StudyProgress, StudySettings, TrialExecutor


def run_optuna_trials(study: optuna.Study, executor: TrialExecutor, settings: StudySettings,
                      lock: Callable[[], ContextManager[None]], progress: StudyProgress,
                      recover: Callable[[], None]) -> bool:
    """Runs queued trials until the study has its count or time is up; True when interrupted.

    Optuna's sampler proposes each trial's parameters and its pruner stops bad ones; several workers may
    run this loop on one study. ``recover`` fails dead workers' trials and queues interrupted ones again.
    A storage or tracking store that stops answering during the study's bookkeeping is waited for, like one
    that fails a trial (``executor.faults``).

    Raises:
        InfrastructureError: A service stayed unreachable past the retry budget; nothing was counted.
    """
    deadline = time.monotonic() + settings.timeout_s if settings.timeout_s else None
    try:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                progress.message(f"--timeout of {settings.timeout_s:g}s reached: no new trial is started.")
                return False
            waiting_since = time.perf_counter()
            try:
                with lock():
                    recover()
                    st.ensure_slots(study, settings.n_trials)
                    room = st.n_counted(study) + st.n_running(study) < settings.n_trials
                    trial = st.claim_queued_trial(study) if room else None
                if trial is not None:
                    # Time spent on the study's shared bookkeeping (lock, storage) before this trial.
                    trial.set_user_attr(st.QUEUE_WAIT_ATTR, time.perf_counter() - waiting_since)
            except Exception as error:
                if not st.is_infrastructure_error(error):
                    raise
                executor.faults.ride_out(error, "the study's bookkeeping")
                continue
            if trial is not None:
                executor.run_one(trial)
            elif st.n_running(study) == 0:
                return False
            else:
                # Other workers are still running the last trials; stay in case one of them dies.
                time.sleep(min(5.0, settings.heartbeat_s / 2))
    except KeyboardInterrupt:
        progress.message("Interrupted: the current trial was recorded as failed (interrupted); "
                         "run the same command again to resume.")
        return True
