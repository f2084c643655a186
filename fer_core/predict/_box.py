"""A face's place in a picture: an axis-aligned pixel box, and the eye landmarks a detector may add."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

from fer_core.errors import DataError


@dataclass(frozen=True)
class Box:
    """A rectangle in pixel coordinates of the (EXIF-rotated) picture.

    Args:
        x: Left edge, >= 0.
        y: Top edge, >= 0.
        width: Width in pixels, >= 1.
        height: Height in pixels, >= 1.
    """

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        for name, minimum in (("x", 0), ("y", 0), ("width", 1), ("height", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
                raise DataError(f"Box.{name} must be an integer >= {minimum} (got {value!r})")
            object.__setattr__(self, name, int(value))

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.y + self.height

    def scaled(self, factor: float) -> Box:
        """The box in a picture ``factor`` times as large (detection runs on a reduced copy)."""
        return Box(
            x=round(self.x * factor),
            y=round(self.y * factor),
            width=max(1, round(self.width * factor)),
            height=max(1, round(self.height * factor)),
        )

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0 when apart, 1 when the same box): how detections are matched."""
        width = max(0, min(self.right, other.right) - max(self.x, other.x))
        height = max(0, min(self.bottom, other.bottom) - max(self.y, other.y))
        overlap = width * height
        return overlap / (self.width * self.height + other.width * other.height - overlap)

    def to_dict(self) -> dict[str, int]:
        """``{"x", "y", "width", "height"}`` for JSON output."""
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.width}x{self.height}"


@dataclass(frozen=True)
class Eyes:
    """The centres of a face's two eyes, in pixel coordinates of the picture (sub-pixel floats).

    Args:
        left: (x, y) of the eye on the picture's left (the person's right eye in a frontal photo).
        right: (x, y) of the eye on the picture's right.
    """

    left: tuple[float, float]
    right: tuple[float, float]

    def __post_init__(self) -> None:
        for name in ("left", "right"):
            point = getattr(self, name)
            if len(point) != 2 or not all(math.isfinite(float(value)) for value in point):
                raise DataError(f"Eyes.{name} must be a finite (x, y) point (got {point!r})")
            object.__setattr__(self, name, (float(point[0]), float(point[1])))
        if self.distance == 0.0:
            raise DataError(f"Eyes.left and Eyes.right must differ (both {self.left})")

    @property
    def distance(self) -> float:
        """Pixels between the two eye centres."""
        return math.hypot(self.right[0] - self.left[0], self.right[1] - self.left[1])

    @property
    def angle(self) -> float:
        """Degrees the line from the left to the right eye turns clockwise on screen from horizontal (y grows
        downward); 0 for level eyes."""
        return math.degrees(math.atan2(self.right[1] - self.left[1], self.right[0] - self.left[0]))

    def scaled(self, factor: float) -> Eyes:
        """The eyes in a picture ``factor`` times as large."""
        return Eyes((self.left[0] * factor, self.left[1] * factor), (self.right[0] * factor, self.right[1] * factor))


@dataclass(frozen=True)
class DetectedFace:
    """One face a detector found: its box, and its eyes when the detector finds landmarks (else None)."""

    box: Box
    eyes: Eyes | None = None
