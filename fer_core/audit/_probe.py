"""Shift probing: near-duplicates that are moved by up to 2 pixels, found by re-aligning before comparing.

A DCT hash changes with a shift of 2 pixels (the low frequencies' phases move). So each query face is also
hashed moved by every (dx, dy) in [-2, 2]^2 (the uncovered border filled with the edge pixels); a shifted copy
of a reference face, moved back by the right offset, hashes within a few bits of it. A query matches a
reference when any of its 25 probes is within ``PROBE_THRESHOLD`` bits of the reference's hash. The probes are
looked up by multi-index hashing like ``near_pairs`` (the tight threshold keeps the buckets small).
"""

from __future__ import annotations

import numpy as np

from fer_core.audit._exact import _uint8_rows
from fer_core.audit._near import chunks
from fer_core.audit._perceptual import hamming, hashes_of, low_frequency_basis

MAX_SHIFT = 2
"""Largest shift (pixels, per axis) the probes undo."""
PROBE_THRESHOLD = 4
"""Largest Hamming distance (of 63 bits) between a re-aligned query and a reference."""


def shifted_hashes(images: np.ndarray, max_shift: int = MAX_SHIFT) -> np.ndarray:
    """Hashes of every image moved by each offset in [-max_shift, max_shift]^2: uint64 (n_offsets, N).

    A move with edge fill is a linear map ``S_dy @ X @ S_dx.T``, so it folds into the hash's basis: no moved
    image is ever made.
    """
    rows = _uint8_rows(images)
    side = int(round(np.sqrt(rows.shape[1])))
    basis = low_frequency_basis(side)
    offsets = range(-max_shift, max_shift + 1)
    moved = [basis @ _shift_matrix(side, d) for d in offsets]
    return hashes_of(rows, moved, moved)  # (dx outer, dy inner)


def _shift_matrix(side: int, shift: int) -> np.ndarray:
    """(side, side) matrix moving rows by ``shift`` (content goes to higher indices), edge rows repeated."""
    matrix = np.zeros((side, side))
    matrix[np.arange(side), np.clip(np.arange(side) - shift, 0, side - 1)] = 1.0
    return matrix


def probe_pairs(probes: np.ndarray, references: np.ndarray, threshold: int = PROBE_THRESHOLD) -> np.ndarray:
    """Pairs ``(query, reference)`` where some probe of the query is within ``threshold`` bits of the reference.

    Args:
        probes: ``shifted_hashes`` of the queries, (n_offsets, n_queries).
        references: Hashes of the references, (n_references,).
        threshold: Largest Hamming distance.

    Returns:
        int64 array (n_pairs, 2) of (query index, reference index), sorted, without repeats.
    """
    references = np.asarray(references, dtype=np.uint64)
    found = []
    for low, high in chunks(threshold + 1):
        mask = np.uint64((1 << (high - low)) - 1)
        reference_keys = (references >> np.uint64(low)) & mask
        order = np.argsort(reference_keys, kind="stable")
        sorted_keys = reference_keys[order]
        for probe in probes:
            keys = (probe >> np.uint64(low)) & mask
            start = np.searchsorted(sorted_keys, keys, side="left")
            stop = np.searchsorted(sorted_keys, keys, side="right")
            counts = stop - start
            query = np.repeat(np.arange(len(probe)), counts)
            position = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            reference = order[np.repeat(start, counts) + position]
            close = hamming(probe[query], references[reference]) <= threshold
            found.append(np.stack([query[close], reference[close]], axis=1))
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2).astype(np.int64)
