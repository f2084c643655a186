"""The MLflow layer: one experiment per study, a parent run per study, a nested run per trial.

Written here rather than with Optuna's (deprecated) MLflowCallback, which logs only final values: we log
every epoch, the trial's final state and reason, and point trial and run at each other.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlparse

import mlflow
from mlflow import MlflowClient
from mlflow.entities import LoggedModel as MlflowLoggedModel
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException

from search import paths as _paths
from search.errors import TrackingError
from search.redaction import redact_text, redact_url
from search.signals import stops_deferred
from search.tracking._artifacts import read_run_text
from search.tracking._datasets import SplitDataset
from search.tracking._keys import (
    CUSTOM_MODEL_KIND,
    EXPERIMENT_KIND_TAG,
    MODEL_ARTIFACT,
    MODEL_ID_TAG,
    PARENT_TAG,
    REASON_TAG,
    ROLE_TAG,
    STATE_TAG,
    STUDY_ROLE,
    STUDY_TAG,
    TRIAL_ROLE,
    TRIAL_TAG,
)
from search.tracking._registry import register_version, version_by_alias, versions_made_from

if TYPE_CHECKING:
    import keras


class TrialState(str, Enum):
    """Final state of a trial's run (the MLflow run status follows from it)."""

    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def run_status(self) -> str:
        return {
            TrialState.COMPLETE: "FINISHED",
            TrialState.PRUNED: "FINISHED",
            TrialState.FAILED: "FAILED",
            TrialState.INTERRUPTED: "KILLED",
        }[self]


@dataclass(frozen=True)
class LoggedModel:
    """Where a trial's model was logged."""

    model_id: str
    model_uri: str


class StudyTracker:
    """Owns the study's experiment and parent run on one tracking store.

    Args:
        study_name: The Optuna study name; the experiment gets the same name.
        tracking_uri: MLflow tracking URI (default: ``./mlruns/mlflow.db``, or ``$MLFLOW_TRACKING_URI``).
    """

    def __init__(self, study_name: str, tracking_uri: str | None = None) -> None:
        self.study_name = study_name
        self.tracking_uri = tracking_uri or _paths.default_tracking_uri()
        if self.tracking_uri.startswith("sqlite:///"):
            _paths.ensure_local_store()
        mlflow.set_tracking_uri(self.tracking_uri)
        # A proxy with MlflowClient's interface (every call completes before a stop acts).
        self.client = cast(MlflowClient, _StopSafeClient(MlflowClient(self.tracking_uri)))
        try:
            self.experiment_id = self._ensure_experiment()
        except MlflowException as error:
            reason = redact_text(str(error).splitlines()[0], self.tracking_uri)
            raise TrackingError(
                f"Cannot use the MLflow tracking store {redact_url(self.tracking_uri)}: {reason}"
            ) from None

    def _ensure_experiment(self) -> str:
        """The study's experiment (created, or restored when deleted), marked as model development.

        The kind tag is set on an experiment that lacks it too (studies made before it existed), so MLflow's
        UI opens every study on its runs rather than guessing a GenAI experiment.
        """
        experiment = self.client.get_experiment_by_name(self.study_name)
        if experiment is None:
            try:
                return self.client.create_experiment(
                    self.study_name, artifact_location=_paths.default_artifact_location(self.study_name),
                    tags={EXPERIMENT_KIND_TAG: CUSTOM_MODEL_KIND},
                )
            except MlflowException:
                # Another worker created it first.
                experiment = self.client.get_experiment_by_name(self.study_name)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage == "deleted":
            self.client.restore_experiment(experiment.experiment_id)
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != CUSTOM_MODEL_KIND:
            self.client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, CUSTOM_MODEL_KIND)
        return experiment.experiment_id

    # --- parent run -------------------------------------------------------------------------------
    def find_parent_run_id(self) -> str | None:
        """The study's parent run, if one was opened before."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{ROLE_TAG}` = '{STUDY_ROLE}' and tags.`{STUDY_TAG}` = '{self.study_name}'",
            max_results=1,
        )
        return runs[0].info.run_id if runs else None

    def open_parent_run(self) -> tuple[str, bool]:
        """Returns ``(run_id, created)``; an existing parent run is reopened (set RUNNING)."""
        run_id = self.find_parent_run_id()
        if run_id is not None:
            self.client.update_run(run_id, status="RUNNING")
            return run_id, False
        run = self.client.create_run(
            self.experiment_id,
            run_name=self.study_name,
            tags={ROLE_TAG: STUDY_ROLE, STUDY_TAG: self.study_name},
        )
        return run.info.run_id, True

    def close_run(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status=status)

    def reopen_run(self, run_id: str) -> None:
        """Sets an ended run RUNNING again (a resumed refit continues its own run)."""
        self.client.update_run(run_id, status="RUNNING")

    # --- nested runs ------------------------------------------------------------------------------
    def start_nested_run(self, parent_run_id: str, role: str, run_name: str,
                         tags: Mapping[str, str] | None = None) -> str:
        """Opens a run nested under the study's parent run, tagged with its ``role``, the study and ``tags``."""
        run = self.client.create_run(
            self.experiment_id,
            run_name=run_name,
            tags={PARENT_TAG: parent_run_id, ROLE_TAG: role, STUDY_TAG: self.study_name, **(tags or {})},
        )
        return run.info.run_id

    def nested_runs(self, parent_run_id: str, role: str, *, tags: Mapping[str, str] | None = None,
                    running_only: bool = False, max_results: int | None = None) -> list[Any]:
        """The runs nested under the parent run with ``role`` and every tag in ``tags`` (optionally RUNNING only).

        ``max_results``: MLflow's default (1000) when None.
        """
        conditions = [f"tags.`{PARENT_TAG}` = '{parent_run_id}'", f"tags.`{ROLE_TAG}` = '{role}'"]
        conditions += [f"tags.`{key}` = '{value}'" for key, value in (tags or {}).items()]
        if running_only:
            conditions.append("attributes.status = 'RUNNING'")
        filter_string = " and ".join(conditions)
        if max_results is None:
            return self.client.search_runs([self.experiment_id], filter_string=filter_string)
        return self.client.search_runs([self.experiment_id], filter_string=filter_string, max_results=max_results)

    # --- trial runs -------------------------------------------------------------------------------
    def start_trial_run(self, parent_run_id: str, trial_number: int) -> str:
        return self.start_nested_run(parent_run_id, TRIAL_ROLE, f"trial-{trial_number:04d}",
                                     {TRIAL_TAG: str(trial_number), STATE_TAG: "running"})

    def finish_trial_run(self, run_id: str, state: TrialState, reason: str | None = None) -> None:
        """Records the final state (and reason) and terminates the run."""
        tags = [RunTag(STATE_TAG, state.value)]
        if reason:
            tags.append(RunTag(REASON_TAG, reason[:5000]))
        self.client.log_batch(run_id, tags=tags)
        self.client.set_terminated(run_id, status=state.run_status)

    def trial_runs(self, parent_run_id: str) -> list[Any]:
        """Every nested trial run of the study (all states); refit and ensemble runs are not trial runs."""
        return self.nested_runs(parent_run_id, TRIAL_ROLE, max_results=50_000)

    def close_stale_trial_runs(self, parent_run_id: str, is_stale: Callable[[int], bool]) -> int:
        """Ends as KILLED every trial run still RUNNING whose trial ``is_stale`` (by trial number)."""
        n_closed = 0
        for run in self.trial_runs(parent_run_id):
            trial_number = int(run.data.tags.get(TRIAL_TAG, -1))
            if run.info.status == "RUNNING" and is_stale(trial_number):
                self.finish_trial_run(run.info.run_id, TrialState.INTERRUPTED, "the process running it died")
                n_closed += 1
        return n_closed

    # --- reading runs -----------------------------------------------------------------------------
    def run_tags(self, run_id: str) -> dict[str, str]:
        """The run's tags (MlflowException when there is no such run)."""
        return dict(self.client.get_run(run_id).data.tags)

    def run_params(self, run_id: str) -> dict[str, str] | None:
        """The run's parameters; None when the run cannot be read (no such run)."""
        try:
            return dict(self.client.get_run(run_id).data.params)
        except MlflowException:
            return None

    def metric_steps(self, run_id: str, key: str) -> set[int]:
        """The steps at which metric ``key`` was logged on the run."""
        return {metric.step for metric in self.client.get_metric_history(run_id, key)}

    def read_text(self, run_id: str, artifact_path: str) -> str | None:
        """The text of a small artifact of the run, or None when it has none (see ``read_run_text``)."""
        return read_run_text(self.client, run_id, artifact_path)

    # --- logging helpers --------------------------------------------------------------------------
    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        items = [Param(key, _param_text(value)) for key, value in params.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[start : start + 100])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        items = [Metric(key, float(value), now, step) for key, value in metrics.items() if _finite(value)]
        if items:
            self.client.log_batch(run_id, metrics=items)

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        self.client.log_batch(run_id, tags=[RunTag(key, str(value)) for key, value in tags.items()])

    def log_dataset_inputs(self, run_id: str, datasets: Sequence[SplitDataset]) -> None:
        """Records ``datasets`` as the run's inputs (MLflow datasets with their context; no data is copied).

        Logging a dataset the run already has as input changes nothing.
        """
        if datasets:
            self.client.log_inputs(run_id, datasets=[dataset.to_mlflow() for dataset in datasets])

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self.client.log_text(run_id, text, artifact_file)

    def log_dict(self, run_id: str, data: Any, artifact_file: str) -> None:
        self.client.log_text(run_id, json.dumps(data, indent=2, default=str), artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Logs a plotly figure as a self-contained HTML artifact."""
        self.client.log_text(run_id, figure.to_html(include_plotlyjs="cdn", full_html=True), artifact_file)

    # --- models -----------------------------------------------------------------------------------
    def log_keras_model(self, run_id: str, model: keras.Model, *, name: str = MODEL_ARTIFACT,
                        id_tag: str = MODEL_ID_TAG) -> LoggedModel:
        """Logs a float32 copy of ``model`` as an MLflow Keras model (uint8-in, probabilities-out signature).

        ``name`` is the logged model's name; the run's ``id_tag`` tag records its id. Whatever precision
        trained it (mixed bfloat16 on CPUs that compute it natively), the served model is float32.
        """
        from fer_core.model import as_float32

        model = as_float32(model)
        # Called just before the trial's run is finished: leaving the fluent run marks it FINISHED,
        # and finish_trial_run then records the trial's own state.
        with stops_deferred(), mlflow.start_run(run_id=run_id):
            info = mlflow.keras.log_model(
                model,
                name=name,
                signature=model_signature(),
                pip_requirements=_pip_requirements(),
            )
        self.set_tags(run_id, {id_tag: info.model_id})
        return LoggedModel(model_id=info.model_id, model_uri=info.model_uri)

    def find_logged_model(self, model_id: str | None) -> MlflowLoggedModel | None:
        """MLflow's record of logged model ``model_id``, or None when there is none (no id, or deleted)."""
        if not model_id:
            return None
        try:
            return self.client.get_logged_model(model_id)  # a deleted model is not found
        except MlflowException:
            return None

    def delete_logged_model(self, model_id: str) -> None:
        """Deletes a logged model and, on a local store, its files (bounds the disk a study uses).

        A model already deleted (by another worker) is left alone.
        """
        model = self.find_logged_model(model_id)
        if model is None:
            return
        try:
            self.client.delete_logged_model(model_id)
        except MlflowException:
            return
        local_dir = _local_path(model.artifact_location)
        if local_dir is not None and local_dir.exists():
            shutil.rmtree(local_dir.parent if local_dir.name == "artifacts" else local_dir, ignore_errors=True)


    # --- registry ---------------------------------------------------------------------------------
    def register_model_version(self, name: str, *, source: str, run_id: str | None, model_id: str | None,
                               tags: Mapping[str, str], alias: str, description: str) -> str:
        """Registers ``source`` as a new version of ``name`` and points ``alias`` at it; returns the version."""
        return register_version(self.client, name, source=source, run_id=run_id, model_id=model_id,
                                tags=tags, alias=alias, description=description)

    def model_version_by_alias(self, name: str, alias: str) -> Any | None:
        """The ModelVersion ``name@alias`` points at; None when there is no such model or alias."""
        return version_by_alias(self.client, name, alias)

    def is_registered(self, run_id: str | None, model_id: str | None) -> bool:
        """Whether any registered version points at the run's or the logged model's files (see ``versions_made_from``).

        True also when the registry cannot be asked: a model is deleted only when the registry said no.
        """
        try:
            return bool(versions_made_from(self.client, run_id=run_id, model_id=model_id))
        except MlflowException:
            return True


class _StopSafeClient:
    """An MlflowClient whose calls finish before a Ctrl-C or SIGTERM acts (``stops_deferred``).

    A stop that lands inside a SQLite store call can leave the database locked, and the trial's own
    "interrupted" record would then fail; each call is short, and a second stop still acts at once.
    """

    def __init__(self, client: MlflowClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call_then_stop(*args: Any, **kwargs: Any) -> Any:
            with stops_deferred():
                return attribute(*args, **kwargs)

        return call_then_stop


def model_signature() -> Any:
    """uint8 faces (N, 48, 48, 1) in, float32 class probabilities (N, 7) out."""
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype("uint8"), (-1, 48, 48, 1), "image")]),
        outputs=Schema([TensorSpec(np.dtype("float32"), (-1, 7), "probabilities")]),
    )


def _pip_requirements() -> list[str]:
    # Given explicitly: inferring them would load the model again in a subprocess for every trial.
    from importlib.metadata import version

    return [f"tensorflow=={version('tensorflow')}", f"keras=={version('keras')}"]


def _local_path(uri: str | None) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path))
    return None


def _param_text(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text[:6000]


def _finite(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number == number and abs(number) != float("inf")


__all__ = ["LoggedModel", "RunStatus", "StudyTracker", "TrialState", "model_signature"]
