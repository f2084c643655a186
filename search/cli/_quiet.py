"""Quiets the libraries' start-up chatter (TensorFlow, Optuna, MLflow, Keras) so people read our lines."""

from __future__ import annotations

import os
import sys


def quiet_libraries() -> None:
    """Imports TensorFlow with its C++ start-up lines silenced and lowers the libraries' log levels."""
    import logging
    import warnings

    import optuna

    _import_tensorflow_quietly()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    warnings.filterwarnings("ignore", category=FutureWarning)


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow and probes for GPUs with stderr silenced.

    TensorFlow's C++ start-up lines (oneDNN, "could not find cuda drivers", cuInit) are printed before
    TF_CPP_MIN_LOG_LEVEL takes effect; they would bury the progress lines users read.
    """
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    except ImportError:
        pass  # another Keras backend: nothing to silence
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


__all__ = ["quiet_libraries"]
