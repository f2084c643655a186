"""Score a model on a labelled set: probabilities, accuracy, macro F1, per-class metrics, confusion."""

from fer_core.evaluate._calibration import (
    N_ECE_BINS,
    Calibration,
    expected_calibration_error,
    fit_calibration,
    fit_temperature,
    log_probabilities,
    temperature_scaled,
    with_temperature,
)
from fer_core.evaluate._metrics import evaluate_predictions, row_normalize
from fer_core.evaluate._predict import evaluate, predict_proba
from fer_core.evaluate._result import PER_CLASS_COLUMNS, EvaluationResult
from fer_core.evaluate._set_score import SetScore, score_set
from fer_core.evaluate._tta import TTA_MODES, n_views, tta_views
from fer_core.evaluate._tta_graph import with_tta

__all__ = [
    "N_ECE_BINS",
    "PER_CLASS_COLUMNS",
    "TTA_MODES",
    "Calibration",
    "EvaluationResult",
    "SetScore",
    "evaluate",
    "evaluate_predictions",
    "expected_calibration_error",
    "fit_calibration",
    "fit_temperature",
    "log_probabilities",
    "n_views",
    "predict_proba",
    "row_normalize",
    "score_set",
    "temperature_scaled",
    "tta_views",
    "with_temperature",
    "with_tta",
]
