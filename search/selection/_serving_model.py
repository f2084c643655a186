"""The model that promotion registers: the test-scored model, with the TTA it was scored with inside it.

A study scored with test-time augmentation (``refit --tta flip|ten_crop``) has a test accuracy that the
bare model does not reach. Registering the bare model would make ``mlflow models serve`` and ``pyfunc``
predict without the TTA, below the test accuracy on the version's tags. So promotion registers
``fer_core.evaluate.with_tta(model, tta)`` instead: built-in layers only (safe mode loads it), the same
uint8-in, probabilities-out signature, and the scored predictions up to float rounding. It is logged once
per study and scored model, on the run that logged the scored model, and reused by later promotions.
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
    """

    model_uri: str
    model_id: str | None
    run_id: str | None
    tta_in_model: bool


def serving_model(study: optuna.Study, tracker: StudyTracker, score: TestScore, scored: ServingModel) -> ServingModel:
    """``scored`` itself when it was scored without TTA, else the model with that TTA inside (logged once)."""
    if score.tta == "none":
        return scored
    recorded = study.user_attrs.get(st.SERVING_MODEL_ATTR) or {}
    if (recorded.get("source") == scored.model_uri and recorded.get("tta") == score.tta
            and tracker.find_logged_model(recorded.get("model_id")) is not None):
        return ServingModel(recorded["model_uri"], recorded["model_id"], recorded.get("run_id"), True)
    from fer_core.evaluate import with_tta

    run_id = scored.run_id or study.user_attrs[st.PARENT_RUN_ATTR]
    model = with_tta(load_keras_model(scored.model_uri), score.tta)
    logged = tracker.log_keras_model(run_id, model, name=f"model_tta_{score.tta}", id_tag=SERVING_MODEL_ID_TAG)
    study.set_user_attr(st.SERVING_MODEL_ATTR, {"source": scored.model_uri, "tta": score.tta, "run_id": run_id,
                                             "model_uri": logged.model_uri, "model_id": logged.model_id})
    return ServingModel(logged.model_uri, logged.model_id, run_id, True)
