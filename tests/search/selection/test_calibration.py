"""The selected model's temperature: fitted on validation with the test score, recorded, inside the champion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pytest

from fer_core.data import make_demo_dataset
from fer_core.evaluate import (
    expected_calibration_error,
    fit_calibration,
    log_probabilities,
    predict_proba,
    temperature_scaled,
)
from search.paths import default_study_storage, default_tracking_uri
from search.study import load_study_data
from tests.fixtures.studies import SmokeStudy


def test_promoted_champion_applies_the_validation_temperature_and_loads_in_safe_mode(
        workdir: Path, smoke_study: SmokeStudy) -> None:
    import mlflow
    from mlflow import MlflowClient

    study_name = smoke_study.copy_to(workdir)
    study = optuna.load_study(study_name=study_name, storage=default_study_storage())
    calibration = study.user_attrs["fer.calibration"]
    score = study.user_attrs["fer.test_score"]
    temperature = calibration["temperature"]
    assert calibration["model_uri"] == score["model_uri"] and calibration["tta"] == "none"

    # The temperature is the validation NLL fit of the scored model; ECE before/after as fer_core computes them.
    mlflow.set_tracking_uri(default_tracking_uri())
    client = MlflowClient()
    version = client.get_model_version_by_alias("fer-emotion", "champion")
    scored = mlflow.keras.load_model(version.tags["scored_model"], load_model_kwargs={"safe_mode": True})
    settings = study.user_attrs["fer.settings"]
    data = load_study_data(settings["data"], split=settings["split"], subset=settings["subset"], seed=settings["seed"])
    refit = fit_calibration(predict_proba(scored, data.splits.validation.images), data.splits.validation.labels)
    assert refit.temperature == pytest.approx(temperature, rel=1e-4)
    assert calibration["val_ece"] == pytest.approx(refit.ece_before, abs=1e-6)
    assert calibration["val_ece_calibrated"] == pytest.approx(refit.ece_after, abs=1e-6)
    assert refit.nll_after <= refit.nll_before

    # The one test score's record has the test ECE before and after; the parent run has them as metrics.
    test = data.splits.test
    raw = predict_proba(scored, test.images)
    assert score["calibration"]["ece"] == pytest.approx(expected_calibration_error(raw, test.labels), abs=1e-6)
    calibrated_test = temperature_scaled(log_probabilities(raw), temperature)
    assert score["calibration"]["ece_calibrated"] == pytest.approx(
        expected_calibration_error(calibrated_test, test.labels), abs=1e-6)
    parent = client.get_run(study.user_attrs["fer.mlflow_parent_run_id"])
    assert parent.data.metrics["calibration_temperature"] == pytest.approx(temperature)
    assert {"val_ece", "val_ece_calibrated", "test_ece", "test_ece_calibrated"} <= set(parent.data.metrics)
    artifact = json.loads(mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/test/score_1.json"))
    assert artifact["calibration"]["temperature"] == pytest.approx(temperature)

    # The registered model, loaded in safe mode, outputs softmax(log p / T) of the scored model: same classes.
    faces = make_demo_dataset(3, seed=8).images
    champion = mlflow.keras.load_model("models:/fer-emotion@champion", load_model_kwargs={"safe_mode": True})
    expected = temperature_scaled(log_probabilities(scored.predict(faces, verbose=0)), temperature)
    served = champion.predict(faces, verbose=0)
    np.testing.assert_allclose(served, expected, atol=1e-5)
    np.testing.assert_array_equal(served.argmax(axis=1), expected.argmax(axis=1))
    if temperature != 1.0:
        assert study.user_attrs["fer.serving_model"]["temperature"] == pytest.approx(temperature)
        assert version.source != version.tags["scored_model"]
