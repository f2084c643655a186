"""The seven FER2013 emotion classes and the image geometry every module agrees on."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Class names in label order (FER2013: 0 Angry, 1 Disgust, ..., 6 Neutral)."""

N_CLASSES: int = len(EMOTIONS)
IMAGE_SIZE: int = 48
"""Images are square IMAGE_SIZE x IMAGE_SIZE single-channel uint8 arrays."""
IMAGE_SHAPE: tuple[int, int, int] = (IMAGE_SIZE, IMAGE_SIZE, 1)
