"""ArchitectureConfig & co.: defaults, round-trips and every validation rule with its message."""

from __future__ import annotations

import copy

import pytest

from fer_core.errors import ConfigError
from fer_core.model import (
    ACTIVATIONS,
    PRESETS,
    ArchitectureConfig,
    ConvBlockConfig,
    DenseLayerConfig,
    get_preset,
)

MINIMAL = {"blocks": [{"filters": 8}]}


def test_defaults_follow_the_schema() -> None:
    config = ArchitectureConfig.from_dict(MINIMAL)
    assert config.blocks == (
        ConvBlockConfig(
            filters=8, n_convs=2, kernel_size=3, strides=1, padding="same", pooling="max",
            pool_size=2, dropout=0.0,
        ),
    )
    assert (config.activation, config.batch_norm, config.head, config.dense) == (
        "relu", "conv", "flatten", ()
    )


def test_to_dict_round_trips_and_spells_out_defaults() -> None:
    data = {
        "blocks": [
            {"filters": 16, "n_convs": 1, "kernel_size": 5, "strides": 2, "padding": "valid",
             "pooling": "avg", "pool_size": 3, "dropout": 0.25},
            {"filters": 32, "pooling": "none"},
        ],
        "activation": "gelu",
        "batch_norm": "block",
        "head": "gap",
        "dense": [{"units": 64, "dropout": 0.5}, {"units": 32}],
    }
    config = ArchitectureConfig.from_dict(data)
    as_dict = config.to_dict()
    assert as_dict["blocks"][1] == {
        "filters": 32, "n_convs": 2, "kernel_size": 3, "strides": 1, "padding": "same",
        "pooling": "none", "pool_size": 2, "dropout": 0.0,
        "conv_type": "standard", "residual": False, "se_ratio": 0.0,
    }
    assert as_dict["dense"][1] == {"units": 32, "dropout": 0.0}
    assert ArchitectureConfig.from_dict(as_dict) == config
    assert ArchitectureConfig.from_dict(copy.deepcopy(as_dict)).to_dict() == as_dict


def test_configs_are_frozen_and_hashable() -> None:
    config = ArchitectureConfig.from_dict(MINIMAL)
    with pytest.raises(AttributeError):
        config.head = "gap"  # type: ignore[misc]
    assert hash(config) == hash(ArchitectureConfig.from_dict(MINIMAL))


def test_integral_floats_are_normalised() -> None:
    block = ConvBlockConfig.from_dict({"filters": 8, "dropout": 0})
    assert isinstance(block.dropout, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"blocks": [{"filters": 8}, {"filters": 8, "padding": "full"}]},
            r"^architecture\.blocks\[1\]\.padding must be one of same, valid \(got 'full'\)$",
        ),
        ({"blocks": [{"filters": 0}]}, r"architecture\.blocks\[0\]\.filters must be an integer >= 1 \(got 0\)"),
        ({"blocks": [{"filters": 8.0}]}, r"blocks\[0\]\.filters must be an integer >= 1 \(got 8\.0\)"),
        ({"blocks": [{"filters": True}]}, r"blocks\[0\]\.filters must be an integer >= 1 \(got True\)"),
        ({"blocks": [{"filters": 8, "n_convs": 0}]}, r"blocks\[0\]\.n_convs must be an integer >= 1"),
        ({"blocks": [{"filters": 8, "kernel_size": 0}]}, r"blocks\[0\]\.kernel_size must be"),
        ({"blocks": [{"filters": 8, "strides": 0}]}, r"blocks\[0\]\.strides must be an integer >= 1"),
        ({"blocks": [{"filters": 8, "pool_size": 1}]}, r"blocks\[0\]\.pool_size must be an integer >= 2 \(got 1\)"),
        (
            {"blocks": [{"filters": 8, "pooling": "min"}]},
            r"blocks\[0\]\.pooling must be one of max, avg, none \(got 'min'\)",
        ),
        ({"blocks": [{"filters": 8, "dropout": 1.0}]}, r"blocks\[0\]\.dropout must be a number in \[0, 1\) \(got 1\.0\)"),
        ({"blocks": [{"filters": 8, "dropout": -0.1}]}, r"blocks\[0\]\.dropout must be a number in \[0, 1\)"),
        ({"blocks": [{"filters": 8, "dropout": "0.5"}]}, r"blocks\[0\]\.dropout must be a number in \[0, 1\) \(got '0\.5'\)"),
        ({"blocks": [{"n_convs": 2}]}, r"architecture\.blocks\[0\] lacks the required key\(s\): filters"),
        (
            {"blocks": [{"filters": 8, "filter": 8}]},
            r"Unknown key\(s\) in architecture\.blocks\[0\]: filter; allowed keys: conv_type, dropout, filters, ",
        ),
        ({"blocks": [{"filters": 8}], "optimizer": "adam"}, r"Unknown key\(s\) in architecture: optimizer"),
        ({}, r"architecture lacks the required key\(s\): blocks"),
        ({"blocks": []}, r"architecture\.blocks must be a list of at least 1 item\(s\) \(got \[\]\)"),
        ({"blocks": {"filters": 8}}, r"architecture\.blocks must be a list"),
        ({"blocks": [8]}, r"architecture\.blocks\[0\] must be a mapping \(got int: 8\)"),
        (
            {"blocks": [{"filters": 8}], "activation": "foo"},
            r"architecture\.activation: unknown activation 'foo'; choose one of: celu, elu, gelu, ",
        ),
        (
            {"blocks": [{"filters": 8}], "batch_norm": "layer"},
            r"architecture\.batch_norm must be one of none, block, conv \(got 'layer'\)",
        ),
        ({"blocks": [{"filters": 8}], "head": "gmp"}, r"architecture\.head must be one of flatten, gap \(got 'gmp'\)"),
        ({"blocks": [{"filters": 8}], "dense": [{"units": 0}]}, r"architecture\.dense\[0\]\.units must be an integer >= 1"),
        (
            {"blocks": [{"filters": 8}], "dense": [{"units": 8, "dropout": 0.5, "act": "relu"}]},
            r"Unknown key\(s\) in architecture\.dense\[0\]: act; allowed keys: dropout, units",
        ),
        ({"blocks": [{"filters": 8}], "dense": [{}]}, r"architecture\.dense\[0\] lacks the required key\(s\): units"),
        ({"blocks": [{"filters": 8}], "dense": None}, r"architecture\.dense must be a list of at least 0 item\(s\) \(got None\)"),
    ],
)
def test_from_dict_rejects_bad_input_naming_path_value_and_rule(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ArchitectureConfig.from_dict(data)


def test_not_a_mapping_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"architecture must be a mapping \(got list"):
        ArchitectureConfig.from_dict([{"filters": 8}])  # type: ignore[arg-type]


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ConfigError, match=r"^units must be an integer >= 1 \(got -3\)$"):
        DenseLayerConfig(units=-3)
    with pytest.raises(ConfigError, match=r"blocks\[0\] must be a ConvBlockConfig \(got dict\); use ArchitectureConfig\.from_dict"):
        ArchitectureConfig(blocks=({"filters": 8},))  # type: ignore[arg-type]


def test_activation_registry_has_the_schema_names() -> None:
    for name in ("relu", "elu", "selu", "gelu", "swish", "silu", "leaky_relu", "mish", "tanh"):
        assert name in ACTIVATIONS


def test_seed_preset_matches_the_schema() -> None:
    seed = get_preset("seed")
    assert [(block.n_convs, block.filters) for block in seed.blocks] == [(3, 64), (2, 128), (2, 256)]
    assert {(b.kernel_size, b.padding, b.pooling, b.dropout) for b in seed.blocks} == {(3, "valid", "max", 0.5)}
    assert (seed.activation, seed.batch_norm, seed.head) == ("relu", "block", "flatten")
    assert seed.dense == (DenseLayerConfig(units=1024, dropout=0.4),)


def test_unknown_preset_lists_the_choices() -> None:
    assert "seed" in PRESETS
    with pytest.raises(ConfigError, match=r"Unknown preset 'vgg99'; choose one of: seed, tiny"):
        get_preset("vgg99")
