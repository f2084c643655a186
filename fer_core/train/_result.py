"""What a training run returns: the trained model, its per-epoch history and how it ended."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import keras


class TrainOutcome(enum.Enum):
    """How training ended (a NaN loss is an outcome, not an exception, so a search can record it)."""

    COMPLETED = "completed"
    """All configured epochs ran."""
    EARLY_STOPPED = "early_stopped"
    """Validation accuracy stopped improving; the best epoch's weights were restored."""
    NAN_LOSS = "nan_loss"
    """The training loss became NaN or infinite and training stopped at that batch."""


@dataclass
class TrainResult:
    """The result of `train`.

    Args:
        model: The trained model (best-epoch weights when early stopping was active).
        history: Metric name -> one float per epoch run (loss, accuracy, val_loss, val_accuracy,
            learning_rate).
        outcome: How training ended.
        n_epochs: Epochs run, the one interrupted by a NaN loss included.
        best_epoch: 0-based epoch with the highest val accuracy, or None without validation data.
        best_val_accuracy: That accuracy, or None without validation data.
        duration_s: Wall-clock seconds of the whole `train` call.
        images_per_s: Training images per second over all epochs; validation time and the run's
            first batch (mostly graph tracing) are left out.
    """

    model: keras.Model
    history: dict[str, list[float]]
    outcome: TrainOutcome
    n_epochs: int
    best_epoch: int | None
    best_val_accuracy: float | None
    duration_s: float
    images_per_s: float
