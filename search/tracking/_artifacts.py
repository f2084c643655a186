"""Reads small text artifacts of a run (the study's parent run) through the MLflow client."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from mlflow import MlflowClient

_PROGRESS_BAR_VARIABLE = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


def read_run_text(client: MlflowClient, run_id: str, artifact_path: str) -> str | None:
    """The text of ``artifact_path`` logged on ``run_id``, or None when the run has no such artifact.

    Listing the parent folder first keeps a missing artifact an ordinary answer rather than an
    exception whose type depends on the artifact store.
    """
    parent = str(PurePosixPath(artifact_path).parent)
    listed = client.list_artifacts(run_id, None if parent == "." else parent)
    if not any(entry.path == artifact_path and not entry.is_dir for entry in listed):
        return None
    with tempfile.TemporaryDirectory(prefix="fer-report-") as folder:
        local = client.download_artifacts(run_id, artifact_path, dst_path=folder)
        return Path(local).read_text(encoding="utf-8")


@contextmanager
def quiet_artifact_downloads() -> Iterator[None]:
    """Hides MLflow's download progress bars while the report reads artifacts and models.

    MLflow reads the switch from the environment on every download; the previous value is restored.
    """
    previous = os.environ.get(_PROGRESS_BAR_VARIABLE)
    os.environ[_PROGRESS_BAR_VARIABLE] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_PROGRESS_BAR_VARIABLE, None)
        else:
            os.environ[_PROGRESS_BAR_VARIABLE] = previous
