"""Optimizer and learning-rate schedule registries (name -> builder), one table each.

The builders read a `TrainConfig` through `OptimSettings`, the part of it they use, so that this module does not
import `TrainConfig` (whose validation imports the registries' names from here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

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


LearningRate: TypeAlias = float | keras.optimizers.schedules.LearningRateSchedule


@dataclass(frozen=True)
class LearningRatePlan:
    """What a schedule contributes: the optimizer's learning rate (value or per-step schedule) and callbacks."""

    learning_rate: LearningRate
    callbacks: list[keras.callbacks.Callback] = field(default_factory=list)


def _weight_decay(config: OptimSettings) -> float | None:
    """Keras skips the decay step entirely for None; 0.0 would still run it."""
    return config.weight_decay or None


def _adam(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate=learning_rate, weight_decay=_weight_decay(config))


def _adamw(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=config.weight_decay)


def _sgd(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    return keras.optimizers.SGD(
        learning_rate=learning_rate,
        momentum=config.momentum,
        nesterov=True,
        weight_decay=_weight_decay(config),
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


SCHEDULE_BUILDERS: dict[str, Callable[[OptimSettings, int, bool], LearningRatePlan]] = {
    "none": _constant,
    "plateau": _plateau,
    "cosine": _cosine,
}
"""training.schedule name -> builder(config, steps per epoch, has validation)."""


def build_optimizer(config: OptimSettings, learning_rate: LearningRate) -> keras.optimizers.Optimizer:
    """The optimizer named by ``config.optimizer`` (validated by TrainConfig) with ``learning_rate``."""
    return OPTIMIZER_BUILDERS[config.optimizer](config, learning_rate)


def plan_learning_rate(config: OptimSettings, steps_per_epoch: int, has_validation: bool) -> LearningRatePlan:
    """The learning rate (or schedule) and the callbacks implementing ``config.schedule``."""
    return SCHEDULE_BUILDERS[config.schedule](config, steps_per_epoch, has_validation)
