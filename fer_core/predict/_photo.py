"""Read one photo from disk safely: size limits checked before decoding, EXIF rotation applied.

Only the decoders of common photo formats are enabled, the file size is checked before a byte is read
and the pixel count on the header before a pixel is decoded, so a hostile or huge file costs nothing.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fer_core.errors import ConfigError, DataError

PHOTO_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "BMP", "WEBP")
"""PIL decoders that may run on a user's file; anything else is refused as not an image."""

PHOTO_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
"""File suffixes picked up when a directory is searched for photos."""

_WRITABLE_FORMAT = {"MPO": "JPEG"}
"""Camera JPEGs with extra frames are read as MPO; their annotated copies are written as plain JPEG."""

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 100 * 1024 * 1024

_DECODE_ERRORS: tuple[type[BaseException], ...] = (OSError, SyntaxError, ValueError, EOFError, IndexError,
                                                     struct.error)
"""What PIL raises on broken or truncated files."""


class PhotoError(DataError):
    """One file could not be used as a photo (missing, unreadable, not an image, corrupt or too large)."""


@dataclass(frozen=True)
class ReadLimits:
    """Largest file accepted, checked before decoding (a decompression-bomb and memory guard).

    Args:
        max_pixels: Largest width * height, checked on the image header.
        max_bytes: Largest file size, checked before the file is opened.
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ReadLimits.{name} must be an integer >= 1 (got {value!r})")


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded photo, upright (EXIF orientation applied).

    Args:
        grey: uint8 array (height, width): what faces are found in and cropped from.
        rgb: uint8 array (height, width, 3) for drawing annotations, or None when not asked for.
        image_format: The decoder that read it ("PNG", "JPEG", ...), used to write annotated copies.
    """

    grey: np.ndarray
    rgb: np.ndarray | None
    image_format: str

    @property
    def height(self) -> int:
        return int(self.grey.shape[0])

    @property
    def width(self) -> int:
        return int(self.grey.shape[1])


def read_photo(path: Path, limits: ReadLimits = ReadLimits(), *, keep_colour: bool = False) -> Photo:
    """Decode ``path`` into a grey (and optionally colour) uint8 photo.

    Raises:
        PhotoError: The file is missing, unreadable, too big, not a PNG/JPEG/BMP/WebP image or corrupt;
            the message names the file's problem in one line.
    """
    _check_file_size(path, limits.max_bytes)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise PhotoError(f"cannot read the file ({error.strerror or error})") from None
    try:
        with handle, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is stricter
            with Image.open(handle, formats=PHOTO_FORMATS) as image:
                _check_pixel_count(image.size, limits.max_pixels)
                image_format = _WRITABLE_FORMAT.get(str(image.format), str(image.format))
                upright = ImageOps.exif_transpose(image)
                grey = np.asarray(upright.convert("L"), dtype=np.uint8)
                rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8) if keep_colour else None
    except UnidentifiedImageError:
        raise PhotoError(f"not a {_format_names()} image") from None
    except Image.DecompressionBombError as error:
        raise PhotoError(f"too large to decode safely ({error})") from None
    except PhotoError:
        raise  # our own size message; PhotoError is a ValueError and would be caught below
    except _DECODE_ERRORS as error:
        raise PhotoError(f"corrupt or truncated image ({type(error).__name__}: {error})") from None
    return Photo(grey=grey, rgb=rgb, image_format=image_format)


def _check_file_size(path: Path, max_bytes: int) -> None:
    """Refuse missing, unreadable and oversized files before reading them."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise PhotoError("no such file") from None
    except OSError as error:
        raise PhotoError(f"cannot read the file ({error.strerror or error})") from None
    if not path.is_file():
        raise PhotoError("not a regular file")
    if status.st_size > max_bytes:
        raise PhotoError(
            f"file is {status.st_size:,} bytes, more than the limit of {max_bytes:,} bytes "
            f"(raise --max-file-mb if the file is genuine)"
        )


def _check_pixel_count(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse images whose header announces more pixels than allowed, before decoding them."""
    width, height = size
    if width * height > max_pixels:
        raise PhotoError(
            f"{width}x{height} = {width * height:,} pixels is more than the limit of {max_pixels:,} "
            f"(a decompression-bomb guard; raise --max-pixels if the file is genuine)"
        )


def _format_names() -> str:
    names = [name if name != "WEBP" else "WebP" for name in PHOTO_FORMATS]
    return ", ".join(names[:-1]) + " or " + names[-1]
