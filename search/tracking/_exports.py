"""Logging an exported model file on the registered version's run, and its figures as version tags."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow import MlflowClient

from search import paths as _paths


def log_version_export(version: Any, file: Path, artifact_dir: str, tags: Mapping[str, str], *,
                       tracking_uri: str | None = None) -> str | None:
    """Logs ``file`` under ``artifact_dir`` of ``version``'s run and sets ``tags`` on the version.

    Returns:
        The artifact's ``runs:/`` URI, or None when the version has no run (its tags are set all the same).
    """
    client = MlflowClient(tracking_uri or _paths.default_tracking_uri())
    uri = None
    if version.run_id:
        if file.is_dir():
            client.log_artifacts(version.run_id, str(file), f"{artifact_dir}/{file.name}")
        else:
            client.log_artifact(version.run_id, str(file), artifact_dir)
        uri = f"runs:/{version.run_id}/{artifact_dir}/{file.name}"
    for key, value in tags.items():
        client.set_model_version_tag(version.name, version.version, key, value)
    return uri
