"""The selected model's temperature: fitted on validation when the test score is made, used by promotion.

``fer_core.evaluate.fit_calibration`` fits one temperature on the validation split's probabilities (with the
TTA the selection uses). It is recorded on the study (``fer.calibration``) and its parent run (metrics
``calibration_temperature``, ``val_ece``, ``val_ece_calibrated``); the one test score records the test ECE
before and after it. Promotion registers the model with the temperature inside
(``search.selection._serving_model``), so every prediction of the registered version is calibrated. A
temperature never changes a prediction's class: accuracies, and the test score, stay the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from search.study import CALIBRATION_ATTR

if TYPE_CHECKING:
    import numpy as np
    import optuna

    from search.study import StudyData
    from search.tracking import StudyTracker

TEMPERATURE_METRIC = "calibration_temperature"
VAL_ECE_METRIC = "val_ece"
VAL_ECE_CALIBRATED_METRIC = "val_ece_calibrated"
TEST_ECE_METRIC = "test_ece"
TEST_ECE_CALIBRATED_METRIC = "test_ece_calibrated"


@dataclass(frozen=True)
class CalibrationRecord:
    """The temperature of one scored model and its expected calibration error on validation.

    Args:
        model_uri: The scored model (without TTA or temperature inside).
        tta: The TTA mode its probabilities were taken with.
        temperature: ``T``; calibrated probabilities are ``softmax(log p / T)``.
        val_ece: Validation ECE (15 equal-width bins) before.
        val_ece_calibrated: The same after.
        n_validation: Validation faces the temperature was fitted on.
    """

    model_uri: str | None
    tta: str
    temperature: float
    val_ece: float
    val_ece_calibrated: float
    n_validation: int

    def to_attr(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_attr(cls, attr: dict[str, Any]) -> CalibrationRecord:
        return cls(model_uri=attr.get("model_uri"), tta=attr.get("tta", "none"),
                   temperature=float(attr["temperature"]), val_ece=float(attr["val_ece"]),
                   val_ece_calibrated=float(attr["val_ece_calibrated"]), n_validation=int(attr["n_validation"]))

    def test_fields(self, probabilities: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """The test split's ECE before and after this temperature (for the one test score's record)."""
        from fer_core.evaluate import expected_calibration_error, log_probabilities, temperature_scaled

        calibrated = temperature_scaled(log_probabilities(probabilities), self.temperature)
        return {"temperature": self.temperature, "ece": expected_calibration_error(probabilities, labels),
                "ece_calibrated": expected_calibration_error(calibrated, labels),
                "val_ece": self.val_ece, "val_ece_calibrated": self.val_ece_calibrated}


def calibrate_scored_model(study: optuna.Study, data: StudyData, tracker: StudyTracker, parent_run_id: str,
                           model: Any, *, model_uri: str | None, tta: str) -> CalibrationRecord:
    """Fits the temperature of ``model`` (with ``tta``) on the validation split and records it."""
    from fer_core.evaluate import fit_calibration, predict_proba

    validation = data.splits.validation
    calibration = fit_calibration(predict_proba(model, validation.images, tta=tta), validation.labels)
    record = CalibrationRecord(model_uri=model_uri, tta=tta, temperature=calibration.temperature,
                               val_ece=calibration.ece_before, val_ece_calibrated=calibration.ece_after,
                               n_validation=calibration.n_samples)
    tracker.log_metrics(parent_run_id, {TEMPERATURE_METRIC: record.temperature, VAL_ECE_METRIC: record.val_ece,
                                        VAL_ECE_CALIBRATED_METRIC: record.val_ece_calibrated})
    study.set_user_attr(CALIBRATION_ATTR, record.to_attr())
    return record


def log_test_calibration(tracker: StudyTracker, parent_run_id: str, fields: dict[str, float], step: int) -> None:
    """The test ECE before and after, as metrics of the parent run at the test score's step."""
    tracker.log_metrics(parent_run_id, {TEST_ECE_METRIC: fields["ece"],
                                        TEST_ECE_CALIBRATED_METRIC: fields["ece_calibrated"]}, step=step)


def recorded_calibration(study: optuna.Study, model_uri: str | None) -> CalibrationRecord | None:
    """The temperature recorded for ``model_uri`` (None: none recorded, or one for another model)."""
    attr = study.user_attrs.get(CALIBRATION_ATTR)
    if not attr:
        return None
    record = CalibrationRecord.from_attr(attr)
    return record if record.model_uri == model_uri else None
