"""Where a study's records live by default: ``./mlruns`` of the working directory.

MLflow's tracking database and artifacts, the Optuna study database and, for ``--engine keras-tuner``,
Keras Tuner's project folders sit side by side there, so one folder holds everything a study produced.
``MLFLOW_TRACKING_URI`` overrides the tracking store and ``--storage`` the Optuna storage.
"""

from __future__ import annotations

import os
from pathlib import Path

MLRUNS_DIRNAME = "mlruns"
TRACKING_DB_NAME = "mlflow.db"
STUDY_DB_NAME = "optuna.db"
ARTIFACTS_DIRNAME = "artifacts"
REFIT_DIRNAME = "refit"
KERAS_TUNER_DIRNAME = "keras_tuner"


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


def refit_dir(study_name: str) -> Path:
    """Checkpoints of a study's refits (``search refit``): ``./mlruns/refit/<study>``.

    Local working state, kept beside the default stores even when the tracking store is a server.
    """
    return mlruns_dir() / REFIT_DIRNAME / study_name


def ensure_local_store() -> None:
    """Create ``./mlruns`` when the default (local) stores are in use."""
    mlruns_dir().mkdir(parents=True, exist_ok=True)


def keras_tuner_dir(study_name: str) -> Path:
    """Keras Tuner's project folder of a study (``run --engine keras-tuner``): ``./mlruns/keras_tuner/<study>``.

    It holds the oracle's state (``oracle.json``), one ``trial_<id>/trial.json`` per Keras Tuner trial and,
    for Hyperband, the ``checkpoint.weights.h5`` a later round continues from. Local working state, kept
    beside the default stores even when the tracking store is a server.
    """
    return mlruns_dir() / KERAS_TUNER_DIRNAME / study_name
