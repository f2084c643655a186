"""build_model: every option builds a real Keras model that maps uint8 images to 7 probabilities."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np
import pytest

import fer_core.model
from fer_core.errors import ConfigError, GeometryError
from fer_core.model import (
    ACTIVATIONS,
    BATCH_NORMS,
    HEADS,
    PADDINGS,
    POOLINGS,
    ArchitectureConfig,
    build_model,
    get_preset,
)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(3, 48, 48, 1), dtype=np.uint8)


def small(**options: object) -> ArchitectureConfig:
    block = {"filters": 2, "n_convs": 1, **options.pop("block", {})}  # type: ignore[dict-item]
    return ArchitectureConfig.from_dict({"blocks": [block], **options})


def assert_predicts_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (len(images), 7)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-3)
    assert np.all(probabilities >= 0)
    return probabilities


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_builds_and_predicts(activation: str, images: np.ndarray) -> None:
    model = build_model(small(activation=activation, dense=[{"units": 3}]))
    assert_predicts_probabilities(model, images)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("padding", PADDINGS)
def test_every_pooling_and_padding_builds_and_predicts(pooling: str, padding: str, images: np.ndarray) -> None:
    model = build_model(small(block={"pooling": pooling, "padding": padding, "dropout": 0.3}))
    assert_predicts_probabilities(model, images)


@pytest.mark.parametrize("batch_norm", BATCH_NORMS)
@pytest.mark.parametrize("head", HEADS)
def test_every_batch_norm_and_head_builds_and_predicts(batch_norm: str, head: str, images: np.ndarray) -> None:
    model = build_model(small(batch_norm=batch_norm, head=head, block={"n_convs": 2}))
    assert_predicts_probabilities(model, images)
    layer_types = [type(layer).__name__ for layer in model.layers]
    n_batch_norms = {"none": 0, "block": 1, "conv": 2}[batch_norm]
    assert layer_types.count("BatchNormalization") == n_batch_norms
    assert ("GlobalAveragePooling2D" if head == "gap" else "Flatten") in layer_types


def test_layer_order_conv_bn_activation_and_block_bn_before_pooling() -> None:
    per_conv = build_model(small(batch_norm="conv", block={"n_convs": 1}))
    assert [layer.name for layer in per_conv.layers][:6] == [
        "image", "rescaling", "block1_conv1", "block1_bn1", "block1_act1", "block1_maxpool"
    ]
    assert per_conv.get_layer("block1_conv1").use_bias is False
    per_block = build_model(small(batch_norm="block", block={"n_convs": 2}))
    assert [layer.name for layer in per_block.layers][2:6] == [
        "block1_conv1", "block1_conv2", "block1_bn", "block1_maxpool"
    ]


def test_model_takes_uint8_and_rescales_to_unit_range(images: np.ndarray) -> None:
    model = build_model(get_preset("tiny"))
    assert model.inputs[0].dtype == "uint8"
    assert tuple(model.inputs[0].shape) == (None, 48, 48, 1)
    rescaled = keras.Model(model.inputs, model.get_layer("rescaling").output).predict(images, verbose=0)
    np.testing.assert_allclose(rescaled, images.astype(np.float32) / 255.0, rtol=1e-6)


def test_dtype_policy_reaches_every_layer_but_the_output_stays_float32(images: np.ndarray) -> None:
    model = build_model(get_preset("tiny"), dtype_policy="mixed_float16")
    policies = {layer.name: layer.dtype_policy.name for layer in model.layers[1:]}
    assert policies.pop("predictions") == "float32"
    assert set(policies.values()) == {"mixed_float16"}
    assert_predicts_probabilities(model, images)


def test_unknown_dtype_policy_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"dtype_policy must be one of float32, mixed_float16, .* \(got 'fp8'\)"):
        build_model(get_preset("tiny"), dtype_policy="fp8")


def test_augmentation_runs_only_in_training(images: np.ndarray) -> None:
    config = get_preset("tiny")
    plain = build_model(config)
    augmented = build_model(config, augmentation=keras.layers.GaussianNoise(0.5, name="augment"))
    augmented.set_weights(plain.get_weights())
    assert [layer.name for layer in augmented.layers][1:3] == ["rescaling", "augment"]
    np.testing.assert_allclose(augmented.predict(images, verbose=0), plain.predict(images, verbose=0), rtol=1e-6)
    training_output = keras.ops.convert_to_numpy(augmented(images, training=True))
    assert not np.allclose(training_output, plain.predict(images, verbose=0))


def test_geometry_is_checked_before_building() -> None:
    config = ArchitectureConfig.from_dict({"blocks": [{"filters": 4, "n_convs": 1}] * 6})
    with pytest.raises(GeometryError, match=r"block 6 max pooling"):
        build_model(config)


def test_plain_dict_is_rejected_with_a_hint() -> None:
    with pytest.raises(ConfigError, match=r"config must be an ArchitectureConfig \(got dict\); build one with"):
        build_model({"blocks": [{"filters": 4}]})  # type: ignore[arg-type]


def test_model_name_is_used() -> None:
    assert build_model(get_preset("tiny"), name="candidate_7").name == "candidate_7"


def test_model_code_is_backend_agnostic() -> None:
    package = Path(fer_core.model.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text()
        assert not re.search(r"^\s*(import|from)\s+tensorflow", text, re.MULTILINE), source.name
        assert not re.search(r"\btf\.", text), source.name
