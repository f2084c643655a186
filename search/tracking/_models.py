"""Loading a logged MLflow Keras model: the one way every stage loads one (Keras safe mode, not compiled).

The loaded models are only used for inference (``predict_on_batch``, or wrapped into a TTA or ensemble model
that is logged again), so they are not compiled.

A model logged with ``save_exported_model=True`` is a TensorFlow SavedModel: MLflow loads it with
``tf.saved_model.load``, which has no safe mode (its graph may read and write files, and more). Such a model
is refused unless the caller trusts it explicitly (``trust_saved_model=True``, ``predict --trust-saved-model``);
the model's ``MLmodel`` file decides, read before anything else of the model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from search import paths as _paths
from search.errors import NotFoundError, SearchError
from search.redaction import redact_text, redact_url

if TYPE_CHECKING:
    import keras


KERAS_FLAVOR = "keras"
EXPORTED_MODEL_KEY = "save_exported_model"
TRUST_FLAG = "--trust-saved-model"


class UntrustedModelError(SearchError):
    """A model would load through ``tf.saved_model.load`` (no safe mode) and the user did not trust it."""


def load_keras_model(uri: str, *, tracking_uri: str | None = None, trust_saved_model: bool = False) -> keras.Model:
    """Loads the MLflow Keras model at ``uri`` (``models:/...``, ``runs:/...``) in safe mode, uncompiled.

    ``tracking_uri`` is set as MLflow's tracking URI first; by default the one in use (a StudyTracker sets it).

    Raises:
        UntrustedModelError: The model's MLmodel says it is a TensorFlow SavedModel (``save_exported_model``)
            or has no Keras flavour, and ``trust_saved_model`` is False.
    """
    import mlflow
    import mlflow.artifacts
    import mlflow.keras

    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    local_path = mlflow.artifacts.download_artifacts(artifact_uri=uri)
    flavor = check_model_format(Path(local_path), uri, trust_saved_model=trust_saved_model)
    if flavor.get(EXPORTED_MODEL_KEY):
        return _exported_as_keras_model(Path(local_path), str(flavor.get("data", "data")))
    return mlflow.keras.load_model(local_path, load_model_kwargs={"safe_mode": True, "compile": False})


def check_model_format(model_dir: Path, uri: str, *, trust_saved_model: bool = False) -> dict[str, Any]:
    """The Keras flavour of the MLflow model in ``model_dir``, once it is known to be safe to load.

    A ``.keras`` file is (safe mode); an exported SavedModel (``save_exported_model: true``) only when trusted.

    Raises:
        UntrustedModelError: It is an exported SavedModel or not a Keras model at all, and not trusted.
        NotFoundError: ``model_dir`` has no readable MLmodel file.
    """
    import yaml

    try:
        mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise NotFoundError(f"Cannot read the MLmodel file of {redact_url(uri)}: {error}") from None
    flavor = (mlmodel.get("flavors") or {}).get(KERAS_FLAVOR) if isinstance(mlmodel, dict) else None
    if not isinstance(flavor, dict):
        raise UntrustedModelError(
            f"{redact_url(uri)} is not a Keras model (its MLmodel has no '{KERAS_FLAVOR}' flavour); only Keras "
            "models logged by fer-search (.keras files, loaded in safe mode) can be loaded."
        )
    exported = bool(flavor.get(EXPORTED_MODEL_KEY))
    if exported and not trust_saved_model:
        raise UntrustedModelError(
            f"{redact_url(uri)} is a TensorFlow SavedModel (MLmodel: {EXPORTED_MODEL_KEY}: true): it loads "
            "through tf.saved_model.load, which has no safe mode and runs whatever graph the file holds. "
            f"Pass {TRUST_FLAG} only if you trust where it came from."
        )
    return flavor


def _exported_as_keras_model(model_dir: Path, data_dir: str) -> keras.Model:
    """A trusted SavedModel as a Keras model (its ``serve`` endpoint in a ``TFSMLayer``), for prediction."""
    import keras

    saved = model_dir / data_dir
    if saved.is_dir() and (saved / "model").is_dir():  # where mlflow.keras saves it: data/model
        saved = saved / "model"
    layer = keras.layers.TFSMLayer(str(saved), call_endpoint="serve")
    args, _kwargs = layer.call_endpoint_fn.concrete_functions[0].structured_input_signature
    spec = args[0]
    inputs = keras.Input(shape=tuple(spec.shape[1:]), dtype=spec.dtype.name)
    return keras.Model(inputs, layer(inputs))


def load_keras_model_from_store(uri: str, *, hint: str, tracking_uri: str | None = None,
                                trust_saved_model: bool = False) -> keras.Model:
    """``load_keras_model`` on the default tracking store, with a NotFoundError that ends with ``hint``.

    Raises:
        NotFoundError: The local store does not exist, or the store has no such model.
        UntrustedModelError: As ``load_keras_model``.
    """
    from mlflow.exceptions import MlflowException

    tracking_uri = tracking_uri or _paths.default_tracking_uri()
    local_db = Path(tracking_uri.removeprefix("sqlite:///")) if tracking_uri.startswith("sqlite:///") else None
    if local_db is not None and not local_db.is_file():
        raise NotFoundError(f"Cannot load {uri}: there is no MLflow store at {local_db}; {hint}")
    try:
        return load_keras_model(uri, tracking_uri=tracking_uri, trust_saved_model=trust_saved_model)
    except (MlflowException, OSError) as error:
        reason = redact_text(str(getattr(error, "message", error)).strip().splitlines()[0], uri, tracking_uri)
        raise NotFoundError(f"Cannot load {redact_url(uri)} from {redact_url(tracking_uri)}: {reason}; {hint}") \
            from None
