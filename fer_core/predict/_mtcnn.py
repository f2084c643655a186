"""Find faces and their eyes with MTCNN, whose weights ship inside the ``mtcnn`` wheel (no download).

MTCNN (Zhang et al., 2016) is a cascade of three small convolutional networks (P-Net proposes, R-Net
refines, O-Net scores and places five landmarks). The ``mtcnn`` package runs them with TensorFlow on the
CPU; it finds turned, tilted and partly covered faces that OpenCV's frontal Haar cascade misses, and its
eye landmarks let each face be aligned the way FER2013 faces are (see ``_align``).
"""

from __future__ import annotations

import importlib.resources
from typing import Any

import cv2
import numpy as np

from fer_core.errors import ConfigError, DataError
from fer_core.predict._box import Box, DetectedFace, Eyes
from fer_core.predict._detect import FaceDetectorUnavailable, check_grey, clipped

MTCNN_MIN_FACE = 20
"""MTCNN's default smallest face, in pixels of the (reduced) picture it runs on."""
MTCNN_WEIGHTS = ("pnet.lz4", "rnet.lz4", "onet.lz4")
"""The three networks' weights, read from the installed package's ``mtcnn/assets/weights``."""


class MtcnnFaceDetector:
    """Face detector with eye landmarks: the ``mtcnn`` package's MTCNN, on the CPU by default.

    Runs on the colour picture when it is given (MTCNN was trained on colour photos: on the photos of
    ``bench/detection.py`` it finds 3 more faces of 36 in colour than in grey), else on the grey one repeated
    into three channels.

    Args:
        min_confidence: Faces O-Net scores below this are dropped (MTCNN's own cut-off is 0.8; higher
            means fewer false faces, more missed ones).
        min_face_size: Smallest face searched, in pixels of the picture detection runs on (>= 12).
        max_side: Photos with a longer side are reduced to it for detection (bounds the time on
            multi-megapixel photos); boxes and eyes are mapped back to the full picture.
        device: TensorFlow device the networks run on ("CPU:0", "GPU:0", ...).
    """

    name = "mtcnn"
    uses_colour = True

    def __init__(self, *, min_confidence: float = 0.9, min_face_size: int = MTCNN_MIN_FACE,
                 max_side: int = 1280, device: str = "CPU:0") -> None:
        if isinstance(min_confidence, bool) or not isinstance(min_confidence, int | float) \
                or not 0.0 <= min_confidence <= 1.0:
            raise ConfigError(f"min_confidence must be a number in [0, 1] (got {min_confidence!r})")
        if isinstance(min_face_size, bool) or not isinstance(min_face_size, int) or min_face_size < 12:
            raise ConfigError(f"min_face_size must be an integer >= 12 (got {min_face_size!r})")
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < min_face_size:
            raise ConfigError(f"max_side must be an integer >= min_face_size ({min_face_size}; got {max_side!r})")
        self.min_confidence = float(min_confidence)
        self.min_face_size = min_face_size
        self.max_side = max_side
        self._mtcnn = _load_mtcnn(device)

    def detect(self, grey: np.ndarray) -> tuple[Box, ...]:
        """Face boxes in a (height, width) uint8 picture, ordered left to right."""
        return tuple(face.box for face in self.detect_faces(grey))

    def detect_faces(self, grey: np.ndarray, rgb: np.ndarray | None = None) -> tuple[DetectedFace, ...]:
        """Faces with their eyes in a (height, width) uint8 picture, ordered left to right.

        ``rgb``, the same picture in colour (height, width, 3), is searched instead when given.
        """
        check_grey(grey)
        if rgb is not None and (not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8
                                or rgb.shape != (*grey.shape, 3)):
            raise DataError(f"rgb must be the colour picture as uint8 {(*grey.shape, 3)} (got "
                            f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')})")
        picture = np.repeat(grey[..., np.newaxis], 3, axis=2) if rgb is None else rgb
        factor = min(1.0, self.max_side / max(grey.shape))
        small = picture if factor == 1.0 else cv2.resize(
            picture, (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor))),
            interpolation=cv2.INTER_AREA,
        )
        if min(small.shape[:2]) < self.min_face_size:
            return ()
        found: list[dict[str, Any]] = self._mtcnn.detect_faces(
            np.ascontiguousarray(small), min_face_size=self.min_face_size,
        )
        faces = []
        for face in found:
            if float(face["confidence"]) < self.min_confidence:
                continue
            x, y, width, height = (float(value) for value in face["box"])
            left, top = max(0.0, x), max(0.0, y)
            box = Box(round(left / factor), round(top / factor), max(1, round((x + width - left) / factor)),
                      max(1, round((y + height - top) / factor)))
            points = face["keypoints"]
            eyes = _eyes(points["left_eye"], points["right_eye"], factor)
            faces.append(DetectedFace(clipped(box, grey.shape), eyes))
        return tuple(sorted(faces, key=lambda face: (face.box.x, face.box.y)))


def _eyes(left: Any, right: Any, factor: float) -> Eyes | None:
    """The two eye points mapped back to the full picture; None when MTCNN put both on one spot."""
    try:
        return Eyes((float(left[0]), float(left[1])), (float(right[0]), float(right[1]))).scaled(1.0 / factor)
    except DataError:
        return None


def _load_mtcnn(device: str) -> Any:
    """The three networks with the weights of the installed package, or a clear error naming the fix.

    Each weights file is named by its full path inside the package: given a bare name, ``mtcnn`` would
    first look for it in the current directory (and unpickle whatever it finds there).
    """
    try:
        from mtcnn import MTCNN
        from mtcnn.stages import StageONet, StagePNet, StageRNet
    except ImportError as error:
        raise FaceDetectorUnavailable(
            f"the MTCNN face detector needs the mtcnn package ({error}); install it with "
            f"pip install 'mtcnn>=1.0,<2' (or use --detector haar)"
        ) from None
    folder = importlib.resources.files("mtcnn.assets.weights")
    paths = [str(folder / name) for name in MTCNN_WEIGHTS]
    if not all((folder / name).is_file() for name in MTCNN_WEIGHTS):
        raise FaceDetectorUnavailable(f"the installed mtcnn package lacks its weights ({', '.join(paths)}); "
                                      f"reinstall it: pip install --force-reinstall 'mtcnn>=1.0,<2'")
    stages = [stage(weights=path) for stage, path in zip((StagePNet, StageRNet, StageONet), paths)]
    return MTCNN(stages=stages, device=device)
