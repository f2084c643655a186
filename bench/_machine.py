"""The machine a benchmark ran on: CPU model, core count, load, and its own large-matmul speed.

A timing means little without the speed of the cores it was taken on, so benchmarks print these
beside every figure. The reference speed is TensorFlow's own dense matmul (oneDNN on CPUs): the
arithmetic rate that a training step of conv and dense layers could at best reach on these cores.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

MATMUL_SIZE = 2048
MATMUL_REPEATS = 5


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (zeros where the OS has none)."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def matmul_gflops(dtype: str = "float32", *, size: int = MATMUL_SIZE, repeats: int = MATMUL_REPEATS) -> float:
    """Best of ``repeats`` TensorFlow ``size`` x ``size`` matmuls in ``dtype``, in GFLOP/s (2 n^3 FLOPs each).

    One untimed matmul first (thread pools, oneDNN kernel selection). Eager CPU ops finish before
    they return; ``.numpy()`` of one element makes that explicit without copying the product.
    """
    import tensorflow as tf

    if size < 1 or repeats < 1:
        raise ValueError(f"size and repeats must be >= 1 (got size={size}, repeats={repeats})")
    generator = tf.random.Generator.from_seed(0)
    left = tf.cast(generator.uniform((size, size)), dtype)
    right = tf.cast(generator.uniform((size, size)), dtype)
    tf.matmul(left, right)[0, 0].numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        tf.matmul(left, right)[0, 0].numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9
