"""Training of one candidate: configs, augmentation layer, dtype policy and the `train` loop."""

from fer_core.train._augmentation import AugmentationConfig, build_augmentation
from fer_core.train._distill import distillation_targets
from fer_core.train._optim import OPTIMIZER_BUILDERS, SCHEDULE_BUILDERS
from fer_core.train._precision import default_dtype_policy
from fer_core.train._result import TrainOutcome, TrainResult
from fer_core.train._train_config import TrainConfig
from fer_core.train._trainer import DEFAULT_SOFT_WEIGHT, train

__all__ = [
    "DEFAULT_SOFT_WEIGHT",
    "OPTIMIZER_BUILDERS",
    "SCHEDULE_BUILDERS",
    "AugmentationConfig",
    "TrainConfig",
    "TrainOutcome",
    "TrainResult",
    "build_augmentation",
    "default_dtype_policy",
    "distillation_targets",
    "train",
]
