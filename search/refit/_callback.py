"""The Keras callback that makes a refit resumable: checkpoint, early stopping and plateau state per epoch.

The trainer's own EarlyStopping and ReduceLROnPlateau start from scratch in every ``fit``; a refit
continued after an interruption must go on with the counters it had. So the refit turns the trainer's
early stopping off, keeps the patience counter and best weights here (on disk), and restores the
plateau callback's counters and the optimizer's variables when training starts again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import keras

from search.refit._checkpoint import RefitCheckpoint, RefitState

PLATEAU_FIELDS = ("wait", "best", "cooldown_counter")

EpochCommitted = Callable[[int, dict[str, float]], None]
"""Called as ``hook(epoch, metrics)`` (1-based) once an epoch's checkpoint is committed."""


class RefitCheckpointCallback(keras.callbacks.Callback):
    """Checkpoints every finished epoch and stops when validation accuracy stalls for ``patience`` epochs.

    Pass :meth:`record` as ``train(on_epoch_end=...)`` (it receives the logs with the learning rate)
    and this callback after the plateau callback in ``train(callbacks=...)``.

    Args:
        checkpoint: The refit's folder.
        state: The committed state (updated and committed after every epoch).
        plateau: The ReduceLROnPlateau callback of a plateau schedule, or None.
        on_commit: Called after each commit (MLflow metrics, progress).
        stop_at: ``time.monotonic()`` after which training stops at the end of the epoch (``--timeout``).
    """

    def __init__(self, checkpoint: RefitCheckpoint, state: RefitState, *,
                 plateau: keras.callbacks.ReduceLROnPlateau | None, on_commit: EpochCommitted,
                 stop_at: float | None = None) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.checkpoint = checkpoint
        self.state = state
        self.plateau = plateau
        self.on_commit = on_commit
        self._logs: dict[int, dict[str, float]] = {}

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        """``train``'s per-epoch hook: keeps the epoch's float logs (not called for a NaN epoch)."""
        self._logs[epoch] = dict(logs)

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.state.optimizer_file is not None:
            self.checkpoint.restore_optimizer(self.model.optimizer, self.model, self.state.optimizer_file)
        if self.plateau is not None and self.state.plateau:
            self.plateau.best = float(self.state.plateau["best"])
            self.plateau.wait = int(self.state.plateau["wait"])
            self.plateau.cooldown_counter = int(self.state.plateau["cooldown_counter"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        metrics = self._logs.pop(epoch, None)
        if metrics is None:
            return  # a NaN loss cut the epoch short: nothing worth resuming from
        step = epoch + 1
        state = self.state
        val_accuracy = metrics.get("val_accuracy")
        is_best = val_accuracy is not None and (state.best_val_accuracy is None
                                                or val_accuracy > state.best_val_accuracy)
        files = self.checkpoint.save_epoch(self.model, step, is_best=is_best)
        state.weights_file, state.optimizer_file = files["weights_file"], files["optimizer_file"]
        if is_best:
            state.best_weights_file = files["best_weights_file"]
            state.best_epoch, state.best_val_accuracy, state.n_stale = step, val_accuracy, 0
        else:
            state.n_stale += 1
        if self.plateau is not None:
            state.plateau = {name: float(getattr(self.plateau, name)) for name in PLATEAU_FIELDS}
        for name, value in metrics.items():
            state.history.setdefault(name, []).append(float(value))
        state.epochs_done = step
        if self.stop_at is not None and not state.training_done and time.monotonic() >= self.stop_at:
            state.timed_out = True
        self.checkpoint.commit(state)
        self.on_commit(step, metrics)
        if state.training_done:
            self.model.stop_training = True
