"""Choosing the best trial on validation (ties: fewer parameters) and the leaderboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.errors import NoCompletedTrialError
from search.study import MACS_ATTR, N_PARAMS_ATTR, REASON_ATTR


def ranking_key(trial: FrozenTrial) -> tuple[float, int, int]:
    """Sort key: highest validation accuracy first, then fewer parameters, then earlier trial."""
    n_params = int(trial.user_attrs.get(N_PARAMS_ATTR, 2**62))
    return (-float(trial.value if trial.value is not None else float("-inf")), n_params, trial.number)


def completed_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Completed trials, best first."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(done, key=ranking_key)


def select_best(study: optuna.Study) -> FrozenTrial:
    """The selected trial: best validation accuracy, ties broken by fewer parameters."""
    ranked = completed_trials(study)
    if not ranked:
        raise NoCompletedTrialError(
            f"Study {study.study_name!r} has no completed trial yet; run `python -m search run` to add some."
        )
    return ranked[0]


@dataclass(frozen=True)
class LeaderboardRow:
    """One trial on the leaderboard."""

    rank: int
    trial: int
    val_accuracy: float
    n_params: int | None
    macs: int | None
    epochs: int
    duration_s: float | None
    params: dict[str, Any]


def leaderboard(study: optuna.Study, top: int | None = None) -> list[LeaderboardRow]:
    """Completed trials ranked as selection ranks them."""
    rows = []
    for rank, trial in enumerate(completed_trials(study)[:top], start=1):
        duration = trial.duration.total_seconds() if trial.duration else None
        rows.append(LeaderboardRow(
            rank=rank, trial=trial.number, val_accuracy=float(cast(float, trial.value)),  # completed: has a value
            n_params=trial.user_attrs.get(N_PARAMS_ATTR),
            macs=trial.user_attrs.get(MACS_ATTR), epochs=len(trial.intermediate_values), duration_s=duration,
            params=dict(trial.params),
        ))
    return rows


def state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per final state: complete, pruned, failed, interrupted, running, waiting."""
    counts = {"complete": 0, "pruned": 0, "failed": 0, "interrupted": 0, "running": 0, "waiting": 0}
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.FAIL:
            key = "interrupted" if trial.user_attrs.get(REASON_ATTR) == "interrupted" else "failed"
        else:
            key = trial.state.name.lower()
        counts[key] = counts.get(key, 0) + 1
    return counts
