"""`train`: compile and fit one candidate model on uint8 images and report how it went."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from fer_core.data import balanced_class_weights
from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import ConfigError, DataError
from fer_core.train._callbacks import EpochHook, EpochReporter, NanGuard, ThroughputMeter
from fer_core.train._class_weights import class_weight_vector
from fer_core.train._distill import distillation_targets
from fer_core.train._ema import EmaValidation, start_average_at_weights
from fer_core.train._mixing import Mixing
from fer_core.train._optim import LearningRate, build_optimizer, plan_learning_rate
from fer_core.train._pipeline import make_batches
from fer_core.train._result import TrainOutcome, TrainResult
from fer_core.train._train_config import TrainConfig

_VERBOSE_LEVELS = (0, 1, 2)
DEFAULT_SOFT_WEIGHT = 0.7
"""The teacher's share of a distillation target (Hinton et al. weigh the soft term most)."""


def train(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    validation: tuple[np.ndarray, np.ndarray] | None,
    config: TrainConfig,
    on_epoch_end: EpochHook | None = None,
    verbose: int | str = "auto",
    class_weight: dict[int, float] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    initial_epoch: int = 0,
    initial_weights: str | os.PathLike[str] | None = None,
    soft_targets: np.ndarray | None = None,
    soft_weight: float = DEFAULT_SOFT_WEIGHT,
) -> TrainResult:
    """Compile ``model`` per ``config`` and fit it on uint8 images, validating every epoch.

    Args:
        model: Any Keras model taking uint8 (N, 48, 48, 1) input and ending in a 7-way softmax
            (it rescales and, optionally, augments inside).
        x_train: uint8 images (N, 48, 48, 1); never converted to float as a whole.
        y_train: int labels (N,) in 0..6.
        validation: (images, labels) scored after every epoch, or None (then no early stopping,
            and the plateau schedule watches training accuracy).
        config: Optimizer, schedule, batch size, epochs, stopping and seed.
        on_epoch_end: Called as ``on_epoch_end(epoch, logs)`` after every epoch with float logs
            (loss, accuracy, val_loss, val_accuracy, learning_rate). Whatever it raises (e.g.
            ``optuna.TrialPruned``) propagates out of `train` unchanged. Not called for an epoch cut
            short by a NaN loss.
        verbose: 0 (quiet), 1 (progress bar), 2 (one line per epoch) or "auto" (progress bar only
            when stdout is a terminal).
        class_weight: Class -> weight; overrides ``config.class_weighting``'s balanced weights.
        callbacks: Extra Keras callbacks (e.g. a profiler), run after the trainer's own.
        initial_epoch: Continue a training run: epochs ``initial_epoch .. config.epochs - 1`` are run
            (0-based, as Keras counts them; ``on_epoch_end`` gets these absolute numbers) and the
            learning-rate schedule resumes where such a run would be. Must be < ``config.epochs``.
        initial_weights: A ``.weights.h5`` file (``model.save_weights``) of this same architecture
            to start from, e.g. the weights an earlier run ended with (Hyperband's successive halving).
        soft_targets: Knowledge distillation: a teacher's class probabilities on ``x_train``, float
            (N, 7) rows summing to 1. Each image is then trained towards ``soft_weight * teacher +
            (1 - soft_weight) * one_hot(label)`` (label smoothing and mixup/CutMix apply to that blend,
            class weights still follow the label; the training "accuracy" is agreement with the blend's
            argmax). None: the labels only.
        soft_weight: The teacher's share of each target, in [0, 1]; used only with ``soft_targets``.

    Returns:
        The trained model with its history and outcome; a NaN/inf loss is the outcome NAN_LOSS.
    """
    started = time.perf_counter()
    if not isinstance(config, TrainConfig):
        raise ConfigError(
            f"config must be a TrainConfig (got {type(config).__name__}); "
            "build one with TrainConfig.from_dict(candidate['training'])"
        )
    _check_images_and_labels(x_train, y_train, names=("x_train", "y_train"))
    if validation is not None:
        _check_images_and_labels(*validation, names=("validation[0]", "validation[1]"))
    targets = None if soft_targets is None else distillation_targets(y_train, soft_targets, soft_weight)
    verbose_level = _resolve_verbose(verbose)
    _check_initial_epoch(initial_epoch, config.epochs)
    keras.utils.set_random_seed(config.seed)
    if initial_weights is not None:
        _load_initial_weights(model, Path(initial_weights))

    steps_per_epoch = math.ceil(len(y_train) / config.batch_size)
    plan = plan_learning_rate(config, steps_per_epoch, has_validation=validation is not None)
    _compile(model, config, plan.learning_rate)
    start_average_at_weights(model)
    # Keras does not advance the optimizer's step counter for initial_epoch: per-step schedules would restart.
    model.optimizer.iterations.assign(initial_epoch * steps_per_epoch)
    train_batches = make_batches(
        x_train,
        y_train,
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
        class_weights=_class_weights(config, y_train, class_weight),
        mixing=Mixing(config.mixup_alpha, config.cutmix_alpha),
        targets=targets,
    )
    validation_batches = None
    if validation is not None:
        validation_batches = make_batches(*validation, batch_size=config.batch_size, shuffle=False, seed=config.seed)

    nan_guard = NanGuard()
    meter = ThroughputMeter(n_train=len(y_train), batch_size=config.batch_size)
    reporter = EpochReporter(on_epoch_end, nan_guard)
    early_stopping = _early_stopping(config, has_validation=validation is not None)
    ema = [EmaValidation()] if config.ema_momentum > 0 else []
    model.fit(
        train_batches,
        validation_data=validation_batches,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        callbacks=[*ema, nan_guard, meter, reporter, *early_stopping, *plan.callbacks, *callbacks],
        verbose=verbose_level,
        shuffle=False,  # the pipeline reshuffles itself every epoch
    )

    best_epoch, best_val_accuracy = _best_epoch(reporter.history.get("val_accuracy"))
    return TrainResult(
        model=model,
        history=reporter.history,
        outcome=_outcome(nan_guard, early_stopping),
        n_epochs=len(reporter.history.get("loss", [])),
        best_epoch=None if best_epoch is None else initial_epoch + best_epoch,
        best_val_accuracy=best_val_accuracy,
        duration_s=time.perf_counter() - started,
        images_per_s=meter.images_per_s,
    )


def _check_images_and_labels(images: object, labels: object, *, names: tuple[str, str]) -> None:
    """Fail early unless ``images`` is uint8 (N, 48, 48, 1) and ``labels`` holds N ints in 0..6."""
    image_name, label_name = names
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE:
        got = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise DataError(
            f"{image_name} must be a uint8 numpy array of shape (N, 48, 48, 1) (got {got}); "
            "pass the raw 0..255 images, the model rescales them itself"
        )
    if len(images) == 0:
        raise DataError(f"{image_name} must hold at least one image (got 0)")
    if not isinstance(labels, np.ndarray) or labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        got = f"{labels.dtype} {labels.shape}" if isinstance(labels, np.ndarray) else type(labels).__name__
        raise DataError(
            f"{label_name} must be an integer numpy array of shape ({len(images)},), one class index per "
            f"image of {image_name} (got {got})"
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= N_CLASSES:
        raise DataError(f"{label_name} must hold class indices 0..{N_CLASSES - 1} (got values {low}..{high})")


def _check_initial_epoch(initial_epoch: int, epochs: int) -> None:
    """Fail early unless 0 <= ``initial_epoch`` < ``epochs`` (at least one epoch is left to run)."""
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, int) or not 0 <= initial_epoch < epochs:
        raise ConfigError(
            f"initial_epoch must be an integer in [0, epochs) (initial_epoch={initial_epoch!r}, epochs={epochs}); "
            "raise training.epochs or start from an earlier epoch"
        )


def _load_initial_weights(model: keras.Model, path: Path) -> None:
    """Loads ``path`` into ``model``; a missing file or another architecture's weights is a ConfigError."""
    if not path.is_file():
        raise ConfigError(f"initial_weights {str(path)!r} does not exist; pass the file model.save_weights wrote")
    try:
        model.load_weights(path)
    except ValueError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(
            f"initial_weights {str(path)!r} do not fit this model ({first_line}); "
            "they must come from the same architecture"
        ) from None


def _resolve_verbose(verbose: int | str) -> int:
    """Keras verbosity: "auto" shows the progress bar only on a terminal (never in logs or notebooks' pipes)."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 0
    if isinstance(verbose, bool) or verbose not in _VERBOSE_LEVELS:
        raise ConfigError(f"verbose must be 0, 1, 2 or 'auto' (got {verbose!r})")
    return int(verbose)


def _compile(model: keras.Model, config: TrainConfig, learning_rate: LearningRate) -> None:
    """Optimizer per config, cross-entropy on one-hot labels (label smoothing), accuracy metric."""
    model.compile(
        optimizer=_with_loss_scaling(model, build_optimizer(config, learning_rate)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


def _with_loss_scaling(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """Wrap in a LossScaleOptimizer when any layer computes in float16, so small gradients don't underflow.

    Keras only does this itself when the model's own policy is mixed_float16, not when the policy
    was set per layer (as ``build_model(..., dtype_policy=...)`` does).
    """
    policies = [model.dtype_policy.name, *(layer.dtype_policy.name for layer in model.layers)]
    if "mixed_float16" in policies and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _class_weights(
    config: TrainConfig, labels: np.ndarray, class_weight: dict[int, float] | None
) -> np.ndarray | None:
    """Per-class sample-weight vector: explicit weights, else balanced ones when configured, else None."""
    if class_weight is not None:
        return class_weight_vector(class_weight)
    if config.class_weighting:
        return class_weight_vector(balanced_class_weights(labels))
    return None


def _early_stopping(config: TrainConfig, *, has_validation: bool) -> list[keras.callbacks.EarlyStopping]:
    """EarlyStopping on val accuracy restoring the best weights, when configured and validation exists."""
    if config.early_stopping_patience is None or not has_validation:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor="val_accuracy",
            mode="max",
            patience=config.early_stopping_patience,
            restore_best_weights=True,
        )
    ]


def _best_epoch(val_accuracy: list[float] | None) -> tuple[int | None, float | None]:
    """Index and value of the highest finite val accuracy (first one on ties), or (None, None)."""
    if not val_accuracy:
        return None, None
    finite = [(value, -epoch) for epoch, value in enumerate(val_accuracy) if math.isfinite(value)]
    if not finite:
        return None, None
    value, negative_epoch = max(finite)
    return -negative_epoch, value


def _outcome(nan_guard: NanGuard, early_stopping: list[keras.callbacks.EarlyStopping]) -> TrainOutcome:
    if nan_guard.triggered:
        return TrainOutcome.NAN_LOSS
    if any(callback.stopped_epoch > 0 for callback in early_stopping):
        return TrainOutcome.EARLY_STOPPED
    return TrainOutcome.COMPLETED
