"""check_geometry, count_macs and model_complexity against hand computations and real Keras models."""

from __future__ import annotations

import pytest

from fer_core.errors import ConfigError, GeometryError
from fer_core.model import (
    ArchitectureConfig,
    LayerShape,
    build_model,
    check_geometry,
    count_macs,
    get_preset,
    model_complexity,
)


def arch(*blocks: dict, **options: object) -> ArchitectureConfig:
    return ArchitectureConfig.from_dict({"blocks": list(blocks), **options})


def test_seed_geometry_layer_by_layer() -> None:
    shapes = check_geometry(get_preset("seed"))
    assert [(s.block, s.layer, s.size, s.channels) for s in shapes] == [
        (1, "conv 1", 46, 64), (1, "conv 2", 44, 64), (1, "conv 3", 42, 64), (1, "max pooling", 21, 64),
        (2, "conv 1", 19, 128), (2, "conv 2", 17, 128), (2, "max pooling", 8, 128),
        (3, "conv 1", 6, 256), (3, "conv 2", 4, 256), (3, "max pooling", 2, 256),
    ]
    assert shapes[-1].n_features == 1024


def test_strides_apply_to_the_first_conv_only_and_same_padding_rounds_up() -> None:
    config = arch({"filters": 4, "n_convs": 2, "strides": 2, "padding": "same", "pooling": "avg", "pool_size": 3})
    assert check_geometry(config, input_size=47) == [
        LayerShape(1, "conv 1", 24, 4), LayerShape(1, "conv 2", 24, 4), LayerShape(1, "avg pooling", 8, 4),
    ]


def test_valid_padding_with_strides_floors() -> None:
    config = arch({"filters": 4, "n_convs": 1, "kernel_size": 5, "strides": 3, "padding": "valid", "pooling": "none"})
    assert check_geometry(config) == [LayerShape(1, "conv 1", 15, 4)]  # floor((48 - 5) / 3) + 1


def test_geometry_matches_keras_output_shapes() -> None:
    config = arch(
        {"filters": 4, "n_convs": 2, "kernel_size": 5, "strides": 2, "padding": "valid", "pool_size": 3},
        {"filters": 6, "n_convs": 1, "kernel_size": 3, "strides": 2, "padding": "same", "pooling": "avg"},
        batch_norm="none",
    )
    model = build_model(config)
    keras_sizes = [layer.output.shape[1] for layer in model.layers if "conv" in layer.name or "pool" in layer.name]
    assert keras_sizes == [shape.size for shape in check_geometry(config)]


def test_conv_shrinking_below_one_pixel_names_block_layer_and_sizes() -> None:
    config = arch(*[{"filters": 4, "n_convs": 2, "padding": "valid"}] * 3)
    assert check_geometry(config)[-1].size == 2  # 48 46 44 22 20 18 9 7 5 2
    # From 28: 26 24 12 | 10 8 4 | 2 -> the third block's second conv has nothing left.
    with pytest.raises(
        GeometryError,
        match=r"^block 3 conv 2 \(kernel 3, padding valid\) would shrink the 2x2 feature map to 0x0; "
        r"use padding 'same', fewer blocks or less pooling$",
    ):
        check_geometry(config, input_size=28)


def test_strided_conv_error_mentions_the_strides() -> None:
    config = arch({"filters": 4, "n_convs": 1, "kernel_size": 7, "strides": 2, "padding": "valid"})
    with pytest.raises(GeometryError, match=r"block 1 conv 1 \(kernel 7, strides 2, padding valid\) would shrink the 5x5"):
        check_geometry(config, input_size=5)


def test_pooling_shrinking_below_one_pixel_is_a_geometry_error() -> None:
    config = arch(*[{"filters": 4, "n_convs": 1}] * 6)  # 48 24 12 6 3 1 -> pooling 1x1 fails
    with pytest.raises(GeometryError, match=r"^block 6 max pooling \(pool_size 2\) would shrink the 1x1 feature map to 0x0"):
        check_geometry(config)
    assert isinstance(GeometryError("x"), ConfigError)


def test_input_size_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"input_size must be an integer >= 1 \(got 0\)"):
        check_geometry(get_preset("tiny"), input_size=0)


def test_count_macs_equals_a_hand_computation() -> None:
    config = arch(
        {"filters": 4, "n_convs": 2, "kernel_size": 3, "padding": "valid"},
        {"filters": 8, "n_convs": 1, "kernel_size": 5, "strides": 2, "padding": "same", "pooling": "none"},
        head="flatten",
        dense=[{"units": 10}],
    )
    # block 1: 46x46 conv (1->4), 44x44 conv (4->4), pool -> 22; block 2: ceil(22/2) = 11, 5x5 (4->8).
    expected = (
        46 * 46 * 3 * 3 * 1 * 4
        + 44 * 44 * 3 * 3 * 4 * 4
        + 11 * 11 * 5 * 5 * 4 * 8
        + (11 * 11 * 8) * 10
        + 10 * 7
    )
    assert count_macs(config) == expected
    assert count_macs(arch({"filters": 4, "n_convs": 1}, head="gap")) == 48 * 48 * 9 * 4 + 4 * 7


@pytest.mark.parametrize(
    "config",
    [
        get_preset("seed"),
        get_preset("tiny"),
        arch({"filters": 5, "kernel_size": 5, "strides": 2}, {"filters": 7, "pooling": "avg"}, batch_norm="conv", head="gap"),
        arch({"filters": 3, "n_convs": 1}, batch_norm="none", dense=[{"units": 9}, {"units": 4, "dropout": 0.2}]),
        arch({"filters": 6, "padding": "valid", "pooling": "none"}, {"filters": 2, "n_convs": 3}, batch_norm="block"),
    ],
    ids=["seed", "tiny", "bn-conv-gap", "bn-none-dense", "bn-block-nopool"],
)
def test_n_params_equals_keras_count_params(config: ArchitectureConfig) -> None:
    complexity = model_complexity(config)
    assert complexity.n_params == build_model(config).count_params()
    assert complexity.macs == count_macs(config)


def test_seed_has_exactly_the_original_parameter_count() -> None:
    assert build_model(get_preset("seed")).count_params() == 2_239_751
