"""Analytic model size: parameter count and multiply-accumulates (MACs) per image.

Lets a search prune or budget a candidate before building it. ``n_params`` equals Keras'
``model.count_params()`` (BatchNormalization's moving mean and variance included).
"""

from __future__ import annotations

from dataclasses import dataclass

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.model._config import ArchitectureConfig
from fer_core.model._geometry import LayerShape, check_geometry

_BATCH_NORM_WEIGHTS_PER_CHANNEL = 4
"""gamma, beta, moving mean, moving variance."""


@dataclass(frozen=True)
class Complexity:
    """Size of a built model: every weight, and the MACs of its convs and dense layers per image."""

    n_params: int
    macs: int


def model_complexity(config: ArchitectureConfig) -> Complexity:
    """Parameter count and MACs of ``build_model(config)``, without building it."""
    return Complexity(n_params=count_params(config), macs=count_macs(config))


def count_macs(config: ArchitectureConfig) -> int:
    """Multiply-accumulates per 48x48 image of every conv and dense layer (output layer included)."""
    shapes = check_geometry(config)
    macs = 0
    in_channels = IMAGE_SHAPE[-1]
    for shape, kernel_size in _conv_shapes(config, shapes):
        macs += shape.size * shape.size * kernel_size * kernel_size * in_channels * shape.channels
        in_channels = shape.channels
    for n_inputs, n_outputs in _dense_sizes(config, shapes):
        macs += n_inputs * n_outputs
    return macs


def count_params(config: ArchitectureConfig) -> int:
    """Number of weights (trainable or not) of ``build_model(config)``."""
    shapes = check_geometry(config)
    conv_bias = config.batch_norm != "conv"
    n_params = 0
    in_channels = IMAGE_SHAPE[-1]
    for shape, kernel_size in _conv_shapes(config, shapes):
        n_params += kernel_size * kernel_size * in_channels * shape.channels
        n_params += shape.channels if conv_bias else 0
        n_params += _BATCH_NORM_WEIGHTS_PER_CHANNEL * shape.channels if config.batch_norm == "conv" else 0
        in_channels = shape.channels
    if config.batch_norm == "block":
        n_params += sum(_BATCH_NORM_WEIGHTS_PER_CHANNEL * block.filters for block in config.blocks)
    for n_inputs, n_outputs in _dense_sizes(config, shapes):
        n_params += n_inputs * n_outputs + n_outputs
    return n_params


def _conv_shapes(
    config: ArchitectureConfig, shapes: list[LayerShape]
) -> list[tuple[LayerShape, int]]:
    """(conv output shape, kernel size) of every conv, in order."""
    return [
        (shape, config.blocks[shape.block - 1].kernel_size)
        for shape in shapes
        if shape.is_conv
    ]


def _dense_sizes(config: ArchitectureConfig, shapes: list[LayerShape]) -> list[tuple[int, int]]:
    """(inputs, outputs) of every dense layer, the output layer included."""
    last = shapes[-1]
    n_inputs = last.n_features if config.head == "flatten" else last.channels
    sizes = []
    for layer in config.dense:
        sizes.append((n_inputs, layer.units))
        n_inputs = layer.units
    sizes.append((n_inputs, N_CLASSES))
    return sizes
