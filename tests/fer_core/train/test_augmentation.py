"""build_augmentation: Keras layers that change images in training and leave them alone at inference."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_core.train import AugmentationConfig, build_augmentation

ALL_ON = AugmentationConfig(horizontal_flip=True, rotation=15, shift=0.1, zoom=0.1, erasing=0.5, crop_padding=4)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """Random (so asymmetric) float images in [0, 1], as the layer receives them after Rescaling."""
    return np.random.default_rng(0).random((16, 48, 48, 1), dtype=np.float32)


def _shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` moved by (dy, dx) pixels with zeros filled in: a crop of the zero-padded image."""
    size = image.shape[0]
    out = np.zeros_like(image)
    source = image[max(0, -dy) : size - max(0, dy), max(0, -dx) : size - max(0, dx)]
    out[max(0, dy) : max(0, dy) + source.shape[0], max(0, dx) : max(0, dx) + source.shape[1]] = source
    return out


def test_all_options_off_gives_no_layer() -> None:
    assert build_augmentation(AugmentationConfig()) is None


@pytest.mark.parametrize(
    "options",
    [
        {"horizontal_flip": True},
        {"rotation": 10},
        {"shift": 0.1},
        {"zoom": 0.2},
        {"erasing": 1.0},
        {"crop_padding": 4},
        ALL_ON.to_dict(),
    ],
    ids=["flip", "rotation", "shift", "zoom", "erasing", "crop", "all"],
)
def test_layer_changes_images_in_training_only(images: np.ndarray, options: dict) -> None:
    layer = build_augmentation(AugmentationConfig(**options), seed=1)
    assert isinstance(layer, keras.layers.Layer)

    inference = keras.ops.convert_to_numpy(layer(images, training=False))
    training = keras.ops.convert_to_numpy(layer(images, training=True))

    np.testing.assert_array_equal(inference, images)
    assert training.shape == images.shape
    n_changed = int((training != images).reshape(len(images), -1).any(axis=1).sum())
    assert n_changed >= len(images) // 4
    assert training.min() >= 0.0 and training.max() <= 1.0


def test_crop_padding_is_a_random_crop_of_the_zero_padded_image(images: np.ndarray) -> None:
    padding = 3
    layer = build_augmentation(AugmentationConfig(crop_padding=padding), seed=2)
    cropped = keras.ops.convert_to_numpy(layer(images, training=True))

    offsets = range(-padding, padding + 1)
    for original, result in zip(images, cropped):
        assert any(np.array_equal(_shifted(original, dy, dx), result) for dy in offsets for dx in offsets)


def test_layer_works_inside_a_uint8_model(images: np.ndarray) -> None:
    inputs = keras.Input((48, 48, 1), dtype="uint8")
    scaled = keras.layers.Rescaling(1 / 255)(inputs)
    augmented = build_augmentation(ALL_ON, seed=3)(scaled)
    model = keras.Model(inputs, augmented)
    raw = (images * 255).astype(np.uint8)

    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(raw, training=False)), raw / 255, atol=1e-6)
