"""Exact duplicates: a content hash of each image's uint8 pixels, and which rows repeat a reference set.

Two images are exact duplicates when their 48x48 uint8 pixels are byte-identical (labels are ignored).
The hash is BLAKE2b with a 16-byte digest, written as 32 hex characters, so hashes can be stored as text
(JSON, MLflow) and compared across runs; with 128 bits a collision among a million faces has a probability
far below 1e-20.
"""

from __future__ import annotations

import hashlib

import numpy as np

from fer_core.errors import DataError

DIGEST_SIZE = 16
"""Bytes of the BLAKE2b digest (32 hex characters)."""


def exact_hashes(images: np.ndarray) -> np.ndarray:
    """The content hash of every image: a ``<U32`` array of hex digests, one per row.

    Args:
        images: uint8 array (N, 48, 48[, 1]) (any shape whose first axis is the image).

    Raises:
        DataError: ``images`` is not a uint8 array.
    """
    rows = _uint8_rows(images)
    return np.array([hashlib.blake2b(row.data, digest_size=DIGEST_SIZE).hexdigest() for row in rows],
                    dtype=f"<U{2 * DIGEST_SIZE}")


def overlap_with(reference_hashes: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Which of ``images`` duplicate (exactly) an image whose hash is in ``reference_hashes``.

    Args:
        reference_hashes: ``exact_hashes`` of the reference set (e.g. a study's training split).
        images: uint8 images to check, (N, 48, 48[, 1]).

    Returns:
        Boolean mask (N,): True where the image's pixels equal a reference image's.

    Example:
        >>> seen = overlap_with(exact_hashes(train.images), test.images)
        >>> clean_test = test.images[~seen]
    """
    return np.isin(exact_hashes(images), np.asarray(reference_hashes))


def exact_groups(hashes: np.ndarray) -> np.ndarray:
    """Group id of each row (rows with the same hash share one), numbered 0..n_groups-1."""
    _, group = np.unique(np.asarray(hashes), return_inverse=True)
    return group.ravel().astype(np.int64)


def _uint8_rows(images: np.ndarray) -> np.ndarray:
    """``images`` as a C-contiguous (N, pixels) uint8 array."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        dtype = getattr(images, "dtype", type(images).__name__)
        raise DataError(f"images must be a uint8 numpy array (got {dtype}); pass raw 0..255 pixels")
    if images.ndim < 2:
        raise DataError(f"images must have one row per image, shape (N, 48, 48[, 1]) (got {images.shape})")
    return np.ascontiguousarray(images.reshape(len(images), -1))
