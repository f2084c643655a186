"""Temperature scaling and expected calibration error."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import DataError
from fer_core.evaluate import (
    expected_calibration_error,
    fit_calibration,
    fit_temperature,
    log_probabilities,
    temperature_scaled,
    with_temperature,
)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("true_temperature", [0.5, 2.5])
def test_fit_recovers_the_temperature_that_made_the_probabilities_overconfident(true_temperature: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 2.0, size=(20_000, N_CLASSES))
    labels = np.array([rng.choice(N_CLASSES, p=row) for row in _softmax(logits)])  # calibrated by construction
    reported = _softmax(logits / true_temperature)  # the model scaled its logits by 1 / T
    fitted = fit_temperature(log_probabilities(reported), labels)
    assert fitted == pytest.approx(1.0 / true_temperature, rel=0.05)
    calibration = fit_calibration(reported, labels)
    assert calibration.ece_after < calibration.ece_before
    assert calibration.nll_after < calibration.nll_before


def test_ece_of_a_hand_made_case() -> None:
    # Bin (0.6, 0.667]: confidences 0.65, 0.65 (one right) -> |0.5 - 0.65| * 2/4;
    # bin (0.933, 1]: confidences 0.95, 0.95 (both right) -> |1.0 - 0.95| * 2/4.
    probabilities = np.full((4, N_CLASSES), 0.0)
    probabilities[0, [0, 1]] = [0.65, 0.35]
    probabilities[1, [2, 3]] = [0.65, 0.35]
    probabilities[2, [4, 5]] = [0.95, 0.05]
    probabilities[3, [6, 0]] = [0.95, 0.05]
    labels = np.array([0, 3, 4, 6])
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.5 * 0.15 + 0.5 * 0.05)
    assert expected_calibration_error(probabilities, np.array([0, 2, 4, 6])) == pytest.approx(
        0.5 * 0.35 + 0.5 * 0.05)


def test_temperature_one_wins_when_the_model_is_already_calibrated() -> None:
    rng = np.random.default_rng(1)
    probabilities = _softmax(rng.normal(size=(50, N_CLASSES)))
    labels = probabilities.argmax(axis=1)  # maximally sharp is best: T shrinks, never grows the NLL
    calibration = fit_calibration(probabilities, labels)
    assert calibration.nll_after <= calibration.nll_before


def test_bad_inputs_are_refused_with_the_rule() -> None:
    with pytest.raises(DataError, match="shape \\(N, 7\\)"):
        expected_calibration_error(np.ones((3, 2)), np.zeros(3, dtype=int))
    with pytest.raises(DataError, match="labels must be an integer array of shape \\(2,\\)"):
        fit_calibration(np.full((2, N_CLASSES), 1 / 7), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="positive finite"):
        temperature_scaled(np.zeros((1, N_CLASSES)), 0.0)


def test_calibrated_model_loads_in_safe_mode_and_outputs_softmax_of_log_p_over_t(tmp_path) -> None:
    image = keras.Input(shape=IMAGE_SHAPE, dtype="uint8")
    hidden = keras.layers.Rescaling(1 / 255)(image)
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax")(keras.layers.Flatten()(hidden))
    model = keras.Model(image, outputs)
    calibrated = with_temperature(model, 1.7)
    path = tmp_path / "calibrated.keras"
    calibrated.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    faces = np.random.default_rng(2).integers(0, 256, size=(5, *IMAGE_SHAPE), dtype=np.uint8)
    raw = model.predict(faces, verbose=0)
    expected = temperature_scaled(log_probabilities(raw), 1.7)
    np.testing.assert_allclose(loaded.predict(faces, verbose=0), expected, atol=1e-5)
    np.testing.assert_array_equal(loaded.predict(faces, verbose=0).argmax(axis=1), raw.argmax(axis=1))
