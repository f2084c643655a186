"""Save and load models in Keras' native ``.keras`` format, atomically and safely."""

from __future__ import annotations

import os
import uuid
import zipfile
from pathlib import Path

import keras

from fer_core.errors import FerError

MODEL_SUFFIX = ".keras"


def save_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` (a ``.keras`` file) and return the path.

    The model is written to a temporary name in the same folder and then renamed, so readers never
    see a half-written file and an existing file is replaced only by a complete one.
    """
    target = Path(path)
    if target.suffix != MODEL_SUFFIX:
        raise FerError(
            f"Model path must end with {MODEL_SUFFIX} (got {str(target)!r}); "
            f"Keras' native format needs that suffix"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{uuid.uuid4().hex}.tmp{MODEL_SUFFIX}")
    try:
        model.save(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def load_model(path: str | os.PathLike[str], *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True`` (no arbitrary code from the file).

    Args:
        path: The ``.keras`` file.
        compile: Restore the optimizer, loss and metrics saved with a compiled model; pass False to
            load for inference only.

    Raises:
        FerError: When the file is missing or is not a loadable Keras model.
    """
    source = Path(path)
    if not source.is_file():
        raise FerError(f"Model file not found: {str(source)!r}; save one with save_model(model, path)")
    try:
        return keras.models.load_model(source, compile=compile, safe_mode=True)
    except (ValueError, OSError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise FerError(
            f"{str(source)!r} is not a loadable Keras model ({type(error).__name__}: {error}); "
            f"expected a native .keras file written by save_model"
        ) from error
