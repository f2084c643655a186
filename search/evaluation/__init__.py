"""Evaluation on other data sets: a model scored on a labelled CSV or image folder that was never part of its
study, checked for faces it was trained on, recorded in MLflow and on its registered version.
"""

from __future__ import annotations

from search.evaluation._data import EvaluationSet, load_evaluation_set
from search.evaluation._evaluate import (
    NAME_PATTERN,
    Evaluation,
    check_evaluation_name,
    default_evaluation_name,
    evaluate_model,
)
from search.evaluation._overlap import TrainingOverlap, training_overlap

__all__ = [
    "check_evaluation_name",
    "default_evaluation_name",
    "evaluate_model",
    "Evaluation",
    "EvaluationSet",
    "load_evaluation_set",
    "NAME_PATTERN",
    "training_overlap",
    "TrainingOverlap",
]
