"""bench/_pruning_signal.py: the candidate pruner signal, best validation accuracy so far, ties broken by loss."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import optuna
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "research"))

from _pruning_signal import PruningSignal  # noqa: E402

N_VALIDATION = 3589  # FER2013's PublicTest: one face is 1 / 3589 of accuracy


def _face(count: int) -> float:
    return count / N_VALIDATION


def test_the_signal_is_the_best_accuracy_so_far_within_half_a_face() -> None:
    signal = PruningSignal(N_VALIDATION)
    reported = [signal.update(a, 1.5) for a in (math.nan, _face(1000), _face(900), math.nan, _face(1200), _face(1100))]
    assert math.isnan(reported[0])
    best = [_face(1000), _face(1000), _face(1000), _face(1200), _face(1200)]
    for value, accuracy in zip(reported[1:], best):
        assert accuracy - 0.5 / N_VALIDATION < value < accuracy


def test_one_face_more_outranks_any_loss() -> None:
    better, worse = PruningSignal(N_VALIDATION), PruningSignal(N_VALIDATION)
    assert better.update(_face(895), 1e9) > worse.update(_face(894), 0.0)
    assert better.update(_face(895), math.nan) > worse.update(_face(894), 0.0)  # a NaN loss is the worst loss


def test_equal_accuracies_rank_by_the_lowest_loss_reached_at_that_accuracy() -> None:
    majority = _face(895)  # every face called "Happy"
    confident, unsure = PruningSignal(N_VALIDATION), PruningSignal(N_VALIDATION)
    assert confident.update(majority, 1.6) > unsure.update(majority, 1.9)
    # The unsure trial's loss falls while it still predicts the majority class: it now ranks first.
    assert unsure.update(majority + 1e-8, 1.5) > confident.value  # float32 noise in accuracy is no difference
    # A later epoch with worse accuracy does not change the signal, whatever its loss.
    before = unsure.value
    assert unsure.update(_face(700), 0.1) == before


def test_successive_halving_prunes_majority_class_ties_by_loss() -> None:
    """Without the tie-breaker every trial tied at the majority rate is promoted; with it, only the best."""

    def pruned_trials(with_loss: bool) -> list[int]:
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=4)
        study = optuna.create_study(direction="maximize", pruner=pruner)
        pruned = []
        for number, loss in enumerate([1.80, 1.70, 1.75, 1.85, 1.90, 1.72, 1.88, 1.95]):
            trial = study.ask()
            signal = PruningSignal(N_VALIDATION)
            trial.report(signal.update(_face(895), loss if with_loss else math.inf), 1)
            if trial.should_prune():
                pruned.append(number)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, 0.3)
        return pruned

    assert pruned_trials(with_loss=False) == []
    assert pruned_trials(with_loss=True) == [2, 3, 4, 5, 6, 7]  # only a new lowest loss is promoted


def test_validation_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n_validation must be >= 1"):
        PruningSignal(0)
