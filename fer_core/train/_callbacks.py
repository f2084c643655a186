"""Keras callbacks of the trainer: NaN guard, throughput meter and per-epoch reporter."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import keras
import numpy as np

EpochHook = Callable[[int, dict[str, float]], None]
"""Called as hook(epoch, logs) after every epoch; whatever it raises propagates out of `train`."""


def _as_float(value: object) -> float:
    return float(np.asarray(keras.ops.convert_to_numpy(value)))


def current_learning_rate(model: keras.Model) -> float:
    """The optimizer's learning rate now (a schedule is evaluated at the current step)."""
    return _as_float(model.optimizer.learning_rate)


class NanGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose (running) loss is NaN or infinite."""

    def __init__(self) -> None:
        super().__init__()
        self.triggered = False

    def on_train_batch_end(self, batch: int, logs: Mapping[str, object] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(_as_float(loss)):
            self.triggered = True
            self.model.stop_training = True


class ThroughputMeter(keras.callbacks.Callback):
    """Training images per second over all epochs, validation time excluded.

    The first batch of the run is left out of the count and the time, because it mostly measures
    graph tracing and compilation; with a single batch in total it is counted after all.

    Args:
        n_train: Training images per epoch.
        batch_size: Images per batch (the last batch of an epoch may be smaller).
    """

    def __init__(self, n_train: int, batch_size: int) -> None:
        super().__init__()
        self._n_train = n_train
        self._batch_size = batch_size
        self._phase_start: float | None = None
        self._first_batch_end: float | None = None
        self._n_batches = 0
        self._n_images_all = 0
        self._seconds_all = 0.0
        self._n_images_steady = 0
        self._seconds_steady = 0.0

    @property
    def images_per_s(self) -> float:
        """Steady-state throughput (first batch excluded), or the overall one when nothing else was timed."""
        if self._n_images_steady > 0 and self._seconds_steady > 0:
            return self._n_images_steady / self._seconds_steady
        return self._n_images_all / self._seconds_all if self._seconds_all > 0 else 0.0

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, object] | None = None) -> None:
        self._phase_start = time.perf_counter()
        self._n_batches = 0

    def on_train_batch_end(self, batch: int, logs: Mapping[str, object] | None = None) -> None:
        self._n_batches += 1
        if self._first_batch_end is None:
            self._first_batch_end = time.perf_counter()

    def on_test_begin(self, logs: Mapping[str, object] | None = None) -> None:
        self._close_training_phase()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, object] | None = None) -> None:
        self._close_training_phase()

    def _close_training_phase(self) -> None:
        if self._phase_start is None:
            return
        now = time.perf_counter()
        n_images = min(self._n_batches * self._batch_size, self._n_train)
        self._n_images_all += n_images
        self._seconds_all += now - self._phase_start
        if self._first_batch_end is not None and self._first_batch_end >= self._phase_start:
            n_images -= min(self._batch_size, self._n_train)
            self._seconds_steady += now - self._first_batch_end
        else:
            self._seconds_steady += now - self._phase_start
        self._n_images_steady += n_images
        self._phase_start = None


class EpochReporter(keras.callbacks.Callback):
    """Records the per-epoch logs as floats (plus the learning rate) and calls the caller's hook.

    The hook is not called for an epoch cut short by a NaN loss: that epoch is reported through the
    result's outcome instead.
    """

    def __init__(self, hook: EpochHook | None, nan_guard: NanGuard) -> None:
        super().__init__()
        self._hook = hook
        self._nan_guard = nan_guard
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: Mapping[str, object] | None = None) -> None:
        values = {name: _as_float(value) for name, value in (logs or {}).items()}
        values["learning_rate"] = current_learning_rate(self.model)
        for name, value in values.items():
            self.history.setdefault(name, []).append(value)
        if self._hook is not None and not self._nan_guard.triggered:
            self._hook(epoch, dict(values))
