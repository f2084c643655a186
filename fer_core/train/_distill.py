"""Knowledge-distillation targets: a teacher's class probabilities blended with the one-hot labels.

A student trained on ``soft_weight * teacher + (1 - soft_weight) * one_hot(label)`` learns the teacher's
view of which classes a face resembles (its "dark knowledge") while the hard part keeps it anchored to
the annotation. The blend is one (N, 7) row per image, fed by the input pipeline like the one-hot labels
(gathered by index, mixed by mixup/CutMix); the config's label smoothing then applies to the blended row
as it does to a one-hot one (it mixes in the uniform distribution: a row still sums to 1).
"""

from __future__ import annotations

import math

import numpy as np

from fer_core.emotions import N_CLASSES
from fer_core.errors import ConfigError, DataError

ROW_SUM_TOLERANCE = 1e-3
"""How far a teacher row may sum from 1 (float32 softmax outputs, averaged over models or views)."""


def distillation_targets(labels: np.ndarray, soft_targets: object, soft_weight: object) -> np.ndarray:
    """The (N, 7) float32 training targets ``soft_weight * soft_targets + (1 - soft_weight) * one_hot(labels)``.

    Args:
        labels: Checked int labels (N,) in 0..6.
        soft_targets: The teacher's probabilities, one row per image: (N, 7), finite, >= 0, rows summing to 1.
        soft_weight: Weight of the teacher in [0, 1] (1 = soft targets only, 0 = the labels only).

    Raises:
        ConfigError: ``soft_weight`` outside [0, 1].
        DataError: ``soft_targets`` of another shape, not finite, negative, or rows not summing to 1.
    """
    weight = check_soft_weight(soft_weight)
    teacher = check_soft_targets(soft_targets, len(labels))
    one_hot = np.eye(N_CLASSES, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]
    return (weight * teacher + (1.0 - weight) * one_hot).astype(np.float32)


def check_soft_weight(soft_weight: object) -> float:
    """``soft_weight`` as a float in [0, 1]; a ConfigError naming the rule and the value otherwise."""
    is_number = isinstance(soft_weight, (int, float, np.floating, np.integer)) and not isinstance(soft_weight, bool)
    if not is_number or not math.isfinite(float(soft_weight)) or not 0.0 <= float(soft_weight) <= 1.0:  # type: ignore[arg-type]
        raise ConfigError(
            f"soft_weight must be a number in [0, 1] (got {soft_weight!r}); it is the teacher's share of each "
            "training target: 1 trains on the teacher's probabilities only, 0 on the labels only"
        )
    return float(soft_weight)  # type: ignore[arg-type]


def check_soft_targets(soft_targets: object, n_images: int) -> np.ndarray:
    """``soft_targets`` as float32 (N, 7) probability rows; a DataError naming the rule and the value otherwise."""
    if not isinstance(soft_targets, np.ndarray) or soft_targets.shape != (n_images, N_CLASSES):
        got = f"shape {soft_targets.shape}" if isinstance(soft_targets, np.ndarray) else type(soft_targets).__name__
        raise DataError(
            f"soft_targets must be a numpy array of shape ({n_images}, {N_CLASSES}), one row of class "
            f"probabilities per training image (got {got}); pass the teacher's predict_proba on x_train"
        )
    teacher = soft_targets.astype(np.float32, copy=False)
    if not np.all(np.isfinite(teacher)):
        raise DataError(f"soft_targets must be finite (got {int(np.sum(~np.isfinite(teacher)))} NaN/inf values); "
                        "check the teacher's predictions")
    if float(teacher.min()) < 0.0:
        raise DataError(f"soft_targets must be probabilities >= 0 (got a minimum of {float(teacher.min()):g}); "
                        "pass softmax outputs, not logits")
    sums = teacher.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(float(sums[worst]) - 1.0) > ROW_SUM_TOLERANCE:
        raise DataError(
            f"soft_targets rows must sum to 1 (within {ROW_SUM_TOLERANCE:g}; row {worst} sums to "
            f"{float(sums[worst]):.4f}); pass softmax probabilities (averaged, not summed, over models)"
        )
    return teacher
