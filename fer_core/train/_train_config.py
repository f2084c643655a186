"""`TrainConfig`: the validated `training` part of a candidate configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from fer_core.errors import ConfigError
from fer_core.train._checks import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    reject_unknown_keys,
    require_mapping,
)
from fer_core.train._optim import OPTIMIZER_BUILDERS, SCHEDULE_BUILDERS

_PATH = "training"


@dataclass(frozen=True)
class TrainConfig:
    """How a candidate is trained: optimizer, loss options, batch/epochs, stopping and LR schedule.

    Args:
        optimizer: "adam", "adamw" or "sgd" (sgd always uses Nesterov momentum).
        learning_rate: Peak learning rate (> 0).
        weight_decay: Decoupled weight decay (>= 0; 0 = off).
        momentum: SGD momentum in [0, 1); ignored by adam/adamw.
        label_smoothing: Categorical label smoothing in [0, 1).
        class_weighting: Weight samples by balanced class weights computed from the training labels.
        batch_size: Images per step (>= 1).
        epochs: Maximum number of epochs (>= 1).
        early_stopping_patience: Epochs without a val-accuracy gain before stopping (best weights are
            restored); None turns early stopping off.
        schedule: "none", "plateau" (ReduceLROnPlateau on val accuracy), "cosine" (per-step cosine
            decay after a linear warm-up) or "onecycle" (per-step rise from learning_rate/25 to
            learning_rate at ``cycle_peak``, then fall to min_learning_rate).
        plateau_factor: LR multiplier on a plateau, in (0, 1).
        plateau_patience: Epochs without a gain before the LR is reduced (>= 1).
        warmup_epochs: Linear warm-up epochs of the cosine schedule (>= 0, < epochs).
        min_learning_rate: Floor of the plateau schedule and end value of the cosine and one-cycle ones
            (>= 0, <= learning_rate).
        cycle_peak: Fraction of the run at which the one-cycle schedule peaks, in (0, 1).
        ema_momentum: Exponential moving average of the weights, in [0, 1) (0 = off): validation,
            early stopping and the returned model see the averaged weights.
        mixup_alpha: Mixup of image and label pairs within a batch, Beta(alpha, alpha) mixing
            weights, in [0, 10] (0 = off).
        cutmix_alpha: CutMix (a pasted box from another image, labels mixed by area), Beta(alpha,
            alpha), in [0, 10] (0 = off). With mixup also on, each batch gets one of the two at random.
        seed: Seed for Keras, TensorFlow, NumPy and Python random numbers.
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    label_smoothing: float = 0.0
    class_weighting: bool = False
    batch_size: int = 64
    epochs: int = 30
    early_stopping_patience: int | None = 10
    schedule: str = "plateau"
    plateau_factor: float = 0.5
    plateau_patience: int = 3
    warmup_epochs: int = 0
    min_learning_rate: float = 1e-6
    cycle_peak: float = 0.3
    ema_momentum: float = 0.0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value in self._checked_values().items():
            object.__setattr__(self, name, value)
        self._check_cross_field_rules()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from the `training` mapping of a candidate; missing keys take their defaults."""
        data = require_mapping(data, _PATH)
        reject_unknown_keys(data, [field.name for field in fields(cls)], _PATH)
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with every option, accepted back by `from_dict`."""
        return asdict(self)

    def _checked_values(self) -> dict[str, Any]:
        patience = self.early_stopping_patience
        return {
            "optimizer": check_choice(self.optimizer, f"{_PATH}.optimizer", tuple(OPTIMIZER_BUILDERS)),
            "learning_rate": check_float(self.learning_rate, f"{_PATH}.learning_rate", low=0.0, low_open=True),
            "weight_decay": check_float(self.weight_decay, f"{_PATH}.weight_decay", low=0.0),
            "momentum": check_float(self.momentum, f"{_PATH}.momentum", low=0.0, high=1.0),
            "label_smoothing": check_float(self.label_smoothing, f"{_PATH}.label_smoothing", low=0.0, high=1.0),
            "class_weighting": check_bool(self.class_weighting, f"{_PATH}.class_weighting"),
            "batch_size": check_int(self.batch_size, f"{_PATH}.batch_size", low=1),
            "epochs": check_int(self.epochs, f"{_PATH}.epochs", low=1),
            "early_stopping_patience": (
                None if patience is None else check_int(patience, f"{_PATH}.early_stopping_patience", low=1)
            ),
            "schedule": check_choice(self.schedule, f"{_PATH}.schedule", tuple(SCHEDULE_BUILDERS)),
            "plateau_factor": check_float(
                self.plateau_factor, f"{_PATH}.plateau_factor", low=0.0, high=1.0, low_open=True
            ),
            "plateau_patience": check_int(self.plateau_patience, f"{_PATH}.plateau_patience", low=1),
            "warmup_epochs": check_int(self.warmup_epochs, f"{_PATH}.warmup_epochs", low=0),
            "min_learning_rate": check_float(self.min_learning_rate, f"{_PATH}.min_learning_rate", low=0.0),
            "cycle_peak": check_float(self.cycle_peak, f"{_PATH}.cycle_peak", low=0.0, high=1.0, low_open=True),
            "ema_momentum": check_float(self.ema_momentum, f"{_PATH}.ema_momentum", low=0.0, high=1.0),
            "mixup_alpha": check_float(self.mixup_alpha, f"{_PATH}.mixup_alpha", low=0.0, high=10.0, high_open=False),
            "cutmix_alpha": check_float(
                self.cutmix_alpha, f"{_PATH}.cutmix_alpha", low=0.0, high=10.0, high_open=False
            ),
            "seed": check_int(self.seed, f"{_PATH}.seed"),
        }

    def _check_cross_field_rules(self) -> None:
        if self.min_learning_rate > self.learning_rate:
            raise ConfigError(
                f"{_PATH}.min_learning_rate must be <= {_PATH}.learning_rate "
                f"(min_learning_rate={self.min_learning_rate:g}, learning_rate={self.learning_rate:g}); "
                "lower min_learning_rate or raise learning_rate"
            )
        if self.schedule == "cosine" and self.warmup_epochs >= self.epochs:
            raise ConfigError(
                f"{_PATH}.warmup_epochs must be < {_PATH}.epochs with the cosine schedule "
                f"(warmup_epochs={self.warmup_epochs}, epochs={self.epochs}); "
                "shorten the warm-up or train for more epochs"
            )
