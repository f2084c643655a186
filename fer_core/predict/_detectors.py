"""Build a face detector by name: what ``predict --detector`` chooses from."""

from __future__ import annotations

from fer_core.errors import ConfigError
from fer_core.predict._detect import HaarFaceDetector
from fer_core.predict._locate import LandmarkFaceDetector
from fer_core.predict._mtcnn import MtcnnFaceDetector

DETECTOR_NAMES: tuple[str, ...] = ("mtcnn", "haar")
"""``mtcnn``: MTCNN with eye landmarks (faces are aligned); ``haar``: OpenCV's frontal cascade (no landmarks)."""
DEFAULT_DETECTOR = "mtcnn"
"""It found more faces than Haar on the real photos of ``bench/detection.py`` (see docs/benchmarks.md)."""


def make_detector(name: str) -> LandmarkFaceDetector:
    """The detector called ``name``, with its default settings.

    Raises:
        ConfigError: ``name`` is not one of ``DETECTOR_NAMES``.
        FaceDetectorUnavailable: The detector cannot run here (the message names the fix).
    """
    if name == "mtcnn":
        return MtcnnFaceDetector()
    if name == "haar":
        return HaarFaceDetector()
    raise ConfigError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTOR_NAMES)}")
