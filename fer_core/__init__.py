"""fer_core: the facial-emotion domain — data, CNN builder, trainer, evaluation, inference.

It never imports optuna or mlflow, so it is usable on its own. The names below are re-exported lazily
(PEP 562), so ``import fer_core.data`` does not pay for importing Keras.

Example:
    >>> from fer_core import load_dataset, split_dataset, get_preset, build_model, TrainConfig, train
    >>> splits = split_dataset(load_dataset("data/fer2013.csv"))
    >>> model = build_model(get_preset("seed"))
    >>> result = train(model, splits.train.images, splits.train.labels,
    ...                validation=(splits.validation.images, splits.validation.labels),
    ...                config=TrainConfig(epochs=30))
"""

from __future__ import annotations

import importlib
from typing import Any

from fer_core.emotions import EMOTIONS, IMAGE_SHAPE, IMAGE_SIZE, N_CLASSES
from fer_core.errors import ConfigError, DataError, FerError, GeometryError

_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["DataSplits", "FERDataset", "LoadReport", "Split", "balanced_class_weights", "load_dataset",
         "make_demo_dataset", "split_dataset"], "fer_core.data"),
    **dict.fromkeys(
        ["ArchitectureConfig", "ConvBlockConfig", "DenseLayerConfig", "build_model", "check_geometry",
         "get_preset", "load_model", "model_complexity", "save_model"], "fer_core.model"),
    **dict.fromkeys(
        ["AugmentationConfig", "TrainConfig", "TrainOutcome", "TrainResult", "build_augmentation",
         "default_dtype_policy", "train"], "fer_core.train"),
    **dict.fromkeys(["EvaluationResult", "evaluate", "evaluate_predictions", "predict_proba"], "fer_core.evaluate"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fer_core' has no attribute {name!r}")


__all__ = ["EMOTIONS", "IMAGE_SHAPE", "IMAGE_SIZE", "N_CLASSES", "ConfigError", "DataError", "FerError",
           "GeometryError", *_LAZY]
