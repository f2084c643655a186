"""`as_float32`: a float32 copy of a mixed-precision model, for serving, export and latency figures."""

from __future__ import annotations

from typing import Any

import keras

_FLOAT32 = "float32"


def as_float32(model: keras.Model) -> keras.Model:
    """``model`` itself when every layer computes in float32, else a float32 copy with the same weights.

    Mixed-precision training keeps float32 variables, so the copy loses nothing; it predicts in float32
    on any machine (bfloat16 is emulated, slowly, on CPUs without native support) and converts cleanly
    to ONNX and LiteRT.
    """
    if all(_policy_name(layer) == _FLOAT32 for layer in _layers(model)) and _policy_name(model) == _FLOAT32:
        return model
    config = _with_float32_dtypes(model.get_config())
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer, nested models' layers included."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_layers(layer))
    return found


def _policy_name(layer: keras.layers.Layer) -> str:
    return str(layer.dtype_policy.name)


def _with_float32_dtypes(node: Any) -> Any:
    """The serialized config with every dtype policy replaced by float32 (inputs keep their own dtype)."""
    if isinstance(node, dict):
        if node.get("class_name") == "DTypePolicy":
            return {**node, "config": {**node.get("config", {}), "name": _FLOAT32}}
        return {key: _with_float32_dtypes(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_float32_dtypes(item) for item in node]
    return node
