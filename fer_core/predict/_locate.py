"""Decide which parts of a photo are classified: detected faces (aligned on their eyes when the detector finds
them), a FER-style crop, or the whole picture."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

import numpy as np

from fer_core.emotions import IMAGE_SIZE
from fer_core.predict._align import align_face
from fer_core.predict._box import Box, DetectedFace
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


@runtime_checkable
class LandmarkFaceDetector(FaceDetector, Protocol):
    """A detector that also names itself and may find each face's eyes (``MtcnnFaceDetector``,
    ``HaarFaceDetector`` with no eyes); ``locate_faces`` aligns the faces whose eyes are known.

    ``uses_colour``: ``detect_faces`` searches the colour picture when given one (photos are then decoded
    in colour for it).
    """

    name: str
    uses_colour: bool

    def detect_faces(self, grey: np.ndarray, rgb: np.ndarray | None = None) -> tuple[DetectedFace, ...]: ...


@dataclass(frozen=True, eq=False)
class FaceRegions:
    """The regions of one photo to classify and their 48x48 crops.

    Args:
        boxes: One box per region, in picture coordinates.
        source: Why these regions (same for all of a photo's regions).
        crops: uint8 array (len(boxes), 48, 48, 1), the model's input.
        detector: Name of the detector that found the faces ("mtcnn", "haar"), or None.
        aligned: Per region, whether its crop was aligned on the eyes (else cropped square around the box).
    """

    boxes: tuple[Box, ...]
    source: FaceSource
    crops: np.ndarray
    detector: str | None = None
    aligned: tuple[bool, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.aligned:
            object.__setattr__(self, "aligned", (False,) * len(self.boxes))

    def __len__(self) -> int:
        return len(self.boxes)


def locate_faces(photo: Photo, detector: FaceDetector | None, *, margin: float, align: bool = True) -> FaceRegions:
    """The regions of ``photo`` to classify.

    A 48x48 picture is a face crop and classified whole; otherwise the detector's faces: aligned on their
    eyes like FER2013 faces when the detector finds eyes and ``align`` is on (``align_face``), else cropped
    square with ``margin``; with no face found (or ``detector`` None) the whole picture, resized to 48x48
    the way the image-folder loader resizes training images.
    """
    whole = Box(0, 0, photo.width, photo.height)
    if photo.grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return _regions((whole,), FaceSource.FACE_CROP, [photo.grey])
    if detector is None:
        return _regions((whole,), FaceSource.WHOLE, [resize_to_input(photo.grey)])
    name = detector.name if isinstance(detector, LandmarkFaceDetector) else None
    faces = detect_faces(detector, photo.grey, photo.rgb)
    if not faces:
        return _regions((whole,), FaceSource.NO_FACE, [resize_to_input(photo.grey)], detector=name)
    aligned = tuple(align and face.eyes is not None for face in faces)
    crops = [align_face(photo.grey, face.eyes) if face.eyes is not None and use else
             crop_face(photo.grey, face.box, margin) for face, use in zip(faces, aligned)]
    return _regions(tuple(face.box for face in faces), FaceSource.DETECTED, crops, detector=name, aligned=aligned)


def detect_faces(detector: FaceDetector, grey: np.ndarray, rgb: np.ndarray | None = None) -> tuple[DetectedFace, ...]:
    """The detector's faces with their eyes when it finds landmarks; a plain ``detect`` gives boxes only.

    ``rgb`` (the same picture in colour, or None) goes to detectors that use colour.
    """
    if isinstance(detector, LandmarkFaceDetector):
        return detector.detect_faces(grey, rgb if detector.uses_colour else None)
    return tuple(DetectedFace(box) for box in detector.detect(grey))


def _regions(boxes: tuple[Box, ...], source: FaceSource, crops: list[np.ndarray], *, detector: str | None = None,
             aligned: tuple[bool, ...] = ()) -> FaceRegions:
    return FaceRegions(boxes=boxes, source=source, crops=np.stack(crops)[..., np.newaxis], detector=detector,
                       aligned=aligned)
