"""Evaluation runs: a model scored on a labelled set from elsewhere, recorded in MLflow and on its version.

An evaluation of a registered version whose study is known is a run nested under the study's parent run (so
the study's page and report list it); any other model's goes to the ``evaluations`` experiment. The version
itself gets ``eval.<name>.*`` tags, so ``best``, ``promote`` and the registry UI show the number beside the
test accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from search import paths as _paths
from search.errors import NotFoundError
from search.tracking._keys import (
    EVAL_VERSION_TAG_PREFIX,
    EVALUATION_ARTIFACT,
    EVALUATION_CONFUSION_ARTIFACT,
    EVALUATION_ROLE,
    EVALUATIONS_EXPERIMENT,
    ROLE_TAG,
    STUDY_TAG,
    VERSION_STUDY_TAG,
)
from search.tracking._registry import LOGGED_MODEL_URI_PREFIX, registered_version

if TYPE_CHECKING:
    from search.tracking._tracker import StudyTracker


@dataclass(frozen=True)
class ModelOrigin:
    """Where an evaluated model comes from, as far as the store knows.

    Args:
        uri: The URI or path the user gave.
        name: Registered model name (None unless a registry URI).
        version: Registered version number (None unless a registry URI).
        run_id: The run that logged the model (None when unknown).
        study: The study the model was selected in (None when unknown).
        version_tags: The registered version's tags (empty unless a registry URI).
    """

    uri: str
    name: str | None = None
    version: str | None = None
    run_id: str | None = None
    study: str | None = None
    version_tags: Mapping[str, str] = field(default_factory=dict)


def model_origin(uri: str, *, tracking_uri: str | None = None) -> ModelOrigin:
    """The registered version, run and study behind ``uri`` (registry, logged-model or run URI; else bare).

    Raises:
        NotFoundError: A registry URI whose model, alias or version does not exist.
    """
    try:
        version = registered_version(uri)
    except MlflowException as error:
        reason = str(getattr(error, "message", error)).strip().splitlines()[0]
        raise NotFoundError(f"No registered model version {uri}: {reason}; promote a study first "
                            "(`python -m search promote`) or pass --model with another URI or a .keras file") from None
    if version is not None:
        tags = dict(version.tags)
        return ModelOrigin(uri=uri, name=version.name, version=str(version.version), run_id=version.run_id,
                           study=tags.get(VERSION_STUDY_TAG), version_tags=tags)
    client = MlflowClient(tracking_uri or _paths.default_tracking_uri())
    run_id = _logged_model_run(client, uri)
    study = _run_tags(client, run_id).get(STUDY_TAG) if run_id else None
    return ModelOrigin(uri=uri, run_id=run_id, study=study)


def evaluation_tracker_name(origin: ModelOrigin) -> str:
    """The experiment an evaluation of ``origin`` is recorded in: its study's, else ``evaluations``."""
    return origin.study or EVALUATIONS_EXPERIMENT


def record_evaluation(tracker: StudyTracker, *, run_name: str, tags: Mapping[str, str],
                      metrics: Mapping[str, float], result: Mapping[str, Any], figure: Any) -> str:
    """Opens, fills and finishes an evaluation run (nested under the study's parent run when there is one)."""
    parent_run_id = tracker.find_parent_run_id() if tracker.study_name != EVALUATIONS_EXPERIMENT else None
    if parent_run_id is not None:
        run_id = tracker.start_nested_run(parent_run_id, EVALUATION_ROLE, run_name, dict(tags))
    else:
        run_id = tracker.client.create_run(tracker.experiment_id, run_name=run_name,
                                           tags={ROLE_TAG: EVALUATION_ROLE, **tags}).info.run_id
    try:
        tracker.log_metrics(run_id, metrics)
        tracker.log_dict(run_id, dict(result), EVALUATION_ARTIFACT)
        tracker.log_figure(run_id, figure, EVALUATION_CONFUSION_ARTIFACT)
    except BaseException:
        tracker.client.set_terminated(run_id, status="FAILED")
        raise
    tracker.client.set_terminated(run_id, status="FINISHED")
    return run_id


def tag_version(tracker: StudyTracker, name: str, version: str, tags: Mapping[str, str]) -> None:
    """Sets ``tags`` on registered version ``name``/``version``."""
    for key, value in tags.items():
        tracker.client.set_model_version_tag(name, version, key, value)


def evaluation_runs(tracker: StudyTracker) -> list[Any]:
    """The study's finished evaluation runs, newest first (MLflow ``Run`` objects)."""
    parent_run_id = tracker.find_parent_run_id()
    if parent_run_id is None:
        return []
    runs = tracker.nested_runs(parent_run_id, EVALUATION_ROLE)
    return sorted((run for run in runs if run.info.status == "FINISHED"), key=lambda run: -run.info.start_time)


def version_evaluations(tags: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``eval.<name>.<field>`` version tags grouped by evaluation name: ``{name: {field: value}}``."""
    grouped: dict[str, dict[str, str]] = {}
    for key, value in tags.items():
        if key.startswith(EVAL_VERSION_TAG_PREFIX):
            name, _, field_name = key.removeprefix(EVAL_VERSION_TAG_PREFIX).rpartition(".")
            if name:
                grouped.setdefault(name, {})[field_name] = value
    return dict(sorted(grouped.items()))


def _logged_model_run(client: Any, uri: str) -> str | None:
    try:
        if uri.startswith(LOGGED_MODEL_URI_PREFIX):
            return str(client.get_logged_model(uri.removeprefix("models:/")).source_run_id)
        if uri.startswith("runs:/"):
            return uri.removeprefix("runs:/").split("/", 1)[0] or None
    except MlflowException:
        return None
    return None


def _run_tags(client: Any, run_id: str) -> dict[str, str]:
    try:
        return dict(client.get_run(run_id).data.tags)
    except MlflowException:
        return {}


def study_evaluations(study_name: str, *, tracking_uri: str | None = None) -> list[Any]:
    """The finished evaluation runs of ``study_name``'s models, newest first; creates nothing (no store, no
    experiment: an empty list)."""
    from pathlib import Path

    tracking_uri = tracking_uri or _paths.default_tracking_uri()
    if tracking_uri.startswith("sqlite:///") and not Path(tracking_uri.removeprefix("sqlite:///")).is_file():
        return []
    client = MlflowClient(tracking_uri)
    try:
        experiment = client.get_experiment_by_name(study_name)
        if experiment is None:
            return []
        runs = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.`{ROLE_TAG}` = '{EVALUATION_ROLE}' "
                                                f"and attributes.status = 'FINISHED'")
    except MlflowException:
        return []
    return sorted(runs, key=lambda run: -run.info.start_time)
