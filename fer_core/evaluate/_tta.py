"""Test-time augmentation: the views of each image a model is asked about, their probabilities averaged.

``flip``: the image and its mirror. ``ten_crop``: the four corner crops and the centre crop of side
``crop`` (44 of 48 px by default), and their mirrors. A crop is placed back at 48 x 48 by edge padding, not
by resizing: the network sees the face at its training scale, shifted by up to (48 - crop) / 2 px, which
is what shift augmentation showed it during training.
"""

from __future__ import annotations

import numpy as np

from fer_core.emotions import IMAGE_SIZE
from fer_core.errors import ConfigError

TTA_MODES = ("none", "flip", "ten_crop")
"""Accepted ``tta`` values."""

DEFAULT_CROP = 44


def check_tta(mode: str, crop: int = DEFAULT_CROP) -> None:
    """Fails with the rule and the choices for an unknown mode or a crop that does not fit."""
    if mode not in TTA_MODES:
        raise ConfigError(f"Unknown tta {mode!r}; choose one of: {', '.join(TTA_MODES)}")
    if isinstance(crop, bool) or not isinstance(crop, int) or not IMAGE_SIZE // 2 <= crop < IMAGE_SIZE:
        raise ConfigError(f"tta crop must be an integer in [{IMAGE_SIZE // 2}, {IMAGE_SIZE - 1}] (got {crop!r})")


def n_views(mode: str) -> int:
    """How many views ``mode`` makes of each image."""
    return {"none": 1, "flip": 2, "ten_crop": 10}[mode]


def tta_views(batch: np.ndarray, mode: str, crop: int = DEFAULT_CROP) -> list[np.ndarray]:
    """The views of a uint8 batch (N, 48, 48, 1): a list of arrays of the same shape and dtype."""
    check_tta(mode, crop)
    if mode == "none":
        return [batch]
    if mode == "flip":
        return [batch, batch[:, :, ::-1]]
    crops = [_crop_back(batch, top, left, crop) for top, left in crop_offsets(crop)]
    return crops + [view[:, :, ::-1] for view in crops]


def crop_offsets(crop: int) -> list[tuple[int, int]]:
    """(top, left) of the ten-crop windows: the four corners, then the centre."""
    far = IMAGE_SIZE - crop
    return [(0, 0), (0, far), (far, 0), (far, far), (far // 2, far // 2)]


def edge_padding(crop: int) -> tuple[int, int]:
    """Pixels repeated before and after a ``crop``-wide window to fill 48 again (the window centred)."""
    before = (IMAGE_SIZE - crop) // 2
    return before, IMAGE_SIZE - crop - before


def _crop_back(batch: np.ndarray, top: int, left: int, crop: int) -> np.ndarray:
    """The crop at (top, left), centred in a 48 x 48 frame filled by repeating its edge pixels."""
    padding = edge_padding(crop)
    window = batch[:, top : top + crop, left : left + crop]
    return np.pad(window, ((0, 0), padding, padding, (0, 0)), mode="edge")
