"""The study's queue: workers only run queued trials, claimed one at a time, atomically.

However many workers share a study, it ends with exactly ``--trials`` counted trials: a worker adds one
empty trial ("slot") to the queue under the study lock, then claims a queued trial; the storage lets only
one worker move a trial from WAITING to RUNNING.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.study._trials import is_counted


def ensure_slots(study: optuna.Study, n_trials: int) -> int:
    """Queues one empty trial ("slot") when none is queued and the study still needs trials.

    Call under the study lock, right before claiming. One slot at a time: a time-boxed study with a
    large ``--trials`` never fills its storage with thousands of queued trials. Returns the number of
    slots added (0 or 1).
    """
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.WAITING for t in trials):
        return 0
    n_pending = sum(is_counted(t) or t.state == TrialState.RUNNING for t in trials)
    if n_pending >= n_trials:
        return 0
    study.enqueue_trial({}, skip_if_exists=False)
    return 1


def claim_queued_trial(study: optuna.Study) -> optuna.Trial | None:
    """Takes any one queued trial; unlike ``Study.ask`` it never creates one: None when the queue is empty."""
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        trial = claim_trial(study, frozen)
        if trial is not None:
            return trial
    return None


def claim_trial(study: optuna.Study, frozen: FrozenTrial) -> optuna.Trial | None:
    """Moves the queued trial ``frozen`` to RUNNING; None when another worker claimed it first."""
    try:
        if not study._storage.set_trial_state_values(frozen._trial_id, state=TrialState.RUNNING):
            return None
    except optuna.exceptions.UpdateFinishedTrialError:
        return None
    # As Study.ask does: make the sampler see the trials finished since the last one.
    study._thread_local.cached_all_trials = None
    return optuna.Trial(study, frozen._trial_id)
