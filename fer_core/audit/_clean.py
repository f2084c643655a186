"""Scores on unseen faces: accuracy on the "clean" subset (no exact duplicate of a training face) and a
Wilson 95 % confidence interval of an accuracy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Z_95 = 1.959963984540054
"""Standard-normal quantile of a two-sided 95 % interval."""
CI_METHOD = "Wilson score interval, 95 %"


def wilson_interval(n_correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``n_correct / n`` (``(nan, nan)`` when ``n`` is 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = n_correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class HonestScore:
    """An accuracy with its clean-subset accuracy and 95 % Wilson intervals.

    Args:
        accuracy: Accuracy on all ``n`` faces.
        n: Faces scored.
        clean_accuracy: Accuracy on the ``n_clean`` faces that duplicate no training face (NaN if none).
        n_clean: Faces in the clean subset.
        ci_low, ci_high: Wilson 95 % interval of ``accuracy``.
        clean_ci_low, clean_ci_high: Wilson 95 % interval of ``clean_accuracy``.
    """

    accuracy: float
    n: int
    clean_accuracy: float
    n_clean: int
    ci_low: float
    ci_high: float
    clean_ci_low: float
    clean_ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ci_method": CI_METHOD,
                "clean": "faces whose pixels equal no training face (exact content hash)"}


def honest_score(labels: np.ndarray, predictions: np.ndarray, clean: np.ndarray) -> HonestScore:
    """Accuracy of ``predictions`` on all faces and on the ``clean`` ones, with Wilson intervals.

    Args:
        labels: True classes (N,).
        predictions: Predicted classes (N,).
        clean: Boolean (N,): True for faces that duplicate no training face (``~overlap_with(...)``).
    """
    correct = np.asarray(labels) == np.asarray(predictions)
    clean = np.asarray(clean, dtype=bool)
    n, n_clean = len(correct), int(clean.sum())
    n_right, n_clean_right = int(correct.sum()), int(correct[clean].sum())
    ci_low, ci_high = wilson_interval(n_right, n)
    clean_ci_low, clean_ci_high = wilson_interval(n_clean_right, n_clean)
    return HonestScore(
        accuracy=n_right / n if n else float("nan"), n=n,
        clean_accuracy=n_clean_right / n_clean if n_clean else float("nan"), n_clean=n_clean,
        ci_low=ci_low, ci_high=ci_high, clean_ci_low=clean_ci_low, clean_ci_high=clean_ci_high,
    )
