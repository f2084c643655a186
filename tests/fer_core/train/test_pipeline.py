"""Input pipelines: uint8 batches by index, one-hot labels, per-epoch reshuffling, class weights."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.errors import ConfigError
from fer_core.train._class_weights import class_weight_vector
from fer_core.train._pipeline import make_py_dataset, make_tf_dataset

N_IMAGES = 50
BATCH_SIZE = 16


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """Image i is filled with the value i, so a batch reveals which rows it holds."""
    images = np.broadcast_to(np.arange(N_IMAGES, dtype=np.uint8)[:, None, None, None], (N_IMAGES, 48, 48, 1)).copy()
    labels = np.arange(N_IMAGES) % 7
    return images, labels


def _epochs(batches: object, n_epochs: int) -> list[list[tuple[np.ndarray, ...]]]:
    """Materialise ``n_epochs`` passes the way Keras does (a new iterator, then on_epoch_end)."""
    passes = []
    for _ in range(n_epochs):
        if hasattr(batches, "__getitem__"):
            passes.append([tuple(np.asarray(part) for part in batches[i]) for i in range(len(batches))])
            batches.on_epoch_end()
        else:
            passes.append([tuple(part.numpy() for part in batch) for batch in batches])
    return passes


def _rows(epoch: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    return np.concatenate([batch[0][:, 0, 0, 0] for batch in epoch])


BUILDERS = pytest.mark.parametrize("builder", [make_tf_dataset, make_py_dataset], ids=["tf.data", "PyDataset"])


@BUILDERS
def test_batches_are_uint8_with_one_hot_labels(builder, data) -> None:
    images, labels = data
    (epoch,) = _epochs(builder(images, labels, batch_size=BATCH_SIZE, shuffle=True, seed=0), 1)

    assert [len(batch[0]) for batch in epoch] == [16, 16, 16, 2]
    for x, y in epoch:
        assert x.dtype == np.uint8 and x.shape[1:] == (48, 48, 1)
        assert y.dtype == np.float32 and y.shape[1:] == (7,)
        np.testing.assert_array_equal(y.argmax(axis=1), labels[x[:, 0, 0, 0]])
        np.testing.assert_array_equal(y.sum(axis=1), 1.0)


@BUILDERS
def test_every_epoch_is_a_new_permutation_of_all_rows(builder, data) -> None:
    images, labels = data
    first, second = _epochs(builder(images, labels, batch_size=BATCH_SIZE, shuffle=True, seed=0), 2)

    np.testing.assert_array_equal(np.sort(_rows(first)), np.arange(N_IMAGES))
    np.testing.assert_array_equal(np.sort(_rows(second)), np.arange(N_IMAGES))
    assert not np.array_equal(_rows(first), _rows(second))


@BUILDERS
def test_shuffling_is_reproducible_with_the_seed(builder, data) -> None:
    images, labels = data
    first = _epochs(builder(images, labels, batch_size=BATCH_SIZE, shuffle=True, seed=7), 1)[0]
    again = _epochs(builder(images, labels, batch_size=BATCH_SIZE, shuffle=True, seed=7), 1)[0]
    np.testing.assert_array_equal(_rows(first), _rows(again))


@BUILDERS
def test_validation_order_is_kept(builder, data) -> None:
    images, labels = data
    (epoch,) = _epochs(builder(images, labels, batch_size=BATCH_SIZE, shuffle=False, seed=0), 1)
    np.testing.assert_array_equal(_rows(epoch), np.arange(N_IMAGES))


@BUILDERS
def test_class_weights_become_sample_weights(builder, data) -> None:
    images, labels = data
    weights = np.arange(1, 8, dtype=np.float32)
    (epoch,) = _epochs(builder(images, labels, batch_size=BATCH_SIZE, shuffle=True, seed=0, class_weights=weights), 1)

    for _x, y, sample_weights in epoch:
        np.testing.assert_array_equal(sample_weights, weights[y.argmax(axis=1)])


@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        ({7: 1.0}, r"class_weight keys must be class labels 0\.\.6 \(got 7\)"),
        ({0: -1.0}, r"class_weight\[0\] must be a finite number >= 0 \(got -1\.0\)"),
        ({0: float("inf")}, r"class_weight\[0\] must be a finite number >= 0 \(got inf\)"),
    ],
)
def test_bad_class_weights_are_rejected(class_weight: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        class_weight_vector(class_weight)
