"""What a trial tells the pruner after each epoch: its best validation accuracy so far, ties broken by loss.

Training keeps a trial's best epoch, so a trial stopped now is worth its best validation accuracy so far.
Early in a study on a small subset, many trials predict only the majority class after an epoch or two: their
accuracies tie exactly, and successive halving promotes every trial whose value equals its rung's threshold,
so the first rung stops almost nothing. Among equal accuracies the lower validation loss marks the model that
has learnt more, so the signal subtracts a tie-breaker worth less than half of one validation face:
``0.5 / n_validation * loss / (1 + loss)``. Accuracies that differ (multiples of ``1 / n_validation``) keep
their order; the reported value is below the accuracy by less than ``0.5 / n_validation``.
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
