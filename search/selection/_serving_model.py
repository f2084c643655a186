"""The model that promotion registers: the test-scored model, with the TTA it was scored with inside it.

A study scored with test-time augmentation (``refit --tta flip|ten_crop``) has a test accuracy that the
bare model does not reach. Registering the bare model would make ``mlflow models serve`` and ``pyfunc``
predict without the TTA, below the test accuracy on the version's tags. So promotion registers
``fer_core.evaluate.with_tta(model, tta)`` instead: built-in layers only (safe mode loads it), the same
uint8-in, probabilities-out signature, and the scored predictions up to float rounding. It is logged once
per study and scored model, on the run that logged the scored model, and reused by later promotions.

The temperature fitted on validation with the test score (``search.selection._calibration``) goes inside too
(``fer_core.evaluate.with_temperature``): the registered model outputs calibrated probabilities with the same
predicted classes, so a model scored without TTA is wrapped as well once it has a temperature other than 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from search import study as st
from search.tracking import SERVING_MODEL_ID_TAG, load_keras_model

if TYPE_CHECKING:
    import optuna

    from search.selection._test_score import TestScore
    from search.tracking import StudyTracker


@dataclass(frozen=True)
class ServingModel:
    """The model to register and where it was logged.

    Args:
        model_uri: ``models:/m-<id>`` of the model to register.
        model_id: Its logged-model id (None when unknown).
        run_id: The run that logged it (None when unknown).
        tta_in_model: Whether the model applies the score's TTA itself.
        temperature: The calibration temperature applied inside the model (None: none).
    """

    model_uri: str
    model_id: str | None
    run_id: str | None
    tta_in_model: bool
    temperature: float | None = None


def serving_model(study: optuna.Study, tracker: StudyTracker, score: TestScore, scored: ServingModel) -> ServingModel:
    """``scored`` itself when it was scored without TTA nor calibrated, else the model with that TTA and its
    validation temperature (``search.selection._calibration``) inside (logged once)."""
    temperature = _temperature(study, score, scored)
    if score.tta == "none" and temperature is None:
        return scored
    tta_in_model = score.tta != "none"
    recorded = study.user_attrs.get(st.SERVING_MODEL_ATTR) or {}
    if (recorded.get("source") == scored.model_uri and recorded.get("tta") == score.tta
            and recorded.get("temperature") == temperature
            and tracker.find_logged_model(recorded.get("model_id")) is not None):
        return ServingModel(recorded["model_uri"], recorded["model_id"], recorded.get("run_id"), tta_in_model,
                            temperature)
    from fer_core.evaluate import with_temperature, with_tta

    run_id = scored.run_id or study.user_attrs[st.PARENT_RUN_ATTR]
    model = with_tta(load_keras_model(scored.model_uri), score.tta)
    if temperature is not None:
        model = with_temperature(model, temperature)
    name = f"model_tta_{score.tta}" + ("_calibrated" if temperature is not None else "")
    logged = tracker.log_keras_model(run_id, model, name=name.replace("_tta_none", ""), id_tag=SERVING_MODEL_ID_TAG)
    study.set_user_attr(st.SERVING_MODEL_ATTR, {"source": scored.model_uri, "tta": score.tta, "run_id": run_id,
                                             "model_uri": logged.model_uri, "model_id": logged.model_id,
                                             "temperature": temperature})
    return ServingModel(logged.model_uri, logged.model_id, run_id, tta_in_model, temperature)


def _temperature(study: optuna.Study, score: TestScore, scored: ServingModel) -> float | None:
    """The temperature fitted for the scored model with the score's TTA; None when none (or exactly 1)."""
    from search.selection._calibration import recorded_calibration

    calibration = recorded_calibration(study, scored.model_uri)
    if calibration is None or calibration.tta != score.tta or calibration.temperature == 1.0:
        return None
    return calibration.temperature
