"""The MLflow Model Registry: registering a model version under an alias, and reading versions back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from search import paths as _paths

REGISTRY_URI_PREFIX = "models:/"
LOGGED_MODEL_URI_PREFIX = "models:/m-"


def register_version(client: Any, name: str, *, source: str, run_id: str | None, model_id: str | None,
                     tags: Mapping[str, str], alias: str, description: str) -> str:
    """Registers ``source`` as a new version of ``name`` (created when missing) and points ``alias`` at it.

    Returns the new version number.
    """
    try:
        client.create_registered_model(name, description=description)
    except MlflowException as error:
        if "RESOURCE_ALREADY_EXISTS" not in str(error.error_code):
            raise
    version = client.create_model_version(name, source=source, run_id=run_id, tags=dict(tags), model_id=model_id)
    client.set_registered_model_alias(name, alias, version.version)
    return str(version.version)


def version_by_alias(client: Any, name: str, alias: str) -> Any | None:
    """The ModelVersion that ``name@alias`` points at; None when there is no such model or alias."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def versions_made_from(client: Any, *, run_id: str | None, model_id: str | None) -> list[Any]:
    """Registered versions whose files may be a run's or a logged model's: made however they were registered.

    A version points at them by its run id, or by a source that names the logged model (``models:/m-…``,
    its artifact folder) or the run (``runs:/…``, the run's artifact folder). Not only versions ``promote``
    made: one registered through the MLflow UI or API counts the same. Empty when none.
    """
    filters = [f"run_id = '{run_id}'"] if run_id and _is_plain_id(run_id) else []
    filters += [f"source_path LIKE '%{key}%'" for key in (model_id, run_id) if key and _is_plain_id(key)]
    versions: list[Any] = []
    for filter_string in filters:
        versions += client.search_model_versions(filter_string, max_results=10)
    return versions


def _is_plain_id(key: str) -> bool:
    """An MLflow run or logged-model id: letters, digits and dashes (safe inside a filter's quotes)."""
    return all(char.isalnum() or char in "-_" for char in key)


def registered_version(spec: str, *, tracking_uri: str | None = None) -> Any:
    """The registry's ModelVersion for ``models:/name@alias`` or ``models:/name/N``; None for other specs.

    Raises:
        MlflowException: The registry has no such model, alias or version.
    """
    if not spec.startswith(REGISTRY_URI_PREFIX) or spec.startswith(LOGGED_MODEL_URI_PREFIX):
        return None
    name_and_ref = spec.removeprefix(REGISTRY_URI_PREFIX)
    client = MlflowClient(tracking_uri or _paths.default_tracking_uri())
    if "@" in name_and_ref:
        name, alias = name_and_ref.split("@", 1)
        return client.get_model_version_by_alias(name, alias)
    name, _, version = name_and_ref.rpartition("/")
    return client.get_model_version(name, version) if name and version.isdigit() else None
