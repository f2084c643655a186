"""Metrics from labels and predicted probabilities: pure numpy / scikit-learn, no model needed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from fer_core.emotions import EMOTIONS, N_CLASSES
from fer_core.errors import DataError
from fer_core.evaluate._result import PER_CLASS_COLUMNS, EvaluationResult

_CLASS_IDS = np.arange(N_CLASSES)


def evaluate_predictions(labels: Any, probabilities: Any) -> EvaluationResult:
    """Score class probabilities (N, 7) against integer labels (N,); predictions are the argmax.

    Macro F1 averages over all 7 classes, so a class that has no samples and is never predicted
    counts as 0 (keeps scores comparable across sets); undefined precision or recall counts as 0.
    """
    labels = _checked_labels(labels)
    probabilities = _checked_probabilities(probabilities, n_samples=len(labels))
    predictions = probabilities.argmax(axis=1)
    counts = confusion_matrix(labels, predictions, labels=_CLASS_IDS).astype(np.int64)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=_CLASS_IDS, zero_division=0
    )
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)},
        index=pd.Index(EMOTIONS, name="emotion"),
        columns=list(PER_CLASS_COLUMNS),
    )
    return EvaluationResult(
        accuracy=float(np.mean(predictions == labels)),
        macro_f1=float(np.mean(f1)),
        per_class=per_class,
        confusion=row_normalize(counts),
        confusion_counts=counts,
        predictions=predictions,
        probabilities=probabilities,
        labels=labels,
    )


def row_normalize(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum; rows summing to 0 stay zeros (not NaN)."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape, dtype=np.float64), where=totals > 0)


def _checked_labels(labels: Any) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"labels must be a non-empty 1-D integer array (got dtype {labels.dtype}, "
            f"shape {labels.shape}); pass class ids 0..{N_CLASSES - 1}, not one-hot rows"
        )
    if labels.min() < 0 or labels.max() >= N_CLASSES:
        raise DataError(
            f"labels must lie in 0..{N_CLASSES - 1} (got min {labels.min()}, max {labels.max()})"
        )
    return labels.astype(np.int64, copy=False)


def _checked_probabilities(probabilities: Any, *, n_samples: int) -> np.ndarray:
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (n_samples, N_CLASSES) or not np.issubdtype(
        probabilities.dtype, np.floating
    ):
        raise DataError(
            f"probabilities must be a float array of shape ({n_samples}, {N_CLASSES}), one row per "
            f"label (got dtype {probabilities.dtype}, shape {probabilities.shape})"
        )
    if not np.isfinite(probabilities).all():
        raise DataError("probabilities contain NaN or infinite values; the model diverged")
    return probabilities.astype(np.float32, copy=False)
