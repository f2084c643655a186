"""fer_core.predict: the MTCNN detector (boxes and eyes) on a real photo, and eye alignment like FER2013."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from fer_core.errors import ConfigError, DataError
from fer_core.predict import (
    FER2013_GEOMETRY,
    Box,
    Eyes,
    FaceSource,
    HaarFaceDetector,
    MtcnnFaceDetector,
    Photo,
    align_face,
    alignment_matrix,
    detect_faces,
    locate_faces,
    make_detector,
)

ASTRONAUT_FACE = Box(176, 60, 96, 116)
"""skimage's astronaut photo (512x512): her face boxed by hand, hairline to chin."""


def _iou(a: Box, b: Box) -> float:
    width = max(0, min(a.right, b.right) - max(a.x, b.x))
    height = max(0, min(a.bottom, b.bottom) - max(a.y, b.y))
    overlap = width * height
    return overlap / (a.width * a.height + b.width * b.height - overlap)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """A real colour portrait shipped inside scikit-image's wheel (the `dev` extra installs it)."""
    data = pytest.importorskip("skimage.data", reason="scikit-image (the dev extra) has the sample photo")
    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="module")
def mtcnn() -> MtcnnFaceDetector:
    return MtcnnFaceDetector()


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _turned(picture: np.ndarray, degrees: float) -> np.ndarray:
    """``picture`` turned anticlockwise about its centre, edges repeated."""
    height, width = picture.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(picture, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def test_mtcnn_finds_the_face_and_eyes_in_a_real_photo(astronaut: np.ndarray, mtcnn: MtcnnFaceDetector) -> None:
    for rgb in (astronaut, None):  # in colour, and on the grey picture alone
        (face,) = mtcnn.detect_faces(_grey(astronaut), rgb)
        assert _iou(face.box, ASTRONAUT_FACE) > 0.6
        assert face.eyes is not None
        (lx, ly), (rx, ry) = face.eyes.left, face.eyes.right
        assert face.box.x < lx < rx < face.box.right  # the picture's left eye first, both inside the box
        assert face.box.y < min(ly, ry) and max(ly, ry) < face.box.y + face.box.height / 2  # upper half
        assert abs(face.eyes.angle) < 6 and 30 < face.eyes.distance < 55  # an upright face, ~40 px apart
    assert mtcnn.detect(_grey(astronaut)) == (mtcnn.detect_faces(_grey(astronaut))[0].box,)
    assert mtcnn.name == "mtcnn" and make_detector("mtcnn").name == "mtcnn"


def test_mtcnn_finds_no_face_in_smooth_or_tiny_pictures(mtcnn: MtcnnFaceDetector) -> None:
    ramp = np.tile(np.linspace(0, 255, 300).astype(np.uint8), (200, 1))
    assert mtcnn.detect_faces(ramp) == ()
    assert mtcnn.detect_faces(np.full((10, 400), 128, dtype=np.uint8)) == ()  # smaller than the smallest face
    with pytest.raises(DataError, match=r"detect needs a grey \(height, width\) uint8 picture"):
        mtcnn.detect_faces(np.zeros((20, 20, 3), dtype=np.uint8))
    with pytest.raises(DataError, match=r"rgb must be the colour picture as uint8 \(200, 300, 3\) \(got uint8 "
                                        r"\(200, 300\)\)"):
        mtcnn.detect_faces(ramp, ramp)


def test_detector_settings_and_names_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"min_confidence must be a number in \[0, 1\] \(got 2\)"):
        MtcnnFaceDetector(min_confidence=2)
    with pytest.raises(ConfigError, match=r"min_face_size must be an integer >= 12 \(got 8\)"):
        MtcnnFaceDetector(min_face_size=8)
    with pytest.raises(ConfigError, match=r"max_side must be an integer >= min_face_size \(20; got 10\)"):
        MtcnnFaceDetector(max_side=10)
    with pytest.raises(ConfigError, match=r"unknown face detector 'yunet'; choose one of mtcnn, haar"):
        make_detector("yunet")


def test_alignment_matrix_levels_the_eyes_at_fer2013_positions() -> None:
    eyes = Eyes((310.0, 220.0), (370.0, 255.0))  # 69 px apart, turned 30 degrees clockwise on screen
    assert eyes.angle == pytest.approx(math.degrees(math.atan2(35, 60)))
    matrix = alignment_matrix(eyes)
    (lx, ly), (rx, ry) = (matrix @ np.array([x, y, 1.0]) for x, y in (eyes.left, eyes.right))
    geometry = FER2013_GEOMETRY
    assert ly == pytest.approx(ry) == pytest.approx(geometry.eye_y * 48)  # level, at 38.7 % of the height
    assert rx - lx == pytest.approx(geometry.eye_distance * 48)  # 17.5 of 48 pixels apart
    assert (lx + rx) / 2 == pytest.approx(24.0)  # centred


def test_eyes_are_validated() -> None:
    with pytest.raises(DataError, match=r"Eyes.left and Eyes.right must differ"):
        Eyes((5.0, 5.0), (5.0, 5.0))
    with pytest.raises(DataError, match=r"Eyes.right must be a finite \(x, y\) point"):
        Eyes((5.0, 5.0), (float("nan"), 5.0))


def test_alignment_makes_the_eyes_of_a_turned_face_level(astronaut: np.ndarray, mtcnn: MtcnnFaceDetector) -> None:
    for degrees in (25, -25):
        rgb = _turned(astronaut, degrees)
        (face,) = mtcnn.detect_faces(_grey(rgb), rgb)
        assert face.eyes is not None
        assert face.eyes.angle == pytest.approx(-degrees, abs=7)  # MTCNN's landmarks are whole pixels

        aligned = align_face(_grey(rgb), face.eyes)
        assert aligned.shape == (48, 48) and aligned.dtype == np.uint8
        # The detector again, on the aligned crop enlarged 4x with its edges repeated around it:
        big = cv2.copyMakeBorder(cv2.resize(aligned, (192, 192), interpolation=cv2.INTER_CUBIC),
                                 48, 48, 48, 48, cv2.BORDER_REPLICATE)
        (again,) = mtcnn.detect_faces(big)
        assert again.eyes is not None
        assert abs(again.eyes.angle) < 6  # level (was 25 degrees)
        mid_x = (again.eyes.left[0] + again.eyes.right[0]) / 2 / 4 - 12  # back to 48x48 coordinates
        mid_y = (again.eyes.left[1] + again.eyes.right[1]) / 2 / 4 - 12
        assert mid_x == pytest.approx(24, abs=2.5) and mid_y == pytest.approx(18.6, abs=2.5)
        assert again.eyes.distance / 4 == pytest.approx(17.5, abs=2.5)


def test_align_face_repeats_edges_for_faces_at_or_past_the_border() -> None:
    grey = np.full((100, 120), 90, dtype=np.uint8)
    for eyes in (Eyes((2.0, 3.0), (30.0, 8.0)), Eyes((150.0, 140.0), (170.0, 120.0)), Eyes((60.0, 50.0), (40.0, 50.0))):
        crop = align_face(grey, eyes)  # the last pair is upside down: turned 180 degrees
        assert crop.shape == (48, 48) and (crop == 90).all()


def test_locate_faces_aligns_faces_with_eyes_and_crops_the_others(astronaut: np.ndarray,
                                                                   mtcnn: MtcnnFaceDetector) -> None:
    photo = Photo(grey=_grey(astronaut), rgb=astronaut, image_format="PNG")
    aligned = locate_faces(photo, mtcnn, margin=0.1)
    assert aligned.source is FaceSource.DETECTED and aligned.detector == "mtcnn" and aligned.aligned == (True,)
    (face,) = detect_faces(mtcnn, photo.grey, photo.rgb)
    assert face.eyes is not None
    np.testing.assert_array_equal(aligned.crops[0, ..., 0], align_face(photo.grey, face.eyes))

    square = locate_faces(photo, mtcnn, margin=0.1, align=False)
    assert square.aligned == (False,) and square.boxes == aligned.boxes
    assert not np.array_equal(square.crops, aligned.crops)

    haar = locate_faces(photo, HaarFaceDetector(), margin=0.1)
    assert haar.detector == "haar" and haar.aligned == (False,) and _iou(haar.boxes[0], ASTRONAUT_FACE) > 0.5
