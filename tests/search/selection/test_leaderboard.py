"""Selection: highest validation accuracy, ties broken by fewer parameters; counts per state."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

from search.cli import format_leaderboard
from search.errors import NoCompletedTrialError
from search.selection import leaderboard, select_best
from search.study import state_counts


def _study_with(*trials: tuple[float | None, int | None, TrialState, dict]) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for value, n_params, state, attrs in trials:
        trial = study.ask()
        if n_params is not None:
            trial.set_user_attr("n_params", n_params)
        for key, attr in attrs.items():
            trial.set_user_attr(key, attr)
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    return study


def test_best_is_highest_validation_accuracy_and_ties_prefer_fewer_parameters() -> None:
    study = _study_with(
        (0.50, 1000, TrialState.COMPLETE, {}),
        (0.60, 9000, TrialState.COMPLETE, {}),
        (0.60, 4000, TrialState.COMPLETE, {}),
        (None, None, TrialState.PRUNED, {}),
    )
    assert select_best(study).number == 2
    assert [row.trial for row in leaderboard(study)] == [2, 1, 0]


def test_no_completed_trial_is_a_clear_error() -> None:
    study = _study_with((None, None, TrialState.FAIL, {"fail_reason": "diverged"}))
    with pytest.raises(NoCompletedTrialError, match="has no completed trial yet"):
        select_best(study)


def test_state_counts_separate_interrupted_from_failed() -> None:
    study = _study_with(
        (0.5, 10, TrialState.COMPLETE, {}),
        (None, None, TrialState.FAIL, {"fail_reason": "interrupted"}),
        (None, None, TrialState.FAIL, {"fail_reason": "diverged: NaN loss at epoch 2"}),
        (None, None, TrialState.PRUNED, {}),
    )
    counts = state_counts(study)
    assert (counts["complete"], counts["pruned"], counts["failed"], counts["interrupted"]) == (1, 1, 1, 1)


def test_a_trial_failed_by_its_heartbeat_counts_as_interrupted_as_it_is_rerun() -> None:
    study = _study_with((None, None, TrialState.FAIL, {}))  # failed by a stale heartbeat: no reason recorded
    assert state_counts(study)["interrupted"] == 1 and state_counts(study)["failed"] == 0


def test_leaderboard_formats_as_table_and_json() -> None:
    study = _study_with((0.61234, 12_345, TrialState.COMPLETE, {"macs": 2_500_000}))
    table = format_leaderboard(leaderboard(study))
    assert "0.6123" in table and "12.35k" in table and "2.50M" in table
    assert json.loads(format_leaderboard(leaderboard(study), "json"))[0]["n_params"] == 12_345
