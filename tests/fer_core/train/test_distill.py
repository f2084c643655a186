"""Knowledge distillation in `train`: soft targets blended with labels, fed, mixed, learnt and validated."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_core.errors import ConfigError, DataError
from fer_core.train import TrainConfig, distillation_targets, train
from fer_core.train._mixing import Mixing
from fer_core.train._pipeline import make_py_dataset, make_tf_dataset
from tests.fer_core.train.test_pipeline import _epochs
from tests.fer_core.train.test_trainer import brightness_task, tiny_model

N_IMAGES = 50


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image i is filled with the value i; its target row is a distribution peaking on class (i + 3) % 7."""
    images = np.broadcast_to(np.arange(N_IMAGES, dtype=np.uint8)[:, None, None, None], (N_IMAGES, 48, 48, 1)).copy()
    labels = np.arange(N_IMAGES) % 7
    targets = np.full((N_IMAGES, 7), 0.05, dtype=np.float32)
    targets[np.arange(N_IMAGES), (labels + 3) % 7] = 0.7
    return images, labels, targets


def test_blend_is_soft_weight_teacher_plus_the_rest_one_hot() -> None:
    labels = np.array([0, 6])
    teacher = np.array([[0.5, 0.5, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1.0]], dtype=np.float32)

    blended = distillation_targets(labels, teacher, 0.7)

    np.testing.assert_allclose(blended[0], [0.65, 0.35, 0, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(blended[1], [0, 0, 0, 0, 0, 0, 1.0], atol=1e-6)
    np.testing.assert_allclose(distillation_targets(labels, teacher, 0.0), np.eye(7)[labels])


@pytest.mark.parametrize("builder", [make_tf_dataset, make_py_dataset], ids=["tf.data", "PyDataset"])
def test_target_rows_are_gathered_by_index_and_class_weights_follow_the_labels(builder, rows) -> None:
    images, labels, targets = rows
    class_weights = np.arange(1, 8, dtype=np.float32)
    (epoch,) = _epochs(builder(images, labels, batch_size=16, shuffle=True, seed=0, class_weights=class_weights,
                               targets=targets), 1)

    for x, y, weights in epoch:
        index = x[:, 0, 0, 0]
        np.testing.assert_array_equal(y, targets[index])
        np.testing.assert_array_equal(weights, class_weights[labels[index]])


def test_mixup_and_cutmix_mix_the_target_rows(rows) -> None:
    images, labels, _ = rows
    same = np.tile(np.array([0.4, 0.3, 0.1, 0.1, 0.05, 0.05, 0.0], dtype=np.float32), (N_IMAGES, 1))
    batches = make_tf_dataset(images, labels, batch_size=16, shuffle=True, seed=0, targets=same,
                              mixing=Mixing(mixup_alpha=1.0, cutmix_alpha=1.0))
    (epoch,) = _epochs(batches, 1)

    for _, y in epoch:  # any mix of identical rows is that row: the one-hot labels were never used
        np.testing.assert_allclose(y, same[: len(y)], atol=1e-6)


def test_a_student_learns_what_its_teacher_says_not_the_labels() -> None:
    (images, labels), validation = brightness_task(448, seed=0), brightness_task(128, seed=1)
    teacher = np.eye(7, dtype=np.float32)[(labels + 1) % 7]  # a teacher that calls every class the next one
    config = TrainConfig(batch_size=16, learning_rate=0.03, epochs=3, early_stopping_patience=None, schedule="none")

    def agreement(**distill: object) -> float:
        keras.utils.set_random_seed(0)
        model = train(tiny_model(), images, labels, validation=validation, config=config, verbose=0,
                      **distill).model  # type: ignore[arg-type]
        predicted = model.predict(validation[0], verbose=0).argmax(axis=1)
        return float(np.mean(predicted == (validation[1] + 1) % 7))

    distilled, hard = agreement(soft_targets=teacher, soft_weight=1.0), agreement()
    assert distilled > 0.5 and distilled > hard + 0.3


def test_soft_weight_zero_trains_exactly_like_the_labels() -> None:
    images, labels = brightness_task(64, seed=0)
    teacher = np.full((64, 7), 1 / 7, dtype=np.float32)
    config = TrainConfig(batch_size=16, epochs=1, early_stopping_patience=None)
    losses = []
    for distill in ({}, {"soft_targets": teacher, "soft_weight": 0.0}):
        keras.utils.set_random_seed(0)
        losses.append(train(tiny_model(), images, labels, validation=None, config=config, verbose=0,
                            **distill).history["loss"])  # type: ignore[arg-type]
    assert losses[0] == pytest.approx(losses[1])


@pytest.mark.parametrize(
    ("soft_targets", "soft_weight", "error", "message"),
    [
        (np.full((4, 7), 1 / 7), 1.5, ConfigError, r"soft_weight must be a number in \[0, 1\] \(got 1.5\)"),
        (np.full((4, 7), 1 / 7), True, ConfigError, r"soft_weight must be a number in \[0, 1\] \(got True\)"),
        (np.full((3, 7), 1 / 7), 0.5, DataError, r"shape \(4, 7\).*\(got shape \(3, 7\)\)"),
        ([[1 / 7] * 7] * 4, 0.5, DataError, r"soft_targets must be a numpy array .*\(got list\)"),
        (np.full((4, 7), np.nan), 0.5, DataError, r"soft_targets must be finite \(got 28 NaN/inf values\)"),
        (np.eye(7)[[0, 1, 2, 3]] * 2 - np.eye(7)[[1, 2, 3, 4]], 0.5, DataError, r"must be probabilities >= 0"),
        (np.full((4, 7), 0.2), 0.5, DataError, r"rows must sum to 1 .*row 0 sums to 1.4000"),
    ],
    ids=["weight-high", "weight-bool", "rows", "not-array", "nan", "negative", "row-sum"],
)
def test_bad_soft_targets_or_weight_are_rejected(soft_targets, soft_weight, error, message) -> None:
    images, labels = brightness_task(4, seed=0)
    with pytest.raises(error, match=message):
        train(tiny_model(), images, labels, validation=None, config=TrainConfig(epochs=1), verbose=0,
              soft_targets=soft_targets, soft_weight=soft_weight)
