"""How fast a model classifies faces on this machine: one face, and a batch, timed after a warm-up.

The figure is the median of repeated calls on random uint8 faces. The number of repeats is chosen from the
first timed call so that the whole measurement stays within a small time budget (a tiny CNN is timed in a
fraction of a second; a large one gets the minimum of repeats).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_core.emotions import IMAGE_SHAPE
from fer_core.errors import ConfigError

LATENCY_BATCH_SIZE = 64
"""The batch timed beside the single face (the default ``predict`` batch)."""
DEFAULT_BUDGET_S = 0.5
"""Wall-clock seconds one measurement aims to spend on timed calls (single face and batch together)."""
MIN_REPEATS = 3
MAX_REPEATS = 50
N_WARMUP = 2

PredictFn = Callable[[np.ndarray], Any]
"""Maps a uint8 batch (N, 48, 48, 1) to (N, 7) probabilities."""


@dataclass(frozen=True)
class Latency:
    """Median wall-clock time of one model call on this machine.

    Args:
        single_ms: One face per call, milliseconds.
        batch_ms: ``batch_size`` faces per call, milliseconds per call.
        batch_size: Faces in the batch call.
        n_single: Timed single-face calls (after the warm-up).
        n_batch: Timed batch calls.
    """

    single_ms: float
    batch_ms: float
    batch_size: int
    n_single: int
    n_batch: int

    def describe(self) -> str:
        return (f"{self.single_ms:.2f} ms per face, {self.batch_ms:.2f} ms per batch of {self.batch_size} "
                f"(median of {self.n_single} and {self.n_batch} calls)")


def measure_latency(
    predict: PredictFn, *, batch_size: int = LATENCY_BATCH_SIZE, budget_s: float = DEFAULT_BUDGET_S,
    seed: int = 0,
) -> Latency:
    """Times ``predict`` on one face and on ``batch_size`` faces (median after ``N_WARMUP`` untimed calls).

    Raises:
        ConfigError: ``batch_size`` < 1 or ``budget_s`` <= 0.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1 (got {batch_size})")
    if not budget_s > 0:
        raise ConfigError(f"budget_s must be > 0 seconds (got {budget_s})")
    faces = np.random.default_rng(seed).integers(0, 256, size=(batch_size, *IMAGE_SHAPE), dtype=np.uint8)
    single, n_single = _median_ms(predict, faces[:1], budget_s / 2)
    batch, n_batch = _median_ms(predict, faces, budget_s / 2)
    return Latency(single_ms=single, batch_ms=batch, batch_size=batch_size, n_single=n_single, n_batch=n_batch)


def keras_predict_fn(model: Any) -> PredictFn:
    """``model.predict_on_batch``: the call ``fer_core.evaluate.predict_proba`` makes per batch."""
    return model.predict_on_batch


def _median_ms(predict: PredictFn, batch: np.ndarray, budget_s: float) -> tuple[float, int]:
    for _ in range(N_WARMUP):
        predict(batch)
    first = _timed_s(predict, batch)
    n_repeats = int(min(MAX_REPEATS, max(MIN_REPEATS, budget_s / max(first, 1e-6))))
    times = [first] + [_timed_s(predict, batch) for _ in range(n_repeats - 1)]
    return statistics.median(times) * 1000.0, len(times)


def _timed_s(predict: PredictFn, batch: np.ndarray) -> float:
    started = time.perf_counter()
    predict(batch)
    return time.perf_counter() - started
