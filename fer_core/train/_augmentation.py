"""`AugmentationConfig` and the Keras layer that applies it (active in training only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import keras

from fer_core.emotions import IMAGE_SIZE
from fer_core.train._checks import check_bool, check_float, check_int, reject_unknown_keys, require_mapping

_PATH = "augmentation"
_FILL_MODE = "reflect"
"""How rotation, shift and zoom fill the pixels they uncover (mirrored face borders, no black wedges)."""


@dataclass(frozen=True)
class AugmentationConfig:
    """Random training-time image transformations; every option defaults to off.

    Args:
        horizontal_flip: Mirror images left-right with probability 1/2.
        rotation: Maximum rotation in degrees, in [0, 45].
        shift: Maximum translation as a fraction of the image size, in [0, 0.5).
        zoom: Maximum zoom in or out as a fraction, in [0, 0.5).
        erasing: Probability of erasing (cutting out) a random patch, in [0, 1].
        crop_padding: Pixels of zero padding before a random 48x48 crop, in [0, 16].
    """

    horizontal_flip: bool = False
    rotation: float = 0.0
    shift: float = 0.0
    zoom: float = 0.0
    erasing: float = 0.0
    crop_padding: int = 0

    def __post_init__(self) -> None:
        checked = {
            "horizontal_flip": check_bool(self.horizontal_flip, f"{_PATH}.horizontal_flip"),
            "rotation": check_float(self.rotation, f"{_PATH}.rotation", low=0.0, high=45.0, high_open=False),
            "shift": check_float(self.shift, f"{_PATH}.shift", low=0.0, high=0.5),
            "zoom": check_float(self.zoom, f"{_PATH}.zoom", low=0.0, high=0.5),
            "erasing": check_float(self.erasing, f"{_PATH}.erasing", low=0.0, high=1.0, high_open=False),
            "crop_padding": check_int(self.crop_padding, f"{_PATH}.crop_padding", low=0, high=16),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AugmentationConfig:
        """Build from the `augmentation` mapping of a candidate; missing keys stay off."""
        data = require_mapping(data, _PATH)
        reject_unknown_keys(data, [field.name for field in fields(cls)], _PATH)
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with every option, accepted back by `from_dict`."""
        return asdict(self)

    @property
    def is_off(self) -> bool:
        """True when no transformation is enabled (the default)."""
        return self == AugmentationConfig()


def build_augmentation(config: AugmentationConfig, *, seed: int | None = None) -> keras.layers.Layer | None:
    """A `keras.Sequential` of preprocessing layers for ``config``, or None when all options are off.

    The layer expects float images scaled to [0, 1] (place it after the model's Rescaling) and
    returns the same shape. Keras preprocessing layers transform only when called with
    ``training=True`` (as `fit` does) and pass images through unchanged at inference.

    Args:
        config: Which transformations to apply.
        seed: Base seed of the random layers (layer i uses ``seed + i``); None draws from Keras' global seed.
    """
    makers = [maker for enabled, maker in _layer_makers(config) if enabled]
    if not makers:
        return None
    layers = [make(None if seed is None else seed + index) for index, make in enumerate(makers)]
    return keras.Sequential(layers, name="augmentation")


def _layer_makers(config: AugmentationConfig) -> list[tuple[bool, Callable[[int | None], keras.layers.Layer]]]:
    """(enabled, layer factory) per option, in the order they are applied."""
    return [
        (config.crop_padding > 0, lambda seed: _pad_and_crop(config.crop_padding, seed)),
        (config.horizontal_flip, lambda seed: keras.layers.RandomFlip("horizontal", seed=seed)),
        (
            config.rotation > 0,
            lambda seed: keras.layers.RandomRotation(config.rotation / 360.0, fill_mode=_FILL_MODE, seed=seed),
        ),
        (
            config.shift > 0,
            lambda seed: keras.layers.RandomTranslation(config.shift, config.shift, fill_mode=_FILL_MODE, seed=seed),
        ),
        (
            config.zoom > 0,
            lambda seed: keras.layers.RandomZoom((-config.zoom, config.zoom), fill_mode=_FILL_MODE, seed=seed),
        ),
        (
            config.erasing > 0,
            lambda seed: keras.layers.RandomErasing(
                factor=(config.erasing, config.erasing), value_range=(0.0, 1.0), seed=seed
            ),
        ),
    ]


def _pad_and_crop(padding: int, seed: int | None) -> keras.layers.Layer:
    """Zero-pad by ``padding`` pixels and crop a random 48x48 window, per image.

    Implemented as a pixel-snapped translation filled with zeros, which is the same transformation:
    Keras' ZeroPadding2D + RandomCrop would crop one window for the whole batch and, at inference,
    return the padded 56x56 image instead of the original.
    """
    fraction = padding / IMAGE_SIZE
    return keras.layers.RandomTranslation(
        fraction,
        fraction,
        fill_mode="constant",
        fill_value=0.0,
        interpolation="nearest",
        seed=seed,
        name="pad_and_crop",
    )
