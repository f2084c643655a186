"""Choice of the Keras dtype policy: mixed precision where the hardware computes it natively, float32 elsewhere."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from fer_core.errors import ConfigError

POLICY_ENV = "FER_DTYPE_POLICY"
"""Environment variable that overrides the automatic choice (one of `fer_core.model.DTYPE_POLICIES`)."""

_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
"""CPU flags (as /proc/cpuinfo spells them) of instructions that compute bfloat16 dot products in hardware."""


def gpu_available() -> bool:
    """True when TensorFlow is importable and sees at least one GPU."""
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return bool(tf.config.list_physical_devices("GPU"))


@functools.cache
def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises AVX512-BF16 or AMX-BF16 (Intel Cooper Lake+, Sapphire Rapids+, AMD Zen 4+).

    Without them TensorFlow emulates bfloat16, which is slower than float32, so it must not be chosen.
    """
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS.intersection(line.split(":", 1)[-1].split()))
    return False


def default_dtype_policy() -> str:
    """The policy candidates train in: ``$FER_DTYPE_POLICY`` when set, else the fastest one this machine computes well.

    - "mixed_float16" when a GPU is visible (tensor cores, half the memory);
    - "mixed_bfloat16" on CPUs with native bfloat16 dot products (1.2-1.4x the float32 throughput on
      compact candidates here, see docs/benchmarks.md); variables stay float32;
    - "float32" elsewhere (emulated half precision is slower than float32 on CPUs).

    Serving models are always float32 copies (`fer_core.model.as_float32`), whatever trained them.
    Pass the result to `fer_core.model.build_model(..., dtype_policy=...)`.
    """
    from fer_core.model import DTYPE_POLICIES

    chosen = os.environ.get(POLICY_ENV, "").strip()
    if chosen:
        if chosen not in DTYPE_POLICIES:
            raise ConfigError(f"{POLICY_ENV} must be one of {', '.join(DTYPE_POLICIES)} (got {chosen!r}); "
                              f"unset it to let the machine decide")
        return chosen
    if gpu_available():
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_has_native_bf16() else "float32"
