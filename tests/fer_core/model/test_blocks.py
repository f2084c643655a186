"""Residual, depthwise-separable and squeeze-and-excitation blocks: build, train, count, save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fer_core.errors import ConfigError
from fer_core.model import (
    ArchitectureConfig,
    ConvBlockConfig,
    build_model,
    count_macs,
    count_params,
    load_model,
    save_model,
)

SEPARABLE_SE_PROJECTION: dict[str, Any] = {
    "blocks": [{"filters": 4, "n_convs": 1, "conv_type": "separable", "residual": True, "se_ratio": 0.5}],
    "batch_norm": "conv",
    "head": "gap",
}
IDENTITY_RESIDUAL: dict[str, Any] = {
    "blocks": [
        {"filters": 4, "n_convs": 1},
        {"filters": 4, "n_convs": 2, "residual": True, "pooling": "none"},
    ],
    "batch_norm": "none",
    "head": "flatten",
}
EVERY_BLOCK_KIND: dict[str, Any] = {
    "blocks": [
        {"filters": 6, "n_convs": 1},
        {"filters": 8, "conv_type": "separable", "residual": True, "se_ratio": 0.25},
        {"filters": 8, "conv_type": "separable", "residual": True, "strides": 2, "pooling": "none"},
        {"filters": 8, "residual": True, "se_ratio": 1.0, "n_convs": 1},
    ],
    "head": "gap",
}


@pytest.fixture(scope="module")
def faces() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(8, 48, 48, 1), dtype=np.uint8), np.arange(8) % 7


def test_hand_counted_separable_block_with_se_and_projection() -> None:
    # separable 3x3: depthwise 9*1 + pointwise 1*4, no bias (BN per conv: 4*4); SE with round(4*0.5)=2
    # units: (4*2+2) + (2*4+4); projection 1x1: 1*4 + BN 4*4; head GAP -> Dense(7): 4*7+7.
    config = ArchitectureConfig.from_dict(SEPARABLE_SE_PROJECTION)
    assert count_params(config) == (9 + 4 + 16) + (10 + 12) + (4 + 16) + 35
    # 48*48 positions * (9 + 4) separable, 2*4*2 SE, 48*48 * 1*4 projection, 4*7 output layer.
    assert count_macs(config) == 2304 * 13 + 16 + 2304 * 4 + 28
    assert build_model(config).count_params() == count_params(config)


def test_hand_counted_identity_residual_adds_no_weights() -> None:
    config = ArchitectureConfig.from_dict(IDENTITY_RESIDUAL)
    model = build_model(config)
    assert "block2_add" in [layer.name for layer in model.layers]
    assert not any("projection" in layer.name for layer in model.layers)
    # block1 3x3x1x4+4, block2 two 3x3x4x4+4, Flatten 24*24*4 -> Dense(7).
    assert count_params(config) == 40 + 2 * 148 + 2304 * 7 + 7 == model.count_params()
    assert count_macs(config) == 2304 * 36 + 2 * 576 * 144 + 2304 * 7


@pytest.mark.parametrize("batch_norm", ["conv", "block", "none"])
@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_counts_match_keras_for_every_block_kind(batch_norm: str, head: str) -> None:
    config = ArchitectureConfig.from_dict({**EVERY_BLOCK_KIND, "batch_norm": batch_norm, "head": head})
    assert build_model(config).count_params() == count_params(config)


def test_every_block_kind_trains_one_step_and_round_trips_in_safe_mode(
    faces: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    images, labels = faces
    model = build_model(ArchitectureConfig.from_dict(EVERY_BLOCK_KIND))
    layer_types = {type(layer).__name__ for layer in model.layers}
    assert {"SeparableConv2D", "Add", "Multiply", "GlobalAveragePooling2D"} <= layer_types
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [weight.copy() for weight in model.get_weights()]
    loss = model.train_on_batch(images, labels)
    assert np.isfinite(loss)
    assert any(not np.array_equal(old, new) for old, new in zip(before, model.get_weights(), strict=True))
    loaded = load_model(save_model(model, tmp_path / "blocks.keras"))  # load_model uses safe_mode=True
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


def test_defaults_keep_todays_plain_block() -> None:
    block = ConvBlockConfig.from_dict({"filters": 8})
    assert (block.conv_type, block.residual, block.se_ratio, block.squeeze_units) == ("standard", False, 0.0, 0)
    model = build_model(ArchitectureConfig(blocks=(block,)))
    assert not {"Add", "Multiply", "SeparableConv2D"} & {type(layer).__name__ for layer in model.layers}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"se_ratio": 1.5}, "blocks[0].se_ratio must be a number in [0, 1] (got 1.5)"),
        ({"se_ratio": -0.1}, "blocks[0].se_ratio must be a number in [0, 1]"),
        ({"conv_type": "depthwise"}, "blocks[0].conv_type must be one of standard, separable"),
        ({"residual": 1}, "blocks[0].residual must be true or false (got 1)"),
        ({"conv_type": "separable", "kernel_size": 1}, "kernel_size must be >= 2 for a separable conv"),
        ({"residual": True, "padding": "valid"}, "padding must be same for a residual block"),
    ],
)
def test_bad_block_values_are_rejected_with_the_rule(block: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        ArchitectureConfig.from_dict({"blocks": [{"filters": 8, **block}]})
    assert message in str(error.value)


def test_squeeze_units_round_and_never_reach_zero() -> None:
    assert ConvBlockConfig(filters=8, se_ratio=0.25).squeeze_units == 2
    assert ConvBlockConfig(filters=3, se_ratio=0.01).squeeze_units == 1


