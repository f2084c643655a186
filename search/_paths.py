"""Where a study's records live by default: ``./mlruns`` of the working directory.

MLflow's tracking database and artifacts, and the Optuna study database, sit side by side there, so
one folder holds everything a study produced. ``MLFLOW_TRACKING_URI`` overrides the tracking store and
``--storage`` the Optuna storage.
"""

from __future__ import annotations

import os
from pathlib import Path

MLRUNS_DIRNAME = "mlruns"
TRACKING_DB_NAME = "mlflow.db"
STUDY_DB_NAME = "optuna.db"
ARTIFACTS_DIRNAME = "artifacts"


def mlruns_dir() -> Path:
    """The project's local store, ``./mlruns`` resolved against the working directory."""
    return Path.cwd() / MLRUNS_DIRNAME


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` when set, else a SQLite database in ``./mlruns``."""
    from_env = os.environ.get("MLFLOW_TRACKING_URI")
    if from_env:
        return from_env
    return f"sqlite:///{mlruns_dir() / TRACKING_DB_NAME}"


def default_study_storage() -> str:
    """The Optuna storage used when ``--storage`` is not given: a SQLite database in ``./mlruns``."""
    return f"sqlite:///{mlruns_dir() / STUDY_DB_NAME}"


def default_artifact_location(experiment_name: str) -> str | None:
    """Artifact root for a new experiment: ``./mlruns/artifacts/<name>`` for a local store.

    Returns None (the tracking server decides) when the tracking URI points at a server.
    """
    uri = default_tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    return (mlruns_dir() / ARTIFACTS_DIRNAME / experiment_name).as_uri()


def ensure_local_store() -> None:
    """Create ``./mlruns`` when the default (local) stores are in use."""
    mlruns_dir().mkdir(parents=True, exist_ok=True)
