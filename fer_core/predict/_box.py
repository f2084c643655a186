"""A face's place in a picture: an axis-aligned pixel box."""

from __future__ import annotations

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

    def to_dict(self) -> dict[str, int]:
        """``{"x", "y", "width", "height"}`` for JSON output."""
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.width}x{self.height}"
