"""Build a Keras 3 functional CNN from an ``ArchitectureConfig`` (Keras API only, any backend).

Layout: Input (48, 48, 1) uint8 -> Rescaling(1/255) -> [augmentation] -> conv blocks (standard or
separable convs, optional squeeze-and-excitation and residual shortcut) -> head ->
hidden dense layers -> Dense(7, softmax, float32). Taking uint8 keeps datasets 4x smaller in memory
and lets a saved model run on raw pixels.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import ConfigError
from fer_core.model._activations import get_activation
from fer_core.model._checks import check_choice
from fer_core.model._config import ArchitectureConfig, ConvBlockConfig, DenseLayerConfig
from fer_core.model._geometry import check_geometry

DTYPE_POLICIES: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16", "float16", "bfloat16")
"""Keras dtype policies ``build_model`` accepts; the output layer always stays float32."""

_POOLING_LAYERS = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}
_HEAD_LAYERS = {"flatten": layers.Flatten, "gap": layers.GlobalAveragePooling2D}


BN_MOMENTUM = 0.9
"""Batch-norm running statistics momentum. Keras' default (0.99) takes ~8 epochs of a small data set
to settle, during which validation accuracy sits at chance and short or pruned trials are judged on it."""


def build_model(
    config: ArchitectureConfig,
    *,
    augmentation: keras.layers.Layer | None = None,
    dtype_policy: str | None = None,
    name: str = "fer_cnn",
) -> keras.Model:
    """Build the (uncompiled) functional model described by ``config``.

    Args:
        config: The architecture; its geometry is checked first (``GeometryError`` when impossible).
        augmentation: Optional layer applied to the rescaled [0, 1] images; Keras preprocessing
            layers act only in training, so inference sees the images unchanged.
        dtype_policy: Keras dtype policy for every layer, e.g. ``"mixed_float16"``; None keeps
            Keras' global policy. The softmax output is float32 regardless.
        name: Model name.
    """
    if not isinstance(config, ArchitectureConfig):
        raise ConfigError(
            f"config must be an ArchitectureConfig (got {type(config).__name__}); "
            f"build one with ArchitectureConfig.from_dict(...) or get_preset(...)"
        )
    if dtype_policy is not None:
        check_choice("dtype_policy", dtype_policy, DTYPE_POLICIES)
    check_geometry(config)
    inputs = keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescaling", dtype=dtype_policy)(inputs)
    if augmentation is not None:
        x = augmentation(x)
    for block_number, block in enumerate(config.blocks, start=1):
        x = _conv_block(x, block, config, f"block{block_number}", dtype_policy)
    x = _HEAD_LAYERS[config.head](name=f"head_{config.head}", dtype=dtype_policy)(x)
    for layer_number, layer in enumerate(config.dense, start=1):
        x = _dense_layer(x, layer, config.activation, f"dense{layer_number}", dtype_policy)
    outputs = layers.Dense(N_CLASSES, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def _conv_block(
    x: Any, block: ConvBlockConfig, config: ArchitectureConfig, prefix: str, dtype: str | None
) -> Any:
    """Convs (each with BN when batch_norm="conv"), block BN, SE, residual add, pooling, dropout."""
    block_input = x
    activation = get_activation(config.activation)
    bn_per_conv = config.batch_norm == "conv"
    conv_layer = layers.SeparableConv2D if block.conv_type == "separable" else layers.Conv2D
    for conv_number in range(1, block.n_convs + 1):
        x = conv_layer(
            block.filters,
            block.kernel_size,
            strides=block.strides if conv_number == 1 else 1,
            padding=block.padding,
            activation=None if bn_per_conv else activation,
            use_bias=not bn_per_conv,
            name=f"{prefix}_conv{conv_number}",
            dtype=dtype,
        )(x)
        if bn_per_conv:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}_bn{conv_number}", dtype=dtype)(x)
            x = layers.Activation(activation, name=f"{prefix}_act{conv_number}", dtype=dtype)(x)
    if config.batch_norm == "block":
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}_bn", dtype=dtype)(x)
    if block.squeeze_units:
        x = _squeeze_excite(x, block, prefix, dtype)
    if block.residual:
        shortcut = _shortcut(block_input, block, bn_per_conv, prefix, dtype)
        x = layers.Add(name=f"{prefix}_add", dtype=dtype)([x, shortcut])
    if block.pooling != "none":
        pooling = _POOLING_LAYERS[block.pooling]
        x = pooling(pool_size=block.pool_size, name=f"{prefix}_{block.pooling}pool", dtype=dtype)(x)
    if block.dropout > 0:
        x = layers.Dropout(block.dropout, name=f"{prefix}_dropout", dtype=dtype)(x)
    return x


def _squeeze_excite(x: Any, block: ConvBlockConfig, prefix: str, dtype: str | None) -> Any:
    """Channel gates: global average -> Dense(squeeze, relu) -> Dense(filters, sigmoid) -> multiply."""
    gates = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}_se_pool", dtype=dtype)(x)
    gates = layers.Dense(block.squeeze_units, activation="relu", name=f"{prefix}_se_squeeze", dtype=dtype)(gates)
    gates = layers.Dense(block.filters, activation="sigmoid", name=f"{prefix}_se_excite", dtype=dtype)(gates)
    return layers.Multiply(name=f"{prefix}_se_scale", dtype=dtype)([x, gates])


def _shortcut(x: Any, block: ConvBlockConfig, bn_per_conv: bool, prefix: str, dtype: str | None) -> Any:
    """The block input as is when its shape matches the output, else a 1x1 projection (+ BN)."""
    if x.shape[-1] == block.filters and block.strides == 1:
        return x
    x = layers.Conv2D(
        block.filters,
        1,
        strides=block.strides,
        padding="same",
        use_bias=not bn_per_conv,
        name=f"{prefix}_projection",
        dtype=dtype,
    )(x)
    if bn_per_conv:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}_projection_bn", dtype=dtype)(x)
    return x


def _dense_layer(
    x: Any, layer: DenseLayerConfig, activation_name: str, prefix: str, dtype: str | None
) -> Any:
    """Hidden Dense with the configured activation, then dropout."""
    x = layers.Dense(layer.units, activation=get_activation(activation_name), name=prefix, dtype=dtype)(x)
    if layer.dropout > 0:
        x = layers.Dropout(layer.dropout, name=f"{prefix}_dropout", dtype=dtype)(x)
    return x
