"""Score a model on a labelled set: probabilities, accuracy, macro F1, per-class metrics, confusion."""

from fer_core.evaluate._metrics import evaluate_predictions, row_normalize
from fer_core.evaluate._predict import evaluate, predict_proba
from fer_core.evaluate._result import PER_CLASS_COLUMNS, EvaluationResult
from fer_core.evaluate._tta import TTA_MODES, n_views, tta_views
from fer_core.evaluate._tta_graph import with_tta

__all__ = [
    "PER_CLASS_COLUMNS",
    "TTA_MODES",
    "EvaluationResult",
    "evaluate",
    "evaluate_predictions",
    "n_views",
    "predict_proba",
    "row_normalize",
    "tta_views",
    "with_tta",
]
