"""Opening an exported model with its own runtime: ONNX Runtime, the LiteRT interpreter, or TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from search.export._formats import ExportFormat


def open_exported(path: Path, export_format: ExportFormat) -> Any:
    """A model with ``predict_on_batch`` (uint8 faces -> probabilities) run by ``export_format``'s runtime."""
    if export_format.name == "saved_model":
        return _SavedModelRunner(path)
    from fer_core.predict import load_exported_model

    return load_exported_model(path)


class _SavedModelRunner:
    """A SavedModel this command just wrote, run by TensorFlow through its ``serve`` endpoint."""

    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        self._loaded = tf.saved_model.load(str(path))  # kept: its functions reference its variables
        self._serve = self._loaded.serve

    def predict_on_batch(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self._serve(np.ascontiguousarray(images, dtype=np.uint8)), dtype=np.float32)
