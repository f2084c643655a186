"""Every study's experiment says it is model development (``mlflow.experimentKind``), new or old."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from search.tracking import CUSTOM_MODEL_KIND, EXPERIMENT_KIND_TAG, StudyTracker


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real SQLite MLflow store shared by this module's tests (each uses its own experiment names)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('kind') / 'mlflow.db'}"
    StudyTracker("placeholder", tracking_uri=uri)  # creates the store's tables
    return uri


def _kind(client: MlflowClient, name: str) -> str | None:
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    return experiment.tags.get(EXPERIMENT_KIND_TAG)


def test_new_study_experiment_is_model_development(store: str) -> None:
    tracker = StudyTracker("kind-new", tracking_uri=store)
    client = MlflowClient(store)
    assert client.get_experiment(tracker.experiment_id).tags[EXPERIMENT_KIND_TAG] == CUSTOM_MODEL_KIND
    assert (EXPERIMENT_KIND_TAG, CUSTOM_MODEL_KIND) == ("mlflow.experimentKind", "custom_model_development")


@pytest.mark.parametrize("old_tags", [{}, {EXPERIMENT_KIND_TAG: "genai_development_inferred"}],
                         ids=["no-kind", "inferred-kind"])
def test_opening_an_older_study_marks_its_experiment(store: str, old_tags: dict[str, str]) -> None:
    client = MlflowClient(store)
    name = f"kind-old-{len(old_tags)}"
    experiment_id = client.create_experiment(name, tags=old_tags)
    run_id = client.create_run(experiment_id, run_name=name).info.run_id

    tracker = StudyTracker(name, tracking_uri=store)  # what `run`, `report`, `refit`, ... do first

    assert tracker.experiment_id == experiment_id and _kind(client, name) == CUSTOM_MODEL_KIND
    assert client.get_run(run_id).info.run_name == name  # nothing else changed
    StudyTracker(name, tracking_uri=store)  # opening again leaves it as it is
    assert _kind(client, name) == CUSTOM_MODEL_KIND


def test_restored_study_experiment_is_marked(store: str) -> None:
    client = MlflowClient(store)
    experiment_id = client.create_experiment("kind-deleted")
    client.delete_experiment(experiment_id)

    tracker = StudyTracker("kind-deleted", tracking_uri=store)

    experiment = client.get_experiment(tracker.experiment_id)
    assert experiment.lifecycle_stage == "active" and experiment.tags[EXPERIMENT_KIND_TAG] == CUSTOM_MODEL_KIND
