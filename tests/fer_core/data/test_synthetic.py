"""The synthetic demo set: shapes, balance, stratified usage, determinism, argument checks, difficulty."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from fer_core.data import split_dataset
from fer_core.data._dataset import Usage
from fer_core.data._synthetic import EXPRESSIONS, GENERATOR_VERSION, _Expression, make_demo_dataset
from fer_core.emotions import EMOTIONS, N_CLASSES


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset(40, seed=3)


def test_shapes_dtypes_and_balanced_classes(demo) -> None:
    assert demo.images.shape == (280, 48, 48, 1) and demo.images.dtype == np.uint8
    assert demo.labels.dtype == np.int64
    assert demo.class_counts().tolist() == [40] * N_CLASSES
    assert demo.report.n_rows == 280 and demo.report.n_skipped == 0


def test_usage_is_stratified_80_10_10(demo) -> None:
    assert demo.usage.dtype == np.uint8
    for label in range(N_CLASSES):
        per_usage = np.bincount(demo.usage[demo.labels == label], minlength=3)
        assert per_usage.tolist() == [32, 4, 4]


def test_every_split_gets_every_class_even_when_tiny() -> None:
    tiny = make_demo_dataset(3, seed=0)
    for usage in Usage:
        assert sorted(tiny.labels[tiny.usage == usage].tolist()) == list(range(N_CLASSES))


def test_labels_are_shuffled_not_grouped(demo) -> None:
    assert np.any(np.diff(demo.labels[:N_CLASSES * 3]) != 0)
    assert len(set(demo.labels[:20].tolist())) > 3


def test_images_are_drawn_not_blank(demo) -> None:
    per_image_std = demo.images.reshape(len(demo), -1).std(axis=1)
    assert per_image_std.min() > 5
    assert len({image.tobytes() for image in demo.images}) == len(demo)


def test_same_seed_gives_identical_data_and_hash(demo) -> None:
    again = make_demo_dataset(40, seed=3)
    np.testing.assert_array_equal(again.images, demo.images)
    np.testing.assert_array_equal(again.labels, demo.labels)
    np.testing.assert_array_equal(again.usage, demo.usage)
    assert again.content_hash == demo.content_hash


def test_other_seed_or_size_changes_data_and_hash(demo) -> None:
    other_seed = make_demo_dataset(40, seed=4)
    other_size = make_demo_dataset(41, seed=3)
    assert not np.array_equal(other_seed.images, demo.images)
    assert len({demo.content_hash, other_seed.content_hash, other_size.content_hash}) == 3


def test_source_and_hash_describe_the_generator(demo) -> None:
    assert demo.source == "synthetic demo (n_per_class=40, seed=3)"
    assert len(demo.content_hash) == 64 and int(demo.content_hash, 16) >= 0
    assert GENERATOR_VERSION >= 1


def test_expression_table_covers_every_emotion_and_neutral_is_the_origin() -> None:
    assert set(EXPRESSIONS) == set(EMOTIONS)
    assert EXPRESSIONS["neutral"] == _Expression()
    moved = {name for name, expression in EXPRESSIONS.items() if expression != _Expression()}
    assert moved == set(EMOTIONS) - {"neutral"}
    rows = {tuple(getattr(e, f.name) for f in fields(_Expression)) for e in EXPRESSIONS.values()}
    assert len(rows) == N_CLASSES


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"n_per_class": 2}, ValueError, r"n_per_class must be >= 3 \(got 2\)"),
    ({"n_per_class": 10.0}, TypeError, r"n_per_class must be an int \(got 10.0\)"),
    ({"n_per_class": True}, TypeError, r"n_per_class must be an int \(got True\)"),
    ({"seed": -1}, ValueError, r"seed must be >= 0 \(got -1\)"),
    ({"seed": "0"}, TypeError, r"seed must be an int \(got '0'\)"),
])
def test_bad_arguments_are_rejected(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make_demo_dataset(**kwargs)


@pytest.fixture(scope="module")
def demo_splits():
    """The demo set the CLI uses (400 per class, seed 0), split by its usage codes."""
    return split_dataset(make_demo_dataset(400, seed=0))


def test_pixels_alone_separate_the_classes_poorly(demo_splits) -> None:
    """Calibration guard: a linear model on raw pixels stays far below what CNNs reach."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    train, test = demo_splits.train, demo_splits.test
    scaler = StandardScaler().fit(_pixels(train.images))
    with threadpool_limits(1):  # one BLAS thread: ~1 s; threads fighting over 2 busy cores: ~30 s
        model = LogisticRegression(C=0.003, max_iter=1000).fit(scaler.transform(_pixels(train.images)), train.labels)
    accuracy = model.score(scaler.transform(_pixels(test.images)), test.labels)
    assert 1 / N_CLASSES < accuracy < 0.45


@pytest.mark.slow
def test_a_good_cnn_beats_a_tiny_net_by_15_points(demo_splits) -> None:
    """Calibration guard: model choice matters (bench/demo_difficulty.py measures the full table)."""
    tiny = _test_accuracy(TINY_NET, demo_splits, flip=False)
    good = _test_accuracy(GOOD_NET, demo_splits, flip=True)
    assert good >= tiny + 0.15, f"good net {good:.3f} vs tiny net {tiny:.3f}"
    assert good <= 0.90, f"good net {good:.3f}: the demo task became too easy"


TINY_NET = {"blocks": [{"n_convs": 1, "filters": 4, "pooling": "max", "pool_size": 4}],
            "batch_norm": "none", "head": "flatten"}
GOOD_NET = {
    "blocks": [{"n_convs": 1, "filters": 16, "dropout": 0.1}, {"n_convs": 2, "filters": 32, "dropout": 0.1},
               {"n_convs": 2, "filters": 64, "dropout": 0.2}],
    "batch_norm": "conv", "head": "gap", "dense": [{"units": 64, "dropout": 0.2}],
}


def _test_accuracy(architecture: dict, splits, *, flip: bool) -> float:
    """Train like bench/demo_difficulty.py (Adam 3e-3, batch 32, plateau, early stopping 8), score on test."""
    from fer_core.evaluate import evaluate
    from fer_core.model import ArchitectureConfig, build_model
    from fer_core.train import AugmentationConfig, TrainConfig, build_augmentation, train

    augmentation = build_augmentation(AugmentationConfig(horizontal_flip=flip), seed=0)
    model = build_model(ArchitectureConfig.from_dict(architecture), augmentation=augmentation)
    config = TrainConfig(learning_rate=3e-3, batch_size=32, epochs=30, early_stopping_patience=8, seed=0)
    validation = (splits.validation.images, splits.validation.labels)
    result = train(model, splits.train.images, splits.train.labels, validation=validation, config=config, verbose=0)
    return evaluate(result.model, splits.test.images, splits.test.labels).accuracy


def _pixels(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0
