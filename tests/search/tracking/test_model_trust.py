"""Loading logged models: a .keras model loads in safe mode; a TensorFlow SavedModel only when trusted.

Real models logged to a real MLflow store, both ways ``mlflow.keras.log_model`` can save them.
"""

from __future__ import annotations

from pathlib import Path

import keras
import mlflow
import mlflow.keras
import numpy as np
import pytest
from mlflow.models import infer_signature

from fer_core.model import build_model, get_preset
from search import main
from search.tracking import StudyTracker, UntrustedModelError, load_keras_model


def _log_both(tracker: StudyTracker) -> tuple[keras.Model, str, str]:
    """A tiny model logged as a .keras file and as an exported SavedModel; their model URIs."""
    model = build_model(get_preset("tiny"))
    images = np.random.default_rng(0).random((2, *model.input_shape[1:]), dtype=np.float32)
    run_id = tracker.client.create_run(tracker.experiment_id).info.run_id
    with mlflow.start_run(run_id=run_id):
        plain = mlflow.keras.log_model(model, name="plain")
        exported = mlflow.keras.log_model(model, name="exported", save_exported_model=True,
                                          signature=infer_signature(images, model.predict(images, verbose=0)))
    return model, plain.model_uri, exported.model_uri


def test_a_saved_model_is_refused_unless_trusted(workdir_with_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracker = StudyTracker("trust")
    model, plain_uri, exported_uri = _log_both(tracker)
    images = np.random.default_rng(1).random((3, *model.input_shape[1:]), dtype=np.float32)
    expected = model.predict_on_batch(images)

    np.testing.assert_allclose(load_keras_model(plain_uri).predict_on_batch(images), expected, rtol=1e-5)
    with pytest.raises(UntrustedModelError, match=r"is a TensorFlow SavedModel .*Pass --trust-saved-model"):
        load_keras_model(exported_uri)
    trusted = load_keras_model(exported_uri, trust_saved_model=True)
    np.testing.assert_allclose(np.asarray(trusted.predict_on_batch(images)), expected, rtol=1e-5)

    photo = workdir_with_store / "face.png"
    keras.utils.save_img(photo, np.full((48, 48, 1), 128, dtype=np.uint8))
    capsys.readouterr()
    assert main(["predict", str(photo), "--no-detect", "--model", exported_uri]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--trust-saved-model" in error[0], error
    assert main(["predict", str(photo), "--no-detect", "--model", exported_uri, "--trust-saved-model",
                 "--format", "json"]) == 0
