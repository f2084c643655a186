"""Turn a face box into the model's input: a square 48x48 grey crop with a margin around the face."""

from __future__ import annotations

import cv2
import numpy as np

from fer_core.emotions import IMAGE_SIZE
from fer_core.errors import ConfigError
from fer_core.predict._box import Box

DEFAULT_MARGIN = 0.1
"""Extra border on each side, as a fraction of the face box: Haar boxes are tighter than FER crops."""


def check_margin(margin: float) -> float:
    """``margin`` as a float in [0, 1], or a ConfigError stating the rule."""
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0.0 <= margin <= 1.0:
        raise ConfigError(f"margin must be a number in [0, 1] (a fraction of the face box; got {margin!r})")
    return float(margin)


def crop_face(grey: np.ndarray, box: Box, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """The face in ``box`` as a (48, 48) uint8 crop.

    The box is grown by ``margin`` on each side and made square around its centre (faces keep their
    proportions); parts outside the picture repeat its edge pixels instead of adding black bars.
    """
    margin = check_margin(margin)
    side = round(max(box.width, box.height) * (1.0 + 2.0 * margin))
    left = round(box.x + box.width / 2 - side / 2)
    top = round(box.y + box.height / 2 - side / 2)
    height, width = grey.shape[:2]
    inside = grey[max(0, top) : min(height, top + side), max(0, left) : min(width, left + side)]
    square = cv2.copyMakeBorder(
        inside,
        max(0, -top), max(0, top + side - height), max(0, -left), max(0, left + side - width),
        borderType=cv2.BORDER_REPLICATE,
    )
    return resize_to_input(square)


def resize_to_input(grey: np.ndarray) -> np.ndarray:
    """``grey`` resized to 48x48 (area averaging when shrinking, bicubic when enlarging)."""
    if grey.shape[:2] == (IMAGE_SIZE, IMAGE_SIZE):
        return np.ascontiguousarray(grey)
    shrinking = grey.shape[0] * grey.shape[1] > IMAGE_SIZE * IMAGE_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(grey, (IMAGE_SIZE, IMAGE_SIZE), interpolation=interpolation)
