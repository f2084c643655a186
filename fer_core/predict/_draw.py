"""Annotated copies of photos: a box and an "emotion 87%" label per classified face."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from fer_core.predict._locate import FaceSource
from fer_core.predict._predictor import FacePrediction

DETECTED_COLOUR = (40, 200, 40)
WHOLE_COLOUR = (255, 150, 0)
"""RGB: green boxes for detected faces, orange for pictures classified whole."""
TEXT_COLOUR = (0, 0, 0)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_predictions(rgb: np.ndarray, faces: Sequence[FacePrediction]) -> np.ndarray:
    """A copy of ``rgb`` (height, width, 3) uint8 with each face's box and label drawn on it.

    Line width and text size grow with the picture so labels stay readable on large photos.
    """
    canvas = np.ascontiguousarray(rgb.copy())
    thickness = max(1, round(min(canvas.shape[:2]) / 300))
    font_scale = 0.4 * thickness
    for face in faces:
        colour = DETECTED_COLOUR if face.source is FaceSource.DETECTED else WHOLE_COLOUR
        box = face.box
        cv2.rectangle(canvas, (box.x, box.y), (box.right - 1, box.bottom - 1), colour, thickness)
        _draw_label(canvas, f"{face.emotion} {face.probability:.0%}", box.x, box.y, colour, font_scale,
                    thickness)
    return canvas


def _draw_label(canvas: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int],
                font_scale: float, thickness: int) -> None:
    """``text`` on a filled tag above (x, y), or just below it when the box touches the top edge."""
    (width, height), baseline = cv2.getTextSize(text, _FONT, font_scale, thickness)
    tag_height = height + baseline + 2 * thickness
    top = y - tag_height if y >= tag_height else y
    cv2.rectangle(canvas, (x, top), (x + width + 2 * thickness, top + tag_height), colour, cv2.FILLED)
    cv2.putText(canvas, text, (x + thickness, top + height + thickness), _FONT, font_scale, TEXT_COLOUR,
                max(1, thickness // 2), cv2.LINE_AA)


def save_image(rgb: np.ndarray, path: Path, image_format: str) -> Path:
    """Write ``rgb`` to ``path`` in ``image_format`` ("PNG", "JPEG", ...), atomically (temp + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        options = {"quality": 95} if image_format == "JPEG" else {}
        Image.fromarray(rgb).save(temporary, format=image_format, **options)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
