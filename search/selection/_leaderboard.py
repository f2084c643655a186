"""Choosing the best trial on validation and the leaderboard, in the order of ``search.study.ranking_key``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import optuna
from optuna.trial import FrozenTrial

from search.errors import NoCompletedTrialError
from search.study import LATENCY_ATTR, LATENCY_BATCH_ATTR, MACS_ATTR, N_PARAMS_ATTR, completed_trials


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
    latency_ms: float | None = None
    """Single-face inference latency on the machine that ran the trial (None: timed before latency existed)."""
    latency_batch_ms: float | None = None


def leaderboard(study: optuna.Study, top: int | None = None) -> list[LeaderboardRow]:
    """Completed trials ranked as selection ranks them."""
    rows = []
    for rank, trial in enumerate(completed_trials(study)[:top], start=1):
        duration = trial.duration.total_seconds() if trial.duration else None
        rows.append(LeaderboardRow(
            rank=rank, trial=trial.number, val_accuracy=float(cast(float, trial.value)),  # completed: has a value
            n_params=trial.user_attrs.get(N_PARAMS_ATTR),
            macs=trial.user_attrs.get(MACS_ATTR), epochs=len(trial.intermediate_values), duration_s=duration,
            params=dict(trial.params), latency_ms=trial.user_attrs.get(LATENCY_ATTR),
            latency_batch_ms=trial.user_attrs.get(LATENCY_BATCH_ATTR),
        ))
    return rows
