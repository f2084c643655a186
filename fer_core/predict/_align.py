"""Align a face on its eyes the way FER2013 faces sit in their 48x48 crops: eyes level, same size and place.

FER2013's faces were registered automatically so that the eyes are roughly level and the face fills most of
the frame. ``FER2013_GEOMETRY`` was measured on that data: MTCNN run on 400 random training faces (upscaled
4x, edges repeated around them) found both eyes in 330; the medians put the midpoint between the eyes at
(24.0, 18.6) of 48x48 and the eyes 17.5 pixels apart (interquartile range 16.1-19.0), and their line is
level to within 4.7 degrees for half the faces (``bench/detection.py --fer-geometry`` repeats it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fer_core.emotions import IMAGE_SIZE
from fer_core.errors import ConfigError
from fer_core.predict._box import Eyes
from fer_core.predict._crop import resize_to_input

_SUPERSAMPLE = 4
"""The face is rotated at 4x the model's size (192x192), then area-averaged down to 48x48."""


@dataclass(frozen=True)
class FaceGeometry:
    """Where the eyes go in an aligned crop, as fractions of its side.

    Args:
        eye_x: Midpoint between the eyes, from the left edge.
        eye_y: Midpoint between the eyes, from the top edge.
        eye_distance: Distance between the eye centres.
    """

    eye_x: float
    eye_y: float
    eye_distance: float

    def __post_init__(self) -> None:
        for name in ("eye_x", "eye_y", "eye_distance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
                raise ConfigError(f"FaceGeometry.{name} must be a fraction of the crop in (0, 1) (got {value!r})")


FER2013_GEOMETRY = FaceGeometry(eye_x=0.5, eye_y=18.6 / IMAGE_SIZE, eye_distance=17.5 / IMAGE_SIZE)
"""Medians measured on FER2013 training faces (see the module docstring): eyes at 38.7 % of the height,
36.5 % of the width apart, centred."""


def alignment_matrix(eyes: Eyes, size: int = IMAGE_SIZE, geometry: FaceGeometry = FER2013_GEOMETRY) -> np.ndarray:
    """The 2x3 affine matrix taking picture coordinates into a ``size`` x ``size`` aligned crop.

    It rotates about the midpoint between the eyes so that they are level, scales them to
    ``geometry.eye_distance`` apart and moves the midpoint to (``eye_x``, ``eye_y``).
    """
    centre = ((eyes.left[0] + eyes.right[0]) / 2.0, (eyes.left[1] + eyes.right[1]) / 2.0)
    scale = geometry.eye_distance * size / eyes.distance
    # OpenCV's positive angle turns the picture anticlockwise on screen, undoing eyes turned clockwise.
    matrix = cv2.getRotationMatrix2D(centre, eyes.angle, scale)
    matrix[0, 2] += geometry.eye_x * size - centre[0]
    matrix[1, 2] += geometry.eye_y * size - centre[1]
    return matrix


def align_face(grey: np.ndarray, eyes: Eyes, geometry: FaceGeometry = FER2013_GEOMETRY) -> np.ndarray:
    """The face whose eyes are ``eyes`` as a (48, 48) uint8 crop laid out like FER2013's.

    Only the region the crop covers is cut out (parts outside the picture repeat its edge pixels, as in
    ``crop_face``) and brought to about 192x192 with area averaging or bicubic enlarging, then rotated and
    area-averaged to 48x48, so neither large nor small faces alias.
    """
    size = IMAGE_SIZE * _SUPERSAMPLE
    matrix = alignment_matrix(eyes, size, geometry)
    left, top, right, bottom = _source_bounds(matrix, size)
    region = _padded_region(grey, left, top, right, bottom)
    scale = geometry.eye_distance * size / eyes.distance
    new_width, new_height = max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    resized = cv2.resize(region, (new_width, new_height), interpolation=interpolation)
    # Picture point p is region point p - (left, top), then resized point (p - (left, top)) * (sx, sy).
    sx, sy = new_width / region.shape[1], new_height / region.shape[0]
    local = matrix.copy()
    local[:, 2] = matrix[:, :2] @ np.array([left, top], dtype=np.float64) + matrix[:, 2]
    local[:, 0] /= sx
    local[:, 1] /= sy
    aligned = cv2.warpAffine(resized, local, (size, size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    return resize_to_input(aligned)


def _source_bounds(matrix: np.ndarray, size: int) -> tuple[int, int, int, int]:
    """The picture rectangle (left, top, right, bottom) that the aligned crop's square comes from."""
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    points = corners @ inverse.T
    left, top = (math.floor(value) - 2 for value in points.min(axis=0))
    right, bottom = (math.ceil(value) + 2 for value in points.max(axis=0))
    return left, top, right, bottom


def _padded_region(grey: np.ndarray, left: int, top: int, right: int, bottom: int) -> np.ndarray:
    """``grey[top:bottom, left:right]``, its parts outside the picture filled by repeating the edge pixels
    (a rectangle wholly outside repeats the nearest edge row or column)."""
    (row, pad_top, pad_bottom), (column, pad_left, pad_right) = (
        _span(top, bottom, grey.shape[0]), _span(left, right, grey.shape[1]))
    return cv2.copyMakeBorder(np.ascontiguousarray(grey[row, column]), pad_top, pad_bottom, pad_left, pad_right,
                              borderType=cv2.BORDER_REPLICATE)


def _span(start: int, stop: int, length: int) -> tuple[slice, int, int]:
    """The part of [start, stop) inside [0, length) (at least its nearest pixel) and the padding either side."""
    first = min(max(start, 0), length - 1)
    last = min(max(stop, first + 1), length)
    before = min(max(first - start, 0), stop - start - (last - first))
    return slice(first, last), before, stop - start - (last - first) - before
