"""Replays recorded learning curves through the study's pruner, without training anything.

A study without pruning records every trial's whole validation curve. Feeding those curves, trial by
trial and epoch by epoch, to a fresh Optuna study with a pruner gives what that pruner would have stopped
on exactly those curves. A real pruned run can differ a little: CPU training is not bit-reproducible, and
``bench/research/pruning.py`` counts the trials whose replayed curve did not follow the recorded one. Hyperband
assigns each trial to a bracket by a hash of the study name and the trial number, so replaying under other
study names samples other bracket draws: the spread of pruning's cost and loss over draws, not just the one
draw a single run happens to get. ``synthetic_trials`` makes data-free studies for comparing schedules
(``bench/research/pruning_schedules.py``) beside the recorded ones.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import optuna

    # A pruner registered in ``search.study._samplers`` by name, or a factory taking the maximum epochs.
    PrunerSpec = str | Callable[[int], optuna.pruners.BasePruner]


@dataclass(frozen=True)
class RecordedTrial:
    """One trial of a study run without pruning.

    Args:
        curve: The value reported to the pruner after each epoch, the best validation accuracy so far
            (empty for a trial that failed before training).
        value: The trial's final value (None unless it completed).
    """

    curve: Sequence[float]
    value: float | None


@dataclass(frozen=True)
class Replay:
    """What the pruner would have done with the recorded trials.

    Args:
        epochs: Epochs the pruned study would have trained.
        best_value: Best final value among the trials it would have completed.
        pruned_at: Trial number -> the epoch it would have been pruned at.
    """

    epochs: int
    best_value: float | None
    pruned_at: Mapping[int, int]


def _make(pruner: PrunerSpec, max_epochs: int) -> optuna.pruners.BasePruner:
    from search.study import make_pruner

    return make_pruner(pruner, max_epochs) if isinstance(pruner, str) else pruner(max_epochs)


def replay_pruner(trials: Sequence[RecordedTrial], *, pruner: PrunerSpec, max_epochs: int,
                  study_name: str) -> Replay:
    """Feeds ``trials`` (in trial-number order) to a new in-memory study pruned by ``pruner``.

    Mirrors ``search.study._trial``: validation accuracy is reported after every epoch, and a trial is never
    pruned after its last epoch (``max_epochs``).
    """
    import optuna
    from optuna.trial import TrialState

    study = optuna.create_study(study_name=study_name, direction="maximize", pruner=_make(pruner, max_epochs))
    epochs, best, pruned_at = 0, None, {}
    for recorded in trials:
        trial = study.ask()
        if not recorded.curve:
            study.tell(trial, state=TrialState.FAIL)
            continue
        for step, value in enumerate(recorded.curve, start=1):
            trial.report(value, step)
            epochs += 1
            if step < max_epochs and trial.should_prune():
                pruned_at[trial.number] = step
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, recorded.value)
            best = recorded.value if best is None else max(best, recorded.value)
    return Replay(epochs, best, pruned_at)


@dataclass(frozen=True)
class DrawSummary:
    """Pruning's cost and loss over many bracket draws of the same recorded trials.

    Args:
        shares: Per draw, epochs of the pruned study over the unpruned one.
        gaps: Per draw, the unpruned best value minus the pruned one (positive: pruning lost accuracy).
    """

    shares: Sequence[float]
    gaps: Sequence[float]

    def fraction_meeting(self, max_share: float, max_gap: float) -> float:
        """Share of the draws that spend at most ``max_share`` and lose at most ``max_gap``."""
        hits = sum(share <= max_share and gap <= max_gap for share, gap in zip(self.shares, self.gaps))
        return hits / len(self.shares)

    def describe(self, max_share: float, max_gap: float) -> dict[str, float]:
        """Mean, range and p10/p90 of the share, the gap in points, and the draws meeting both targets.

        The one summary both pruning benchmarks print from (each shows the columns it needs).
        """
        gaps = [gap * 100 for gap in self.gaps]
        return {"mean_share": statistics.mean(self.shares), "share_min": min(self.shares),
                "share_max": max(self.shares), "share_p10": _quantile(self.shares, 0.1),
                "share_p90": _quantile(self.shares, 0.9), "mean_gap_points": statistics.mean(gaps),
                "gap_max_points": max(gaps), "gap_p90_points": _quantile(gaps, 0.9),
                "fraction_meeting": self.fraction_meeting(max_share, max_gap), "draws": len(self.shares)}


def _quantile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (inclusive method: within the observed range; one value: itself)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def replay_draws(trials: Sequence[RecordedTrial], *, pruner: PrunerSpec, max_epochs: int, n_draws: int,
                 name_prefix: str = "draw") -> DrawSummary:
    """Replays ``trials`` under ``n_draws`` study names (``{name_prefix}-0`` ...), one bracket draw each."""
    unpruned_epochs = sum(len(t.curve) for t in trials)
    unpruned_best = max(t.value for t in trials if t.value is not None)
    shares, gaps = [], []
    for draw in range(n_draws):
        replay = replay_pruner(trials, pruner=pruner, max_epochs=max_epochs, study_name=f"{name_prefix}-{draw}")
        shares.append(replay.epochs / unpruned_epochs)
        gaps.append(unpruned_best - (replay.best_value if replay.best_value is not None else 0.0))
    return DrawSummary(shares, gaps)


def synthetic_trials(rng: np.random.Generator, *, n_trials: int, epochs: int,
                     chance: float = 1 / 7) -> list[RecordedTrial]:
    """A data-free study: ``n_trials`` saturating learning curves, as the pruner would see them.

    Each trial rises from ``chance`` towards a final level drawn from U(0.20, 0.45) with a time constant
    drawn from U(0.5, 5) epochs (so some good trials start slowly and cross worse ones), plus N(0, 0.015)
    noise per epoch; the curve is the running best, as ``search.study._trial`` reports it. The ranges are a
    loose picture of small CPU studies, chosen by hand and not fitted to any recorded curve: the model is
    for comparing pruning schedules where no recorded study exists, not for claims about FER2013.
    """
    import numpy as np

    steps = np.arange(1, epochs + 1)
    trials = []
    for _ in range(n_trials):
        level, time_constant = rng.uniform(0.20, 0.45), rng.uniform(0.5, 5.0)
        raw = chance + (level - chance) * (1 - np.exp(-steps / time_constant)) + rng.normal(0, 0.015, epochs)
        curve = np.maximum.accumulate(raw)
        trials.append(RecordedTrial([float(v) for v in curve], float(curve[-1])))
    return trials
