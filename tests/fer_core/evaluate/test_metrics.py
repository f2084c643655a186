"""evaluate_predictions on hand-made data (exact values), predict_proba/evaluate on a real tiny model."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from fer_core.emotions import EMOTIONS
from fer_core.errors import ConfigError, DataError
from fer_core.evaluate import EvaluationResult, evaluate, evaluate_predictions, predict_proba
from fer_core.model import build_model, get_preset

# 6 samples; class 1 (disgust) and 6 (neutral) never occur and are never predicted.
LABELS = np.array([0, 0, 0, 3, 3, 4])
PREDICTED = np.array([0, 0, 3, 3, 3, 0])


def one_hot_probabilities(predicted: np.ndarray) -> np.ndarray:
    probabilities = np.full((len(predicted), 7), 0.05, dtype=np.float32)
    probabilities[np.arange(len(predicted)), predicted] = 0.7
    return probabilities


@pytest.fixture()
def result() -> EvaluationResult:
    return evaluate_predictions(LABELS, one_hot_probabilities(PREDICTED))


def test_accuracy_and_macro_f1_are_exact(result: EvaluationResult) -> None:
    assert result.accuracy == pytest.approx(4 / 6)
    # angry: P 2/3 R 2/3 F1 2/3; happy: P 2/3 R 1 F1 0.8; sad: 0; the 4 absent classes count 0.
    assert result.macro_f1 == pytest.approx((2 / 3 + 0.8) / 7)
    np.testing.assert_array_equal(result.predictions, PREDICTED)
    np.testing.assert_array_equal(result.labels, LABELS)
    assert result.probabilities.dtype == np.float32
    assert result.n_samples == 6


def test_per_class_table(result: EvaluationResult) -> None:
    table = result.per_class
    assert list(table.index) == list(EMOTIONS)
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    assert table.loc["angry"].tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 3])
    assert table.loc["happy"].tolist() == pytest.approx([2 / 3, 1.0, 0.8, 2])
    assert table.loc["sad"].tolist() == pytest.approx([0.0, 0.0, 0.0, 1])
    assert table.loc["disgust"].tolist() == [0.0, 0.0, 0.0, 0]
    assert table["support"].dtype == np.int64


def test_confusion_matrices_rows_true_columns_predicted(result: EvaluationResult) -> None:
    expected_counts = np.zeros((7, 7), dtype=np.int64)
    expected_counts[0, 0], expected_counts[0, 3] = 2, 1
    expected_counts[3, 3] = 2
    expected_counts[4, 0] = 1
    np.testing.assert_array_equal(result.confusion_counts, expected_counts)
    expected = np.zeros((7, 7))
    expected[0, 0], expected[0, 3], expected[3, 3], expected[4, 0] = 2 / 3, 1 / 3, 1.0, 1.0
    np.testing.assert_allclose(result.confusion, expected)
    assert not np.isnan(result.confusion).any()  # rows without samples are zeros


def test_to_dict_is_json_friendly(result: EvaluationResult) -> None:
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["accuracy"] == pytest.approx(4 / 6)
    assert summary["n_samples"] == 6
    assert summary["per_class"]["happy"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "f1": pytest.approx(0.8), "support": 2}
    assert summary["confusion_counts"][0] == [2, 0, 0, 1, 0, 0, 0]
    assert summary["confusion"][4] == [1.0, 0, 0, 0, 0, 0, 0]


def test_confusion_figure_data(result: EvaluationResult) -> None:
    figure = result.confusion_figure(title="val confusion")
    heatmap = figure.data[0]
    assert heatmap.type == "heatmap"
    assert list(heatmap.x) == list(EMOTIONS) and list(heatmap.y) == list(EMOTIONS)
    np.testing.assert_allclose(np.array(heatmap.z), result.confusion)
    assert heatmap.text[0][3] == "0.33<br>(1)"
    assert figure.layout.title.text == "val confusion"
    assert figure.layout.xaxis.title.text == "predicted"
    assert figure.layout.yaxis.title.text == "true"
    assert figure.layout.yaxis.autorange == "reversed"


def test_perfect_predictions() -> None:
    labels = np.arange(7).repeat(2)
    result = evaluate_predictions(labels, one_hot_probabilities(labels))
    assert result.accuracy == 1.0 and result.macro_f1 == 1.0
    np.testing.assert_array_equal(result.confusion, np.eye(7))


@pytest.mark.parametrize(
    ("labels", "probabilities", "message"),
    [
        (np.array([0, 7]), np.zeros((2, 7)), r"labels must lie in 0\.\.6 \(got min 0, max 7\)"),
        (np.array([0.0, 1.0]), np.zeros((2, 7)), r"labels must be a non-empty 1-D integer array \(got dtype float64"),
        (np.eye(7, dtype=int), np.zeros((7, 7)), r"not one-hot rows"),
        (np.array([], dtype=int), np.zeros((0, 7)), r"labels must be a non-empty"),
        (np.array([0, 1]), np.zeros((3, 7)), r"probabilities must be a float array of shape \(2, 7\).*shape \(3, 7\)"),
        (np.array([0, 1]), np.full((2, 7), np.nan), r"probabilities contain NaN or infinite values"),
    ],
)
def test_bad_inputs_are_rejected(labels: np.ndarray, probabilities: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        evaluate_predictions(labels, probabilities)


@pytest.fixture(scope="module")
def tiny_model():
    return build_model(get_preset("tiny"))


def test_predict_proba_batches_uint8_images(tiny_model) -> None:
    images = np.random.default_rng(2).integers(0, 256, size=(10, 48, 48, 1), dtype=np.uint8)
    probabilities = predict_proba(tiny_model, images, batch_size=3)
    assert probabilities.shape == (10, 7) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities, predict_proba(tiny_model, images[..., 0]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_proba_rejects_float_or_misshaped_images(tiny_model) -> None:
    with pytest.raises(DataError, match=r"images must be a uint8 numpy array \(got float32\); pass raw 0\.\.255 pixels"):
        predict_proba(tiny_model, np.zeros((2, 48, 48, 1), dtype=np.float32))
    with pytest.raises(DataError, match=r"images must have shape \(N, 48, 48\) or \(N, 48, 48, 1\) with N >= 1 \(got \(2, 32, 32\)\)"):
        predict_proba(tiny_model, np.zeros((2, 32, 32), dtype=np.uint8))
    with pytest.raises(ConfigError, match=r"batch_size must be an integer >= 1 \(got 0\)"):
        predict_proba(tiny_model, np.zeros((2, 48, 48), dtype=np.uint8), batch_size=0)


def test_evaluate_a_real_model(tiny_model) -> None:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(20, 48, 48, 1), dtype=np.uint8)
    labels = rng.integers(0, 7, size=20)
    result = evaluate(tiny_model, images, labels, batch_size=8)
    expected = evaluate_predictions(labels, predict_proba(tiny_model, images))
    assert result.accuracy == pytest.approx(expected.accuracy)
    np.testing.assert_array_equal(result.predictions, expected.predictions)
    assert result.confusion_counts.sum() == 20
    with pytest.raises(DataError, match=r"same length \(got 20 images, 19 labels\)"):
        evaluate(tiny_model, images, labels[:19])


def test_predict_proba_rejects_a_model_without_seven_outputs() -> None:
    inputs = keras.Input((48, 48, 1), dtype="uint8")
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs)))
    with pytest.raises(DataError, match=r"model output must have shape \(batch, 7\) \(got \(2, 3\)\)"):
        predict_proba(keras.Model(inputs, outputs), np.zeros((2, 48, 48, 1), dtype=np.uint8))
