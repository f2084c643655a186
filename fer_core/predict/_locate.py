"""Decide which parts of a photo are classified: detected faces, a FER-style crop, or the whole picture."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np

from fer_core.emotions import IMAGE_SIZE
from fer_core.predict._box import Box
from fer_core.predict._crop import crop_face, resize_to_input
from fer_core.predict._photo import Photo


class FaceSource(str, Enum):
    """Why a region of a photo was classified."""

    DETECTED = "detected"
    """The face detector found a face there."""
    FACE_CROP = "face-crop"
    """The picture is already a 48x48 FER-style face crop; classified whole, no detection."""
    NO_FACE = "no-face"
    """The detector found no face, so the whole picture was classified."""
    WHOLE = "whole"
    """Detection was switched off; the whole picture was classified."""


class FaceDetector(Protocol):
    """Anything that finds face boxes in a grey uint8 picture (see ``HaarFaceDetector``)."""

    def detect(self, grey: np.ndarray) -> tuple[Box, ...]: ...


@dataclass(frozen=True, eq=False)
class FaceRegions:
    """The regions of one photo to classify and their 48x48 crops.

    Args:
        boxes: One box per region, in picture coordinates.
        source: Why these regions (same for all of a photo's regions).
        crops: uint8 array (len(boxes), 48, 48, 1), the model's input.
    """

    boxes: tuple[Box, ...]
    source: FaceSource
    crops: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)


def locate_faces(photo: Photo, detector: FaceDetector | None, *, margin: float) -> FaceRegions:
    """The regions of ``photo`` to classify.

    A 48x48 picture is a face crop and classified whole; otherwise the detector's faces, each cropped
    square with ``margin``; with no face found (or ``detector`` None) the whole picture, resized to
    48x48 the way the image-folder loader resizes training images.
    """
    whole = Box(0, 0, photo.width, photo.height)
    if photo.grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return _regions((whole,), FaceSource.FACE_CROP, [photo.grey])
    if detector is None:
        return _regions((whole,), FaceSource.WHOLE, [resize_to_input(photo.grey)])
    boxes = detector.detect(photo.grey)
    if not boxes:
        return _regions((whole,), FaceSource.NO_FACE, [resize_to_input(photo.grey)])
    return _regions(boxes, FaceSource.DETECTED, [crop_face(photo.grey, box, margin) for box in boxes])


def _regions(boxes: tuple[Box, ...], source: FaceSource, crops: list[np.ndarray]) -> FaceRegions:
    return FaceRegions(boxes=boxes, source=source, crops=np.stack(crops)[..., np.newaxis])
