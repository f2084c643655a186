"""Ensembles: one Keras model averaging its members, logged and loaded through MLflow in safe mode; M on validation."""

from __future__ import annotations

from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest

from fer_core.errors import ConfigError
from fer_core.model import build_model, get_preset
from search.refit import build_ensemble, choose_ensemble_size
from search.selection import Selection
from search.tracking import StudyTracker


def _members(n: int) -> list[keras.Model]:
    models = []
    for seed in range(n):
        keras.utils.set_random_seed(seed)
        models.append(build_model(get_preset("tiny")))
    return models


def _faces(n: int = 6) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 48, 48, 1), dtype=np.uint8)


def test_ensemble_predicts_the_mean_of_its_members() -> None:
    members = _members(3)
    faces = _faces()
    expected = np.mean([np.asarray(m.predict_on_batch(faces)) for m in members], axis=0)

    ensemble = build_ensemble(members)

    assert ensemble.inputs[0].name == "image" and ensemble.inputs[0].dtype == "uint8"
    assert [layer.name for layer in ensemble.layers] == ["image", "member_1", "member_2", "member_3",
                                                         "mean_probabilities"]
    np.testing.assert_allclose(ensemble.predict_on_batch(faces), expected, atol=1e-6)


def test_logged_ensemble_loads_in_safe_mode_through_mlflow(workdir_with_store: Path) -> None:
    members = _members(2)
    faces = _faces()
    expected = np.mean([np.asarray(m.predict_on_batch(faces)) for m in members], axis=0)
    tracker = StudyTracker("ens")
    run_id = tracker.client.create_run(tracker.experiment_id).info.run_id

    logged = tracker.log_keras_model(run_id, build_ensemble(members))
    loaded = mlflow.keras.load_model(logged.model_uri, load_model_kwargs={"safe_mode": True})

    np.testing.assert_allclose(loaded.predict_on_batch(faces), expected, atol=1e-6)
    signature = mlflow.models.get_model_info(logged.model_uri).signature
    assert signature.inputs.input_names() == ["image"]


def _one_hot_probabilities(predicted: list[int], confidence: float = 0.6) -> np.ndarray:
    probabilities = np.full((len(predicted), 7), (1 - confidence) / 6, dtype=np.float32)
    probabilities[np.arange(len(predicted)), predicted] = confidence
    return probabilities


def _angry_or_disgust(p_angry: list[float]) -> np.ndarray:
    """Probabilities spread over class 0 (p) and class 1 (1 - p) only."""
    probabilities = np.zeros((len(p_angry), 7), dtype=np.float32)
    probabilities[:, 0] = p_angry
    probabilities[:, 1] = 1 - np.asarray(p_angry)
    return probabilities


def test_ensemble_size_is_chosen_on_validation() -> None:
    labels = np.array([0, 0, 0])
    best = _angry_or_disgust([0.9, 0.4, 0.4])  # right on the first face only
    second = _angry_or_disgust([0.4, 0.9, 0.3])  # right on the second only: the pair gets both
    third = _angry_or_disgust([0.0, 0.0, 0.6])  # confidently wrong where the pair was right

    choice = choose_ensemble_size([best, second, third], labels, max_members=3)

    assert choice.accuracies == pytest.approx((1 / 3, 2 / 3, 0.0))
    assert choice.n_members == 2 and choice.accuracy == pytest.approx(2 / 3)


def test_ensemble_size_ties_go_to_fewer_models_and_respect_the_maximum() -> None:
    labels = np.array([0, 1])
    same = _one_hot_probabilities([0, 1])

    assert choose_ensemble_size([same, same, same], labels, max_members=3).n_members == 1
    assert choose_ensemble_size([same, same], labels, max_members=1).accuracies == (1.0,)


def test_ensemble_inputs_are_checked() -> None:
    with pytest.raises(ConfigError, match="at least one member"):
        build_ensemble([])
    with pytest.raises(ConfigError, match=r"--ensemble-max must be >= 1 \(got 0\)"):
        choose_ensemble_size([_one_hot_probabilities([0])], np.array([0]), max_members=0)
    with pytest.raises(ConfigError, match=r"shape \(2, 7\) \(got \(1, 7\)\)"):
        choose_ensemble_size([_one_hot_probabilities([0])], np.array([0, 1]), max_members=2)


def test_selection_validates_kind_and_members() -> None:
    with pytest.raises(ConfigError, match="Unknown selection kind 'best'; choose one of: trial, refit, ensemble"):
        Selection("best", "models:/m-1", 0.5, 0.5, "none", (1,))
    with pytest.raises(ConfigError, match=r"a refit selection needs one member trial\(s\) \(got \[1, 2\]\)"):
        Selection("refit", "models:/m-1", 0.5, 0.5, "none", (1, 2))
    ensemble = Selection("ensemble", "models:/m-1", 0.5, 0.55, "flip", (3, 1))
    assert ensemble.describe() == "ensemble of trials #3, #1 with flip TTA"
    assert Selection.from_attr(ensemble.to_attr()) == ensemble
