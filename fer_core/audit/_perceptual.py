"""Near-duplicates: a perceptual hash (DCT pHash) that survives re-encoding, small shifts and brightness.

Each image is blurred and shrunk to 16x16 (the mean of each 3x3 block of a 48x48 face), its 2-D DCT is
taken, and the 8x8 lowest frequencies but the constant term give 63 bits: 1 where the coefficient is above
their median. Low frequencies describe the face's layout, not its pixels, so a JPEG round-trip or a shift
of 1-2 pixels flips few bits, while a different face flips about half of them. Two images are
near-duplicates when the Hamming distance between their hashes is at most a threshold
(``NEAR_THRESHOLD``), reported with every result.

Shrinking and the DCT are one (8, 48) matrix B: the coefficients of a face X are ``B @ X @ B.T``, computed for
a whole batch with two BLAS products; hashing FER2013's 35,887 faces takes well under a second.
"""

from __future__ import annotations

import numpy as np

from fer_core.audit._exact import _uint8_rows
from fer_core.errors import DataError

HASH_SIZE = 8
"""Low frequencies kept per axis (8x8, the constant term dropped: 63 bits)."""
SHRUNK_SIZE = 16
"""Side of the blurred, shrunk image the DCT is taken of."""
N_BITS = HASH_SIZE * HASH_SIZE - 1
BATCH_SIZE = 2048
"""Images hashed at once."""
NEAR_THRESHOLD = 6
"""Largest Hamming distance (of 63 bits) at which two faces count as near-duplicates."""


def perceptual_hashes(images: np.ndarray) -> np.ndarray:
    """The 63-bit DCT perceptual hash of every image, as uint64 (N,).

    Args:
        images: uint8 square grey images (N, S, S[, 1]) with S a multiple of 16 (48 for FER).

    Raises:
        DataError: Not uint8, not square, or a side that is not a multiple of 16.
    """
    rows = _uint8_rows(images)
    basis = low_frequency_basis(_side(rows))
    return hashes_of(rows, [basis], [basis])[0]


def low_frequency_basis(side: int) -> np.ndarray:
    """(8, side): shrink to 16x16 by block means, then the 8 lowest DCT-II frequencies, as one matrix.

    The hash's coefficients of an image X are ``B @ X @ B.T``; a linear change of X first (a shift) folds in.
    """
    factor = side // SHRUNK_SIZE
    shrink = np.kron(np.eye(SHRUNK_SIZE), np.full((1, factor), 1.0 / factor))  # (16, side) block means
    return _dct_basis(SHRUNK_SIZE)[:HASH_SIZE] @ shrink


def hashes_of(rows: np.ndarray, row_bases: list[np.ndarray], column_bases: list[np.ndarray]) -> np.ndarray:
    """Hashes with coefficients ``R @ X @ C.T`` of (N, side*side) uint8 rows, for every ``C`` (outer) and ``R``.

    Returns:
        uint64 (len(column_bases) * len(row_bases), N). Each batch is converted to floats once, and each column
        product (the costly one) is shared by all row bases.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # comes with scikit-learn

    # Skinny products (N x 48 by 48 x 8): BLAS threads only contend (measured 0.9 s for FER2013 on one thread,
    # 6-18 s with OpenBLAS's threads on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _hashes_of(rows, row_bases, column_bases)


def _hashes_of(rows: np.ndarray, row_bases: list[np.ndarray], column_bases: list[np.ndarray]) -> np.ndarray:
    side = row_bases[0].shape[1]
    weights = np.left_shift(np.uint64(1), np.arange(N_BITS, dtype=np.uint64))
    hashes = np.empty((len(column_bases) * len(row_bases), len(rows)), dtype=np.uint64)
    for start in range(0, len(rows), BATCH_SIZE):  # batches: float temporaries stay a few MB
        batch = rows[start : start + BATCH_SIZE].astype(np.float64).reshape(-1, side)
        for k, column_basis in enumerate(column_bases):
            half = (batch @ column_basis.T).reshape(-1, side, HASH_SIZE).transpose(0, 2, 1).reshape(-1, side)
            for m, row_basis in enumerate(row_bases):
                low = (half @ row_basis.T).reshape(-1, HASH_SIZE, HASH_SIZE).transpose(0, 2, 1)
                low = low.reshape(-1, HASH_SIZE * HASH_SIZE)[:, 1:]
                bits = low > np.median(low, axis=1, keepdims=True)
                hashes[k * len(row_bases) + m, start : start + BATCH_SIZE] = (
                    (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64))
    return hashes


def _side(rows: np.ndarray) -> int:
    side = int(round(np.sqrt(rows.shape[1])))
    if side * side != rows.shape[1] or side % SHRUNK_SIZE:
        raise DataError(
            f"perceptual hashes need square grey images with a side that is a multiple of {SHRUNK_SIZE} "
            f"(got {rows.shape[1]} pixels per image); convert them to 48x48 grey first"
        )
    return side


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distance of two uint64 hash arrays (broadcast)."""
    return np.bitwise_count(np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64)))


def _dct_basis(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix (n, n): row k is the k-th cosine."""
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    basis = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return basis
