"""Choice of the Keras dtype policy: mixed precision where it pays (GPU), float32 elsewhere."""

from __future__ import annotations


def gpu_available() -> bool:
    """True when TensorFlow is importable and sees at least one GPU."""
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return bool(tf.config.list_physical_devices("GPU"))


def default_dtype_policy() -> str:
    """"mixed_float16" when a GPU is visible (tensor cores, half the memory), else "float32".

    On CPU mixed precision is slower than float32, so it is never chosen there.
    Pass the result to `fer_core.model.build_model(..., dtype_policy=...)`.
    """
    return "mixed_float16" if gpu_available() else "float32"
