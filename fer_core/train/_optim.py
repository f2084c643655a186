"""Optimizer and learning-rate schedule registries (name -> builder), one table each.

The builders read a `TrainConfig` through `OptimSettings`, the part of it they use, so that this module does not
import `TrainConfig` (whose validation imports the registries' names from here).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

import keras


class OptimSettings(Protocol):
    """The training options the builders read; `TrainConfig` has them all."""

    @property
    def optimizer(self) -> str: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def momentum(self) -> float: ...
    @property
    def epochs(self) -> int: ...
    @property
    def schedule(self) -> str: ...
    @property
    def plateau_factor(self) -> float: ...
    @property
    def plateau_patience(self) -> int: ...
    @property
    def warmup_epochs(self) -> int: ...
    @property
    def min_learning_rate(self) -> float: ...
    @property
    def cycle_peak(self) -> float: ...
    @property
    def ema_momentum(self) -> float: ...


LearningRate: TypeAlias = float | keras.optimizers.schedules.LearningRateSchedule


@dataclass(frozen=True)
class LearningRatePlan:
    """What a schedule contributes: the optimizer's learning rate (value or per-step schedule) and callbacks."""

    learning_rate: LearningRate
    callbacks: list[keras.callbacks.Callback] = field(default_factory=list)


def _weight_decay(config: OptimSettings) -> float | None:
    """Keras skips the decay step entirely for None; 0.0 would still run it."""
    return config.weight_decay or None


def _ema(config: OptimSettings) -> dict[str, Any]:
    """Keras' built-in exponential moving average of the weights, when ``ema_momentum`` > 0 (0 = off)."""
    if config.ema_momentum > 0:
        return {"use_ema": True, "ema_momentum": config.ema_momentum}
    return {}


def _adam(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate=learning_rate, weight_decay=_weight_decay(config), **_ema(config))


def _adamw(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=config.weight_decay, **_ema(config))


def _sgd(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    return keras.optimizers.SGD(
        learning_rate=learning_rate,
        momentum=config.momentum,
        nesterov=True,
        weight_decay=_weight_decay(config),
        **_ema(config),
    )


OPTIMIZER_BUILDERS: dict[str, Callable[[OptimSettings, LearningRate], keras.optimizers.Optimizer]] = {
    "adam": _adam,
    "adamw": _adamw,
    "sgd": _sgd,
}
"""training.optimizer name -> builder(config, learning rate or schedule)."""


def _constant(config: OptimSettings, steps_per_epoch: int, has_validation: bool) -> LearningRatePlan:
    return LearningRatePlan(learning_rate=config.learning_rate)


def _plateau(config: OptimSettings, steps_per_epoch: int, has_validation: bool) -> LearningRatePlan:
    """ReduceLROnPlateau on val accuracy (on training accuracy when there is no validation set)."""
    reduce = keras.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy" if has_validation else "accuracy",
        mode="max",
        factor=config.plateau_factor,
        patience=config.plateau_patience,
        min_lr=config.min_learning_rate,
    )
    return LearningRatePlan(learning_rate=config.learning_rate, callbacks=[reduce])


def _cosine(config: OptimSettings, steps_per_epoch: int, has_validation: bool) -> LearningRatePlan:
    """Per-step linear warm-up from min_learning_rate to learning_rate, then cosine decay back to it."""
    warmup_steps = config.warmup_epochs * steps_per_epoch
    decay_steps = config.epochs * steps_per_epoch - warmup_steps
    alpha = config.min_learning_rate / config.learning_rate
    if warmup_steps == 0:
        schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps, alpha=alpha)
    else:
        schedule = keras.optimizers.schedules.CosineDecay(
            config.min_learning_rate,
            decay_steps,
            alpha=alpha,
            warmup_target=config.learning_rate,
            warmup_steps=warmup_steps,
        )
    return LearningRatePlan(learning_rate=schedule)


ONE_CYCLE_DIVISOR = 25.0
"""The one-cycle schedule starts at learning_rate / ONE_CYCLE_DIVISOR (Smith's and PyTorch's default)."""


@keras.saving.register_keras_serializable(package="fer_core")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle policy: cosine rise from ``peak / 25`` to ``peak`` at ``peak_step``, cosine fall to ``floor``.

    Args:
        peak: The highest learning rate, reached at step ``peak_step``.
        floor: The learning rate at step ``total_steps`` (and after).
        peak_step: Step of the peak (>= 1, < total_steps).
        total_steps: Steps of the whole run.
    """

    def __init__(self, peak: float, floor: float, peak_step: int, total_steps: int) -> None:
        self.peak = peak
        self.floor = floor
        self.peak_step = peak_step
        self.total_steps = total_steps

    def __call__(self, step: Any) -> Any:
        step = keras.ops.cast(step, "float32")
        start = self.peak / ONE_CYCLE_DIVISOR
        rise = keras.ops.clip(step / self.peak_step, 0.0, 1.0)
        fall = keras.ops.clip((step - self.peak_step) / (self.total_steps - self.peak_step), 0.0, 1.0)
        rising = self.peak + (start - self.peak) * (1.0 + keras.ops.cos(math.pi * rise)) / 2.0
        falling = self.floor + (self.peak - self.floor) * (1.0 + keras.ops.cos(math.pi * fall)) / 2.0
        return keras.ops.where(step < self.peak_step, rising, falling)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "floor": self.floor, "peak_step": self.peak_step, "total_steps": self.total_steps}


def _one_cycle(config: OptimSettings, steps_per_epoch: int, has_validation: bool) -> LearningRatePlan:
    """Per-step one-cycle: peak learning_rate at ``cycle_peak`` of the run, min_learning_rate at its end."""
    total_steps = max(2, config.epochs * steps_per_epoch)
    peak_step = min(total_steps - 1, max(1, round(config.cycle_peak * total_steps)))
    return LearningRatePlan(
        learning_rate=OneCycle(config.learning_rate, config.min_learning_rate, peak_step, total_steps)
    )


SCHEDULE_BUILDERS: dict[str, Callable[[OptimSettings, int, bool], LearningRatePlan]] = {
    "none": _constant,
    "plateau": _plateau,
    "cosine": _cosine,
    "onecycle": _one_cycle,
}
"""training.schedule name -> builder(config, steps per epoch, has validation)."""


def build_optimizer(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    """The optimizer named by ``config.optimizer`` (validated by TrainConfig) with ``learning_rate``."""
    return OPTIMIZER_BUILDERS[config.optimizer](config, learning_rate)


def plan_learning_rate(config: OptimSettings, steps_per_epoch: int, has_validation: bool) -> LearningRatePlan:
    """The learning rate (or schedule) and the callbacks implementing ``config.schedule``."""
    return SCHEDULE_BUILDERS[config.schedule](config, steps_per_epoch, has_validation)
