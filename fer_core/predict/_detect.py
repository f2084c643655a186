"""Find frontal faces with the Haar cascade that ships inside OpenCV's Python wheel (no download).

OpenCV 5 moved ``CascadeClassifier`` and the cascade files out of the main wheels, so this needs
``opencv-python-headless<5``; without it the detector says so instead of silently finding no face.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fer_core.errors import ConfigError, DataError, FerError
from fer_core.predict._box import Box, DetectedFace

CASCADE_FILE = "haarcascade_frontalface_default.xml"
CASCADE_WINDOW = 24
"""The cascade's training window: no face smaller than this can be found."""


class FaceDetectorUnavailable(FerError):
    """A face detector cannot run here: no Haar cascade in this OpenCV build (OpenCV 5 moved it out of the
    main wheels), or the mtcnn package or its weights are missing."""


class HaarFaceDetector:
    """Frontal-face detector: OpenCV's Viola-Jones cascade, run on a reduced copy of large photos.

    Args:
        scale_factor: Step between the scales searched (> 1; smaller finds more faces, slower).
        min_neighbors: Overlapping hits a face needs (higher = fewer false faces, more missed).
        max_side: Photos with a longer side are reduced to it for detection (bounds the time on
            multi-megapixel photos); boxes are mapped back to the full picture.
    """

    name = "haar"
    uses_colour = False

    def __init__(self, *, scale_factor: float = 1.1, min_neighbors: int = 5, max_side: int = 1600) -> None:
        if not scale_factor > 1.0:
            raise ConfigError(f"scale_factor must be > 1 (got {scale_factor!r})")
        if isinstance(min_neighbors, bool) or not isinstance(min_neighbors, int) or min_neighbors < 0:
            raise ConfigError(f"min_neighbors must be an integer >= 0 (got {min_neighbors!r})")
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < CASCADE_WINDOW:
            raise ConfigError(f"max_side must be an integer >= {CASCADE_WINDOW} (got {max_side!r})")
        self.scale_factor = float(scale_factor)
        self.min_neighbors = min_neighbors
        self.max_side = max_side
        self._cascade = _load_cascade()

    def detect(self, grey: np.ndarray) -> tuple[Box, ...]:
        """Face boxes in a (height, width) uint8 picture, ordered left to right."""
        check_grey(grey)
        factor = min(1.0, self.max_side / max(grey.shape))
        small = grey if factor == 1.0 else cv2.resize(
            grey, (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor))),
            interpolation=cv2.INTER_AREA,
        )
        if min(small.shape) < CASCADE_WINDOW:
            return ()
        found = self._cascade.detectMultiScale(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(CASCADE_WINDOW, CASCADE_WINDOW),
        )
        boxes = [clipped(Box(*map(int, row)).scaled(1.0 / factor), grey.shape) for row in found]
        return tuple(sorted(boxes, key=lambda box: (box.x, box.y)))

    def detect_faces(self, grey: np.ndarray, rgb: np.ndarray | None = None) -> tuple[DetectedFace, ...]:
        """``detect``'s boxes as faces; the cascade finds no landmarks, so ``eyes`` is None (``rgb`` is not
        used: the cascade works on grey)."""
        return tuple(DetectedFace(box) for box in self.detect(grey))


def check_grey(grey: np.ndarray) -> None:
    """Refuse anything but a (height, width) uint8 picture."""
    if not isinstance(grey, np.ndarray) or grey.dtype != np.uint8 or grey.ndim != 2:
        raise DataError(f"detect needs a grey (height, width) uint8 picture (got "
                        f"{getattr(grey, 'dtype', type(grey).__name__)} {getattr(grey, 'shape', '')})")


def clipped(box: Box, shape: tuple[int, ...]) -> Box:
    """``box`` cut to the picture (rounding after rescaling may overshoot by a pixel)."""
    height, width = shape[:2]
    x, y = min(box.x, width - 1), min(box.y, height - 1)
    return Box(x, y, min(box.width, width - x), min(box.height, height - y))


def _load_cascade() -> cv2.CascadeClassifier:
    """The frontal-face cascade shipped in ``cv2.data``, or a clear error naming the fix."""
    fix = ("install an OpenCV 4 wheel: pip install 'opencv-python-headless>=4.9,<5' "
           "(or pass --no-detect to classify whole pictures)")
    if not hasattr(cv2, "CascadeClassifier"):
        raise FaceDetectorUnavailable(f"OpenCV {cv2.__version__} has no CascadeClassifier; {fix}")
    path = Path(getattr(getattr(cv2, "data", None), "haarcascades", "")) / CASCADE_FILE
    cascade = cv2.CascadeClassifier(str(path)) if path.is_file() else None
    if cascade is None or cascade.empty():
        raise FaceDetectorUnavailable(f"OpenCV {cv2.__version__} ships no readable {path}; {fix}")
    return cascade
