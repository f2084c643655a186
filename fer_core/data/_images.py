"""Decode one PNG/JPEG file into a 48x48 grey uint8 face, refusing decompression bombs."""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from fer_core.emotions import IMAGE_SIZE

ALLOWED_FORMATS: tuple[str, ...] = ("PNG", "JPEG")
"""Decoders PIL may use: only those of the file types the folder loader accepts."""

_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_SIXTEEN_BIT_TO_EIGHT = 257.0
"""65535 / 255: maps the full 16-bit range onto 0..255 (PIL's own convert clips instead)."""

DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    Image.DecompressionBombError,
)
"""What PIL raises on broken, truncated or hostile files (UnidentifiedImageError is an OSError)."""


class ImageTooLargeError(ValueError):
    """The image header announces more pixels than the caller allows (decompression-bomb guard)."""


@dataclass(frozen=True)
class DecodedImage:
    """A face ready for the dataset and whether it had to be converted to get there.

    Args:
        pixels: uint8 array of shape (48, 48).
        converted: True when the file was not already a 48x48 single-channel 8-bit image.
    """

    pixels: np.ndarray
    converted: bool


def decode_face(data: bytes, *, max_image_pixels: int) -> DecodedImage:
    """Decode PNG/JPEG bytes into a 48x48 grey face.

    Any size or mode is accepted: EXIF rotation is applied, colour is converted to luminance
    ("L"), 16-bit grey is scaled (not clipped) to 8 bit, and the image is resized to 48x48 with a
    Lanczos filter (the aspect ratio is not kept, as a face crop is expected).

    Args:
        data: The file's bytes.
        max_image_pixels: Largest width * height decoded; checked on the header, before decoding.

    Returns:
        The face and whether it was converted.

    Raises:
        ImageTooLargeError: The header announces more than ``max_image_pixels`` pixels.
        One of ``DECODE_ERRORS``: The bytes are not a readable PNG/JPEG.
    """
    with warnings.catch_warnings():
        # Our own pixel limit is checked below; PIL's warning would only duplicate it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with _open_image(data, max_image_pixels) as image:
            _check_pixel_count(image, max_image_pixels)
            converted = image.size != (IMAGE_SIZE, IMAGE_SIZE) or image.mode != "L"
            image.draft("L", (IMAGE_SIZE, IMAGE_SIZE))  # JPEG only: decode at a reduced scale
            grey = _to_grey(ImageOps.exif_transpose(image))
            if grey.size != (IMAGE_SIZE, IMAGE_SIZE):
                grey = grey.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
            return DecodedImage(pixels=np.asarray(grey, dtype=np.uint8), converted=converted)


def _open_image(data: bytes, max_image_pixels: int) -> Image.Image:
    """Open (header only) PNG/JPEG bytes; PIL's own bomb refusal becomes ``ImageTooLargeError``."""
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(
            f"{error} (PIL's own guard), far more than max_image_pixels={max_image_pixels:,} "
            "(a decompression-bomb guard; raise the limit if the file is genuine)"
        ) from None


def _check_pixel_count(image: Image.Image, max_image_pixels: int) -> None:
    """Refuse images whose header size exceeds the limit before any pixel is decoded."""
    width, height = image.size
    if width * height > max_image_pixels:
        raise ImageTooLargeError(
            f"{width}x{height} = {width * height:,} pixels is more than max_image_pixels="
            f"{max_image_pixels:,} (a decompression-bomb guard; raise the limit if the file is genuine)"
        )


def _to_grey(image: Image.Image) -> Image.Image:
    """Single-channel 8-bit version of ``image`` ("L"), scaling 16-bit grey instead of clipping it."""
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image, dtype=np.float32)
        scaled = np.clip(np.rint(wide / _SIXTEEN_BIT_TO_EIGHT), 0, 255).astype(np.uint8)
        return Image.fromarray(scaled)
    return image.convert("L")
