"""The score of a model on a labelled set from elsewhere, which may lack some of our seven emotions.

``evaluate_predictions`` averages macro-F1 over all seven classes, so scores stay comparable across splits of
one data set. A set from another source often has fewer classes (no ``disgust`` is common): there, a class
absent from the set has no recall, and counting its F1 as 0 would only measure what the set lacks. So this
score reports which classes are absent, gives recall for the present ones only, averages macro-F1 over them,
and adds the accuracy's 95 % Wilson interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_core.audit import wilson_interval
from fer_core.emotions import EMOTIONS
from fer_core.evaluate._metrics import evaluate_predictions
from fer_core.evaluate._result import EvaluationResult


@dataclass(frozen=True, eq=False)
class SetScore:
    """A model's score on one labelled set.

    Args:
        result: The full evaluation (accuracy, confusion counts, per-class table over all seven classes).
        ci_low: Lower end of the accuracy's 95 % Wilson interval.
        ci_high: Upper end.
        present: The emotions the set has at least one face of, in label order.
        absent: The others.
        macro_f1: Mean F1 over the present emotions.
        recall: Emotion -> recall, for the present emotions.
    """

    result: EvaluationResult
    ci_low: float
    ci_high: float
    present: tuple[str, ...]
    absent: tuple[str, ...]
    macro_f1: float
    recall: dict[str, float]

    @property
    def accuracy(self) -> float:
        return self.result.accuracy

    @property
    def n_samples(self) -> int:
        return self.result.n_samples

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (the confusion counts have true rows and predicted columns, label order)."""
        return {
            "n_samples": self.n_samples, "accuracy": self.accuracy, "ci95": [self.ci_low, self.ci_high],
            "ci_method": "wilson", "macro_f1": self.macro_f1, "macro_f1_classes": list(self.present),
            "recall": self.recall, "present": list(self.present), "absent": list(self.absent),
            "support": {emotion: int(count) for emotion, count in zip(EMOTIONS, self.result.per_class["support"],
                                                                     strict=True)},
            "confusion_counts": self.result.confusion_counts.astype(int).tolist(), "labels": list(EMOTIONS),
        }


def score_set(labels: Any, probabilities: Any) -> SetScore:
    """Scores ``probabilities`` (N, 7) against integer ``labels`` (N,) of a set that may lack classes.

    Raises:
        DataError: Arrays of the wrong shape, type or range (see ``evaluate_predictions``).
    """
    result = evaluate_predictions(labels, probabilities)
    support = result.per_class["support"].to_numpy()
    present = tuple(emotion for emotion, count in zip(EMOTIONS, support, strict=True) if count > 0)
    absent = tuple(emotion for emotion in EMOTIONS if emotion not in present)
    n_correct = int(np.sum(result.predictions == result.labels))
    low, high = wilson_interval(n_correct, result.n_samples)
    return SetScore(
        result=result, ci_low=low, ci_high=high, present=present, absent=absent,
        macro_f1=float(result.per_class.loc[list(present), "f1"].mean()),
        recall={emotion: float(result.per_class.loc[emotion, "recall"]) for emotion in present},
    )
