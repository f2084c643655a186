"""Loading a logged MLflow Keras model: the one way every stage loads one (Keras safe mode, not compiled).

The loaded models are only used for inference (``predict_on_batch``, or wrapped into a TTA or ensemble model
that is logged again), so they are not compiled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from search import paths as _paths
from search.errors import NotFoundError

if TYPE_CHECKING:
    import keras


def load_keras_model(uri: str, *, tracking_uri: str | None = None) -> keras.Model:
    """Loads the MLflow Keras model at ``uri`` (``models:/...``, ``runs:/...``) in safe mode, uncompiled.

    ``tracking_uri`` is set as MLflow's tracking URI first; by default the one in use (a StudyTracker sets it).
    """
    import mlflow
    import mlflow.keras

    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    return mlflow.keras.load_model(uri, load_model_kwargs={"safe_mode": True, "compile": False})


def load_keras_model_from_store(uri: str, *, hint: str, tracking_uri: str | None = None) -> keras.Model:
    """``load_keras_model`` on the default tracking store, with a NotFoundError that ends with ``hint``.

    Raises:
        NotFoundError: The local store does not exist, or the store has no such model.
    """
    from mlflow.exceptions import MlflowException

    tracking_uri = tracking_uri or _paths.default_tracking_uri()
    local_db = Path(tracking_uri.removeprefix("sqlite:///")) if tracking_uri.startswith("sqlite:///") else None
    if local_db is not None and not local_db.is_file():
        raise NotFoundError(f"Cannot load {uri}: there is no MLflow store at {local_db}; {hint}")
    try:
        return load_keras_model(uri, tracking_uri=tracking_uri)
    except (MlflowException, OSError) as error:
        reason = str(getattr(error, "message", error)).strip().splitlines()[0]
        raise NotFoundError(f"Cannot load {uri} from {tracking_uri}: {reason}; {hint}") from None
