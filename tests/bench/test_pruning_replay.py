"""The offline pruning replay of bench/pruning.py: real Optuna pruners over recorded learning curves."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "research"))

from _pruning_replay import DrawSummary, RecordedTrial, replay_draws, replay_pruner, synthetic_trials  # noqa: E402

MAX_EPOCHS = 12


def _flat(level: float, epochs: int = MAX_EPOCHS) -> RecordedTrial:
    return RecordedTrial([level] * epochs, level)


def _best_first_study() -> list[RecordedTrial]:
    """Trial 0 is the best at every epoch; 18 worse trials follow (one failed before training)."""
    worse = [_flat(0.40 - 0.01 * i) for i in range(18)]
    return [_flat(0.60), *worse[:5], RecordedTrial([], None), *worse[5:]]


def test_without_a_pruner_every_epoch_is_replayed() -> None:
    trials = [RecordedTrial([0.2, 0.3, 0.25], 0.3), RecordedTrial([], None), _flat(0.4)]
    replay = replay_pruner(trials, pruner="none", max_epochs=MAX_EPOCHS, study_name="nop")
    assert replay.epochs == 3 + MAX_EPOCHS
    assert replay.best_value == 0.4
    assert replay.pruned_at == {}


def test_hyperband_stops_worse_trials_and_counts_only_the_epochs_they_ran() -> None:
    trials = _best_first_study()
    replay = replay_pruner(trials, pruner="hyperband", max_epochs=MAX_EPOCHS, study_name="draw-0")
    assert replay.pruned_at, "trials worse than the first at every epoch must be pruned"
    assert 0 not in replay.pruned_at
    assert all(1 <= epoch < MAX_EPOCHS for epoch in replay.pruned_at.values())
    expected = sum(replay.pruned_at.get(number, len(trial.curve)) for number, trial in enumerate(trials))
    assert replay.epochs == expected
    assert replay.best_value == 0.60


def test_replay_is_deterministic_for_a_study_name() -> None:
    trials = _best_first_study()
    first = replay_pruner(trials, pruner="hyperband", max_epochs=MAX_EPOCHS, study_name="same")
    again = replay_pruner(trials, pruner="hyperband", max_epochs=MAX_EPOCHS, study_name="same")
    assert first == again


def test_draws_summarise_share_and_gap() -> None:
    trials = _best_first_study()
    draws = replay_draws(trials, pruner="hyperband", max_epochs=MAX_EPOCHS, n_draws=10)
    assert len(draws.shares) == len(draws.gaps) == 10
    assert all(0 < share < 1 for share in draws.shares)
    assert draws.gaps == [pytest.approx(0.0)] * 10  # the best trial leads from its first epoch: never pruned
    assert draws.fraction_meeting(max_share=1.0, max_gap=0.0) == 1.0
    assert draws.fraction_meeting(max_share=min(draws.shares) - 1e-9, max_gap=1.0) == 0.0


def test_describe_gives_mean_range_quantiles_and_hit_rate_in_points() -> None:
    draws = DrawSummary(shares=[0.3, 0.35, 0.5, 0.45], gaps=[0.0, 0.02, 0.005, 0.0])
    summary = draws.describe(max_share=0.4, max_gap=0.01)
    assert summary["mean_share"] == pytest.approx(0.4)
    assert (summary["share_min"], summary["share_max"]) == (0.3, 0.5)
    assert 0.3 <= summary["share_p10"] <= summary["share_p90"] <= 0.5
    assert summary["mean_gap_points"] == pytest.approx(0.625) and summary["gap_max_points"] == pytest.approx(2.0)
    assert summary["fraction_meeting"] == 0.25 and summary["draws"] == 4  # only (0.3, 0.0) meets both
    one = DrawSummary(shares=[0.42], gaps=[0.0]).describe(max_share=0.4, max_gap=0.01)
    assert one["share_p10"] == one["share_p90"] == 0.42 and one["fraction_meeting"] == 0.0


def test_the_schedule_marked_as_the_product_replays_like_the_registered_pruner() -> None:
    """bench/pruning_schedules.py's "(product)" row must have the product's settings: fails if either changes."""
    from pruning import PRUNER
    from pruning_schedules import PRODUCT_SCHEDULE, schedules

    rng = np.random.default_rng(7)
    differing = set()
    for draw in range(3):
        trials, name = synthetic_trials(rng, n_trials=20, epochs=MAX_EPOCHS), f"product-{draw}"
        by_registry = replay_pruner(trials, pruner=PRUNER, max_epochs=MAX_EPOCHS, study_name=name)
        for schedule, pruner in schedules().items():
            if replay_pruner(trials, pruner=pruner, max_epochs=MAX_EPOCHS, study_name=name) != by_registry:
                differing.add(schedule)
    assert PRODUCT_SCHEDULE not in differing
    assert differing == schedules().keys() - {PRODUCT_SCHEDULE}  # the check can tell settings apart


def test_successive_halving_alone_spends_fewer_epochs_than_hyperband_on_the_same_draws() -> None:
    trials = _best_first_study()
    hyperband = replay_draws(trials, pruner="hyperband", max_epochs=MAX_EPOCHS, n_draws=10)
    halving = replay_draws(trials, max_epochs=MAX_EPOCHS, n_draws=10,
                           pruner=lambda max_epochs: optuna.pruners.SuccessiveHalvingPruner(1, 4))
    # No hedging bracket that runs every trial to a first decision at a later epoch.
    assert max(halving.shares) < min(hyperband.shares)


def test_synthetic_trials_are_running_best_curves_of_the_requested_shape() -> None:
    trials = synthetic_trials(np.random.default_rng(0), n_trials=20, epochs=MAX_EPOCHS)
    assert len(trials) == 20
    for trial in trials:
        assert len(trial.curve) == MAX_EPOCHS
        assert all(later >= earlier for earlier, later in zip(trial.curve, trial.curve[1:]))
        assert trial.value == trial.curve[-1]
        assert 0.0 < trial.curve[0] < 0.6
    finals = [trial.value for trial in trials]
    assert max(finals) - min(finals) > 0.05  # trials differ, so a pruner has something to rank
    again = synthetic_trials(np.random.default_rng(0), n_trials=20, epochs=MAX_EPOCHS)
    assert again == trials
