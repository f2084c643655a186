"""What a study's trials count as: finished, interrupted (run again), and how they rank on validation.

One definition of each, shared by the loop that runs trials, recovery, the leaderboard, the summary and
the report.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.study._attrs import INTERRUPTED, N_PARAMS_ATTR, REASON_ATTR

STATE_NAMES = ("complete", "pruned", "failed", "interrupted", "running", "waiting")


def is_interrupted(trial: FrozenTrial) -> bool:
    """A trial that failed because its process stopped (Ctrl-C, SIGTERM, death): it is run again.

    A trial failed by a heartbeat check carries no reason; one stopped by a signal says "interrupted".
    """
    return trial.state == TrialState.FAIL and trial.user_attrs.get(REASON_ATTR, INTERRUPTED) == INTERRUPTED


def is_counted(trial: FrozenTrial) -> bool:
    """A finished trial that counts towards ``--trials`` (interrupted ones are run again)."""
    return trial.state.is_finished() and not is_interrupted(trial)


def n_counted(study: optuna.Study) -> int:
    """Trials that count towards ``--trials``."""
    return sum(is_counted(t) for t in study.get_trials(deepcopy=False))


def n_running(study: optuna.Study) -> int:
    """Trials some worker is running now."""
    return len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def has_complete(study: optuna.Study) -> bool:
    """Whether any trial completed (there is something to select)."""
    return any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))


def state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state: complete, pruned, failed, interrupted, running, waiting."""
    counts = dict.fromkeys(STATE_NAMES, 0)
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.FAIL:
            key = "interrupted" if is_interrupted(trial) else "failed"
        else:
            key = trial.state.name.lower()
        counts[key] = counts.get(key, 0) + 1
    return counts


def ranking_key(trial: FrozenTrial) -> tuple[float, int, int]:
    """Sort key: highest validation accuracy first, then fewer parameters, then earlier trial."""
    n_params = int(trial.user_attrs.get(N_PARAMS_ATTR, 2**62))
    return (-float(trial.value if trial.value is not None else float("-inf")), n_params, trial.number)


def completed_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Completed trials, best first."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(done, key=ranking_key)
