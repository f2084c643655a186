"""Pairs of near-duplicate images: all hash pairs within a Hamming threshold, found by multi-index hashing.

The 63-bit hash is cut into ``threshold + 1`` chunks; two hashes within ``threshold`` bits agree exactly on
at least one chunk (pigeonhole). So, chunk by chunk, the rows are sorted by the chunk's value, every pair
inside a run of equal values is a candidate, and the candidates' full distances are checked. Everything is
numpy: no Python loop over rows.
"""

from __future__ import annotations

import numpy as np

from fer_core.audit._perceptual import N_BITS, hamming

MAX_CANDIDATES_PER_CHUNK = 4_000_000
"""Candidate pairs checked at once (bounds memory: about 100 bytes of temporaries each)."""


def near_pairs(hashes: np.ndarray, threshold: int) -> np.ndarray:
    """Every pair ``(i, j)``, ``i < j``, whose hashes are at most ``threshold`` bits apart.

    Args:
        hashes: uint64 perceptual hashes (N,).
        threshold: Largest Hamming distance, 0..62.

    Returns:
        int64 array (n_pairs, 2), sorted, without repeats.
    """
    if not 0 <= threshold < N_BITS:
        raise ValueError(f"threshold must be in 0..{N_BITS - 1} bits (got {threshold})")
    hashes = np.asarray(hashes, dtype=np.uint64)
    found = [_pairs_agreeing_on(hashes, low, high, threshold) for low, high in chunks(threshold + 1)]
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    if len(pairs) == 0:
        return pairs.reshape(0, 2)
    codes = np.unique(pairs[:, 0] * len(hashes) + pairs[:, 1])
    return np.stack([codes // len(hashes), codes % len(hashes)], axis=1)


def chunks(n_chunks: int) -> list[tuple[int, int]]:
    """Bit ranges ``[low, high)`` cutting the hash into ``n_chunks`` nearly equal chunks."""
    edges = np.linspace(0, N_BITS, n_chunks + 1).round().astype(int)
    return [(int(low), int(high)) for low, high in zip(edges[:-1], edges[1:])]


def _pairs_agreeing_on(hashes: np.ndarray, low: int, high: int, threshold: int) -> np.ndarray:
    """Pairs whose hashes agree on bits ``[low, high)`` and are within ``threshold`` overall."""
    mask = np.uint64((1 << (high - low)) - 1)
    keys = (hashes >> np.uint64(low)) & mask
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    keep = sizes > 1
    starts, sizes = starts[keep], sizes[keep]
    found = []
    for batch in _batches(sizes):
        left, right = _pairs_in_runs(starts[batch], sizes[batch])
        i, j = order[left], order[right]
        close = hamming(hashes[i], hashes[j]) <= threshold
        found.append(np.stack([np.minimum(i, j)[close], np.maximum(i, j)[close]], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


def _batches(sizes: np.ndarray) -> list[slice]:
    """Slices of runs whose pair counts stay under ``MAX_CANDIDATES_PER_CHUNK`` together."""
    n_pairs = sizes * (sizes - 1) // 2
    cumulative = np.cumsum(n_pairs)
    batches, start = [], 0
    while start < len(sizes):
        base = cumulative[start - 1] if start else 0
        stop = int(np.searchsorted(cumulative, base + MAX_CANDIDATES_PER_CHUNK, side="right"))
        stop = max(stop, start + 1)
        batches.append(slice(start, stop))
        start = stop
    return batches


def _pairs_in_runs(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (left, right), left < right, of every pair inside each run ``[start, start + size)``."""
    n_pairs = sizes * (sizes - 1) // 2
    total = int(n_pairs.sum())
    run = np.repeat(np.arange(len(sizes)), n_pairs)
    rank = np.arange(total) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    # rank k within a run of size s -> (a, b), a < b, enumerating row by row: a = first index.
    size = sizes[run]
    a = (2 * size - 1 - np.sqrt((2 * size - 1) ** 2 - 8 * rank)) // 2
    a = a.astype(np.int64)
    before = a * (2 * size - a - 1) // 2
    fix = before > rank
    a[fix] -= 1
    before = a * (2 * size - a - 1) // 2
    b = rank - before + a + 1
    return starts[run] + a, starts[run] + b
