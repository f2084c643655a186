"""The inference copy of a model that is exported: the same weights, without the random augmentation layers.

Keras' augmentation layers pass images through unchanged at inference, but their graph still draws random
numbers (``StatelessRandomUniformV2``), an op ONNX has no kernel for. The copy replaces each of them by an
``Identity`` and shares every other layer (weights included), so it computes what the model computes at
inference. Test-time augmentation inside a registered model is made of standard layers and is kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_core.emotions import IMAGE_SHAPE

RANDOM_LAYER_PREFIX = "Random"
"""Keras' random preprocessing layers are named ``RandomFlip``, ``RandomTranslation``, ... ."""


def inference_copy(model: Any) -> Any:
    """``model`` with every random preprocessing layer (nested models too) replaced by an ``Identity``."""
    import keras

    def without_randomness(layer: Any) -> Any:
        if type(layer).__name__.startswith(RANDOM_LAYER_PREFIX):
            return keras.layers.Identity(name=layer.name)
        return layer

    copy = keras.models.clone_model(model, clone_function=without_randomness, recursive=True)
    copy(np.zeros((1, *IMAGE_SHAPE), dtype=np.uint8))  # Keras exports only a model that has been called
    return copy
