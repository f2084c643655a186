"""The outcome of scoring a model on a labelled set: metrics, confusion matrices, raw outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from fer_core.emotions import EMOTIONS, N_CLASSES
from fer_core.evaluate._figure import confusion_heatmap

PER_CLASS_COLUMNS: tuple[str, ...] = ("precision", "recall", "f1", "support")


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Metrics of one model on one labelled set.

    Args:
        accuracy: Fraction of correct predictions.
        macro_f1: Unweighted mean F1 over all 7 classes (a class never seen nor predicted counts 0).
        per_class: DataFrame indexed by emotion name with precision, recall, f1 and support.
        confusion: 7x7 float array, row ``t`` = distribution of predictions for true class ``t``
            (rows of classes without samples are zeros).
        confusion_counts: 7x7 int array of counts (rows true, columns predicted).
        predictions: Predicted class per sample, shape (N,).
        probabilities: Model outputs, shape (N, 7) float32.
        labels: True class per sample, shape (N,).
    """

    accuracy: float
    macro_f1: float
    per_class: pd.DataFrame
    confusion: np.ndarray
    confusion_counts: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        n_samples = len(self.labels)
        square = (N_CLASSES, N_CLASSES)
        if self.confusion.shape != square or self.confusion_counts.shape != square:
            raise ValueError(f"confusion matrices must have shape {square}")
        if self.predictions.shape != (n_samples,) or self.probabilities.shape != (n_samples, N_CLASSES):
            raise ValueError(
                f"predictions and probabilities must have shapes ({n_samples},) and "
                f"({n_samples}, {N_CLASSES}) (got {self.predictions.shape}, {self.probabilities.shape})"
            )
        if tuple(self.per_class.index) != EMOTIONS or tuple(self.per_class.columns) != PER_CLASS_COLUMNS:
            raise ValueError(f"per_class must be indexed by {EMOTIONS} with columns {PER_CLASS_COLUMNS}")

    @property
    def n_samples(self) -> int:
        """Number of evaluated samples."""
        return len(self.labels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary: scalar metrics, per-class metrics and both confusion matrices."""
        return {
            "n_samples": self.n_samples,
            "accuracy": float(self.accuracy),
            "macro_f1": float(self.macro_f1),
            "per_class": {
                emotion: {
                    "precision": float(row["precision"]),
                    "recall": float(row["recall"]),
                    "f1": float(row["f1"]),
                    "support": int(row["support"]),
                }
                for emotion, row in self.per_class.iterrows()
            },
            "confusion": self.confusion.astype(float).tolist(),
            "confusion_counts": self.confusion_counts.astype(int).tolist(),
        }

    def confusion_figure(self, title: str = "Confusion matrix") -> go.Figure:
        """Annotated heatmap of the row-normalised confusion matrix (true rows, predicted columns)."""
        return confusion_heatmap(self.confusion, self.confusion_counts, title=title)
