"""Analytic model size: parameter count and multiply-accumulates (MACs) per image.

Lets a search prune or budget a candidate before building it. ``n_params`` equals Keras'
``model.count_params()`` (BatchNormalization's moving mean and variance included).
"""

from __future__ import annotations

from dataclasses import dataclass

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.model._config import ArchitectureConfig, ConvBlockConfig
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
    """Multiply-accumulates per 48x48 image of every conv and dense layer (output layer included).

    Squeeze-and-excitation counts its two dense layers; pooling, additions and the SE gating are
    not counted (they are not multiply-accumulates of weights).
    """
    macs = 0
    for block, block_input, conv_outputs in _blocks(config):
        in_channels = block_input.channels
        for shape in conv_outputs:
            macs += shape.size * shape.size * _conv_weights(block, in_channels, shape.channels)
            in_channels = shape.channels
        macs += 2 * block.filters * block.squeeze_units
        if _has_projection(block, block_input.channels):
            macs += conv_outputs[-1].size ** 2 * block_input.channels * block.filters
    for n_inputs, n_outputs in _dense_sizes(config, check_geometry(config)):
        macs += n_inputs * n_outputs
    return macs


def count_params(config: ArchitectureConfig) -> int:
    """Number of weights (trainable or not) of ``build_model(config)``."""
    n_params = 0
    for block, block_input, conv_outputs in _blocks(config):
        in_channels = block_input.channels
        for shape in conv_outputs:
            n_params += _conv_weights(block, in_channels, shape.channels) + _conv_extras(config, shape.channels)
            in_channels = shape.channels
        if config.batch_norm == "block":
            n_params += _BATCH_NORM_WEIGHTS_PER_CHANNEL * block.filters
        if block.squeeze_units:
            n_params += 2 * block.filters * block.squeeze_units + block.squeeze_units + block.filters
        if _has_projection(block, block_input.channels):
            n_params += block_input.channels * block.filters + _conv_extras(config, block.filters)
    for n_inputs, n_outputs in _dense_sizes(config, check_geometry(config)):
        n_params += n_inputs * n_outputs + n_outputs
    return n_params


def _conv_weights(block: ConvBlockConfig, in_channels: int, out_channels: int) -> int:
    """Kernel weights of one conv of ``block`` (a separable conv: depthwise plus pointwise)."""
    area = block.kernel_size * block.kernel_size
    if block.conv_type == "separable":
        return area * in_channels + in_channels * out_channels
    return area * in_channels * out_channels


def _conv_extras(config: ArchitectureConfig, channels: int) -> int:
    """Bias, or per-conv batch-norm weights (which replace the bias), of a conv's output channels."""
    if config.batch_norm == "conv":
        return _BATCH_NORM_WEIGHTS_PER_CHANNEL * channels
    return channels


def _has_projection(block: ConvBlockConfig, in_channels: int) -> bool:
    """True when the residual shortcut needs a 1x1 conv (channels or size change)."""
    return block.residual and (in_channels != block.filters or block.strides != 1)


def _blocks(config: ArchitectureConfig) -> list[tuple[ConvBlockConfig, LayerShape, list[LayerShape]]]:
    """Per block: its config, its input shape (as a pseudo layer) and its convs' output shapes."""
    shapes = check_geometry(config)
    result = []
    block_input = LayerShape(0, "input", IMAGE_SHAPE[0], IMAGE_SHAPE[-1])
    for number, block in enumerate(config.blocks, start=1):
        own = [shape for shape in shapes if shape.block == number]
        result.append((block, block_input, [shape for shape in own if shape.is_conv]))
        block_input = own[-1]
    return result


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
