"""A candidate pruner signal, tried and not adopted: the best validation accuracy so far, ties broken by loss.

``search run`` tells the pruner each trial's best validation accuracy so far (``search.study._trial.BestSoFar``).
Early in a study on a small subset, several trials predict only the majority class after an epoch or two:
their accuracies tie exactly, and successive halving promotes every trial whose value equals its rung's
threshold. This signal subtracts a tie-breaker worth less than half of one validation face,
``0.5 / n_validation * loss / (1 + loss)``, so that among equal accuracies the lower validation loss ranks
first; accuracies that differ (multiples of ``1 / n_validation``) keep their order.

It was written down before a fresh seed's run (README, *About the pruning result*, seed 7) with the rule:
adopt it only if, over 50 replayed bracket draws, it meets both pruning targets in more draws than the
accuracy alone. It met them in none, as did the accuracy alone, so the product kept the accuracy; the
benchmark keeps the signal for replays (``bench/research/pruning.py --signal tiebreak``).
"""

from __future__ import annotations

import math


class PruningSignal:
    """The running best of a trial's (validation accuracy, -validation loss), as one float for the pruner.

    Args:
        n_validation: Faces in the validation split; one face is the smallest difference in accuracy.
    """

    def __init__(self, n_validation: int) -> None:
        if n_validation < 1:
            raise ValueError(f"n_validation must be >= 1 (got {n_validation})")
        self._half_face = 0.5 / n_validation
        self.accuracy = float("nan")
        self.loss = math.inf

    @property
    def value(self) -> float:
        """The best accuracy so far minus the loss tie-breaker (NaN until a finite accuracy arrives)."""
        if math.isnan(self.accuracy):
            return math.nan
        tie_breaker = 1.0 if math.isinf(self.loss) else self.loss / (1.0 + self.loss)
        return self.accuracy - self._half_face * tie_breaker

    def update(self, accuracy: float, loss: float = math.inf) -> float:
        """Takes one epoch's validation accuracy and loss; returns the signal (NaN epochs are ignored).

        Accuracies closer than half a face are equal (Keras averages in float32); among equal ones the lowest
        loss counts. A non-finite loss counts as the worst.
        """
        if not math.isfinite(accuracy):
            return self.value
        loss = loss if math.isfinite(loss) and loss >= 0 else math.inf
        if math.isnan(self.accuracy) or accuracy >= self.accuracy + self._half_face:
            self.accuracy, self.loss = accuracy, loss
        elif abs(accuracy - self.accuracy) < self._half_face:
            self.loss = min(self.loss, loss)
        return self.value
