"""Test-time augmentation inside a Keras model, so a served or loaded model predicts as it was scored.

``predict_proba(model, images, tta=mode)`` makes the views in numpy. ``with_tta(model, mode)`` builds the
same views in the graph: a Keras model that takes the same uint8 faces and returns the mean of ``model``'s
probabilities over them. It holds only built-in layers (``Rescaling``, ``Permute``, frozen ``Dense``,
``Average``), so it saves, logs to MLflow and loads back in Keras safe mode like any other model.

Every view (mirror, corner or centre crop placed back at 48 x 48 by edge padding) moves pixels along the
height and the width independently: along each axis it is a 48 x 48 0/1 matrix (output pixel i takes input
pixel src(i)), applied as a bias-free frozen ``Dense`` over that axis. A product with one 1 per column
copies a pixel exactly, so the views are the numpy views, value for value.
"""

from __future__ import annotations

import keras
import numpy as np

from fer_core.emotions import IMAGE_SHAPE, IMAGE_SIZE
from fer_core.evaluate._tta import DEFAULT_CROP, check_tta, crop_offsets, edge_padding

_HEIGHT, _WIDTH = 1, 2
# Permutations that bring an axis of (batch, height, width, 1) last and back (each its own inverse).
_AXIS_LAST = {_HEIGHT: (3, 2, 1), _WIDTH: (1, 3, 2)}


def with_tta(model: keras.Model, mode: str, crop: int = DEFAULT_CROP) -> keras.Model:
    """A model whose output is ``model``'s probabilities averaged over the ``mode`` views of each face.

    ``mode`` none returns ``model`` itself. ``model`` is shared, not copied. For any uint8 batch,
    ``with_tta(model, mode).predict(x)`` equals ``predict_proba(model, x, tta=mode)`` up to float rounding.

    Raises:
        ConfigError: Unknown ``mode`` or a ``crop`` that does not fit (see ``check_tta``).
    """
    check_tta(mode, crop)
    if mode == "none":
        return model
    image = keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name="image")
    pixels = keras.layers.Rescaling(1.0, name="tta_pixels")(image)  # float copies of the 0..255 values
    if mode == "flip":
        views = [image, _moved(pixels, None, _selection(0, IMAGE_SIZE, mirrored=True), "mirror")]
    else:
        offsets = crop_offsets(crop)
        views = [_moved(pixels, _selection(top, crop), _selection(left, crop, mirrored=mirrored),
                        f"crop{index}{'_mirror' if mirrored else ''}")
                 for mirrored in (False, True) for index, (top, left) in enumerate(offsets)]
    averaged = keras.layers.Average(name="tta_mean")([model(view) for view in views])
    return keras.Model(inputs=image, outputs=averaged, name=f"{model.name}_tta_{mode}")


def _selection(start: int, crop: int, *, mirrored: bool = False) -> np.ndarray:
    """The 0/1 matrix M (input pixel x output pixel) of one axis: crop at ``start``, edge-pad, maybe mirror."""
    before = edge_padding(crop)[0]
    matrix = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for output in range(IMAGE_SIZE):
        position = IMAGE_SIZE - 1 - output if mirrored else output
        matrix[start + min(max(position - before, 0), crop - 1), output] = 1.0
    return matrix


def _moved(pixels: keras.KerasTensor, height: np.ndarray | None, width: np.ndarray, name: str) -> keras.KerasTensor:
    """``pixels`` with ``height`` applied along the height (None: unchanged) and ``width`` along the width."""
    moved = pixels if height is None else _along(pixels, height, _HEIGHT, f"{name}_height")
    return _along(moved, width, _WIDTH, f"{name}_width")


def _along(pixels: keras.KerasTensor, matrix: np.ndarray, axis: int, name: str) -> keras.KerasTensor:
    permutation = _AXIS_LAST[axis]
    last = keras.layers.Permute(permutation, name=f"{name}_in")(pixels)
    dense = keras.layers.Dense(IMAGE_SIZE, use_bias=False, trainable=False, name=name)
    moved = dense(last)
    dense.set_weights([matrix])
    return keras.layers.Permute(permutation, name=f"{name}_out")(moved)
