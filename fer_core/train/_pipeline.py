"""Input pipelines over uint8 images: tf.data over indices, or a keras PyDataset without TensorFlow.

Both keep the images as uint8 in memory (a quarter of float32) and build each batch by gathering
rows by index; the model's own Rescaling layer turns them into floats. Labels become one-hot in the
pipeline so that label smoothing works with CategoricalCrossentropy, and class weights are applied
as per-sample weights. Distillation passes its own (N, 7) target rows instead (``targets``): they are
gathered by index like the labels, while the class weights still follow the labels.
"""

from __future__ import annotations

import importlib.util
import math
from typing import TYPE_CHECKING, TypeAlias

import keras
import numpy as np

from fer_core.emotions import N_CLASSES
from fer_core.errors import ConfigError
from fer_core.train._mixing import Mixing, mix_batch

if TYPE_CHECKING:
    import tensorflow as tf

    Batches: TypeAlias = tf.data.Dataset | keras.utils.PyDataset
    """Yields (x uint8, y one-hot float32) or (x, y, per-sample weights)."""


def tensorflow_available() -> bool:
    """True when TensorFlow can be imported (tf.data then feeds every Keras backend)."""
    return importlib.util.find_spec("tensorflow") is not None


def make_batches(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    class_weights: np.ndarray | None = None,
    mixing: Mixing | None = None,
    targets: np.ndarray | None = None,
) -> Batches:
    """Batches for `Model.fit`/`evaluate`: tf.data when TensorFlow is importable, else a PyDataset.

    Args:
        images: uint8 array (N, 48, 48, 1), not copied to float.
        labels: int labels (N,) in 0..6.
        batch_size: Images per batch; the last batch may be smaller.
        shuffle: Reshuffle the order every epoch (training) or keep it (validation).
        seed: Seed of the shuffling.
        class_weights: float32 vector (7,) giving each sample the weight of its class, or None.
        mixing: Mixup/CutMix of the training batches (soft labels), or None; needs TensorFlow.
        targets: float32 (N, 7) target rows to train on instead of the one-hot labels (distillation),
            or None. The labels still choose each sample's class weight.
    """
    if tensorflow_available():
        return make_tf_dataset(
            images,
            labels,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            class_weights=class_weights,
            mixing=mixing,
            targets=targets,
        )
    if mixing is not None and not mixing.is_off:
        raise ConfigError(
            f"training.mixup_alpha/cutmix_alpha need TensorFlow's tf.data (got mixup_alpha={mixing.mixup_alpha:g}, "
            f"cutmix_alpha={mixing.cutmix_alpha:g} without TensorFlow); install tensorflow or set both to 0"
        )
    return make_py_dataset(
        images, labels, batch_size=batch_size, shuffle=shuffle, seed=seed, class_weights=class_weights, targets=targets
    )


def make_tf_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    class_weights: np.ndarray | None = None,
    mixing: Mixing | None = None,
    targets: np.ndarray | None = None,
) -> tf.data.Dataset:
    """tf.data pipeline: shuffled indices -> batch -> gather from uint8 tensors -> one-hot [-> mix] -> prefetch.

    With ``targets`` the batch's target rows are gathered instead of one-hot labels.

    The images are converted once into a uint8 tensor on the CPU that the map function captures;
    every epoch only reshuffles the index range, so nothing is re-copied per epoch.
    """
    import tensorflow as tf

    with tf.device("/CPU:0"):
        images_t = tf.convert_to_tensor(images, dtype=tf.uint8)
        labels_t = tf.convert_to_tensor(np.asarray(labels, dtype=np.int32))
        weights_t = None if class_weights is None else tf.convert_to_tensor(class_weights, dtype=tf.float32)
        targets_t = None if targets is None else tf.convert_to_tensor(targets, dtype=tf.float32)

    def gather(indices: tf.Tensor) -> tuple[tf.Tensor, ...]:
        batch_labels = tf.gather(labels_t, indices)
        x = tf.gather(images_t, indices)
        if targets_t is None:
            y = tf.one_hot(batch_labels, N_CLASSES, dtype=tf.float32)
        else:
            y = tf.gather(targets_t, indices)
        if weights_t is None:
            return x, y
        return x, y, tf.gather(weights_t, batch_labels)

    indices = tf.data.Dataset.range(len(images))
    if shuffle:
        indices = indices.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    batches = indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    if mixing is not None and not mixing.is_off:
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        batches = tf.data.Dataset.zip(batches, batch_seeds).map(
            lambda batch, batch_seed: mix_batch(mixing, batch_seed, *batch), num_parallel_calls=tf.data.AUTOTUNE
        )
    return batches.prefetch(tf.data.AUTOTUNE).with_options(_lean_options())


def _lean_options() -> tf.data.Options:
    """tf.data options that leave the cores to the model: no autotuning, one pipeline thread.

    Gathering a batch of uint8 rows costs microseconds, while tf.data's autotuner and its own thread
    pool compete with TensorFlow's compute threads on small CPUs (on 2 cores, some epochs ran at half
    speed); `bench/throughput.py` measures the difference.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return options


def make_py_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    class_weights: np.ndarray | None = None,
    targets: np.ndarray | None = None,
) -> keras.utils.PyDataset:
    """Backend-agnostic fallback with the same batches as `make_tf_dataset` (used without TensorFlow)."""
    return UInt8Batches(
        images, labels, batch_size=batch_size, shuffle=shuffle, seed=seed, class_weights=class_weights, targets=targets
    )


class UInt8Batches(keras.utils.PyDataset):
    """A PyDataset that gathers uint8 batches by index and reshuffles the order after every epoch."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        batch_size: int,
        shuffle: bool,
        seed: int,
        class_weights: np.ndarray | None = None,
        targets: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self._images = images
        self._labels = np.asarray(labels, dtype=np.int64)
        self._batch_size = batch_size
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._class_weights = class_weights
        self._one_hot = np.eye(N_CLASSES, dtype=np.float32)
        self._targets = targets
        self._order = self._new_order()

    def __len__(self) -> int:
        return math.ceil(len(self._labels) / self._batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        rows = self._order[index * self._batch_size : (index + 1) * self._batch_size]
        batch_labels = self._labels[rows]
        x = self._images[rows]
        y = self._one_hot[batch_labels] if self._targets is None else self._targets[rows]
        if self._class_weights is None:
            return x, y
        return x, y, self._class_weights[batch_labels]

    def on_epoch_end(self) -> None:
        """Reshuffle for the next epoch (Keras calls this after each epoch)."""
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        n_images = len(self._labels)
        return self._rng.permutation(n_images) if self._shuffle else np.arange(n_images)
