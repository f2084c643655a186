"""The study's splits are recorded as MLflow datasets: on the parent run (train, validation, test), on each
trial run and refit run (train and validation, never test), with the split fingerprints as digests."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import optuna
import pytest
from mlflow import MlflowClient
from mlflow.data.schema import TensorDatasetSchema

from fer_core.data import make_demo_dataset, split_dataset
from fer_core.emotions import EMOTIONS
from search import main
from search.paths import default_study_storage, default_tracking_uri
from search.study import PARENT_RUN_ATTR, RUN_ID_ATTR, SETTINGS_ATTR, StudyData, load_study_data
from search.tracking import (
    DATASET_CONTEXT_TAG,
    DATASET_DIGEST_CHARS,
    TEST_CONTEXT,
    TRAINING_CONTEXT,
    VALIDATION_CONTEXT,
    SplitDataset,
    StudyTracker,
)
from tests.fixtures.studies import BuiltStudy, SmokeStudy

TRIAL_CONTEXTS = {TRAINING_CONTEXT, VALIDATION_CONTEXT}


def _inputs(client: MlflowClient, run_id: str) -> dict[str, tuple[str, str, dict]]:
    """The run's dataset inputs: context -> (name, digest, profile)."""
    inputs = client.get_run(run_id).inputs.dataset_inputs
    contexts = [{tag.key: tag.value for tag in item.tags}[DATASET_CONTEXT_TAG] for item in inputs]
    assert len(set(contexts)) == len(contexts), f"a context twice: {contexts}"
    return {context: (item.dataset.name, item.dataset.digest, json.loads(item.dataset.profile))
            for context, item in zip(contexts, inputs)}


def _study_data(study: optuna.Study, subset: float | None = None) -> StudyData:
    """The study's data loaded again from its recorded settings (fingerprints computed independently)."""
    settings = study.user_attrs[SETTINGS_ATTR]
    return load_study_data(settings["data"], split=settings["split"],
                           subset=settings["subset"] if subset is None else subset, seed=settings["seed"])


# --- the dataset records ----------------------------------------------------------------------------------
def test_a_split_of_a_file_is_a_local_dataset_with_its_fingerprint(tmp_path: Path) -> None:
    fingerprint = "ab" * 32
    record = SplitDataset(name="fer2013/train", fingerprint=fingerprint, source="data/fer2013.csv.gz",
                          context=TRAINING_CONTEXT, n_rows=28709, profile={"angry": 3995})
    entity = record.to_mlflow()
    dataset = entity.dataset
    assert (dataset.name, dataset.digest) == ("fer2013/train", fingerprint[:DATASET_DIGEST_CHARS])
    assert dataset.source_type == "local"
    assert json.loads(dataset.source) == {"uri": str(Path("data/fer2013.csv.gz").resolve())}
    assert json.loads(dataset.profile) == {"num_rows": 28709, "angry": 3995, "fingerprint": fingerprint}
    schema = TensorDatasetSchema.from_dict(json.loads(dataset.schema))
    assert schema.features.inputs[0].shape == (-1, 48, 48, 1) and schema.features.inputs[0].type == np.dtype("uint8")
    assert schema.targets.inputs[0].type == np.dtype("int64")
    assert [(tag.key, tag.value) for tag in entity.tags] == [("mlflow.data.context", "training")]


def test_the_demo_set_is_recorded_as_made_by_code() -> None:
    dataset = make_demo_dataset(10, seed=0)
    splits = split_dataset(dataset, "random", seed=0)
    data = StudyData(dataset=dataset, splits=splits, train=splits.train, location="demo")
    records = data.split_datasets()
    assert [(r.name, r.context) for r in records] == [("demo/train", TRAINING_CONTEXT),
                                                      ("demo/validation", VALIDATION_CONTEXT),
                                                      ("demo/test", TEST_CONTEXT)]
    train = records[0]
    assert train.fingerprint == splits.train.fingerprint and train.n_rows == len(splits.train)
    assert {emotion: train.profile[emotion] for emotion in EMOTIONS} == dict(
        zip(EMOTIONS, splits.train.class_counts().tolist()))
    source = train.to_mlflow().dataset
    assert source.source_type == "code"
    assert "make_demo_dataset" in json.loads(source.source)["tags"]["mlflow.source.name"]


@pytest.mark.parametrize(("location", "name"), [("data/fer2013.csv.gz", "fer2013"), ("/x/faces.csv", "faces"),
                                                ("/x/cache/0a1b.npz", "0a1b"), ("images/fer", "fer")])
def test_dataset_name_is_the_data_file_without_extension(location: str, name: str) -> None:
    dataset = make_demo_dataset(10, seed=0)
    splits = split_dataset(dataset, "random", seed=0)
    data = StudyData(dataset=dataset, splits=splits, train=splits.train, location=location)
    assert data.data_name == name and data.split_datasets(["validation"])[0].name == f"{name}/validation"


def test_logging_the_same_inputs_again_changes_nothing(workdir: Path) -> None:
    tracker = StudyTracker("datasets", tracking_uri=f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}")
    run_id, _ = tracker.open_parent_run()
    dataset = make_demo_dataset(10, seed=0)
    splits = split_dataset(dataset, "random", seed=0)
    records = StudyData(dataset=dataset, splits=splits, train=splits.train).split_datasets()
    tracker.log_dataset_inputs(run_id, records)
    tracker.log_dataset_inputs(run_id, records)  # a resumed study logs them again
    tracker.log_dataset_inputs(run_id, [])
    assert len(tracker.client.get_run(run_id).inputs.dataset_inputs) == 3


# --- real studies ----------------------------------------------------------------------------------------
@pytest.mark.integration
def test_study_records_its_splits_on_the_parent_and_every_trial(workdir: Path, smoke_study: SmokeStudy) -> None:
    """The smoke study was run twice (`--trials 1`, then resumed to 3): each split is recorded once."""
    name = smoke_study.copy_to(workdir)
    study = optuna.load_study(study_name=name, storage=default_study_storage())
    fingerprints = _study_data(study).fingerprints
    client = MlflowClient(default_tracking_uri())

    parent = _inputs(client, study.user_attrs[PARENT_RUN_ATTR])
    data_name = smoke_study.csv.name.removesuffix(".csv")
    splits = {TRAINING_CONTEXT: "train", VALIDATION_CONTEXT: "validation", TEST_CONTEXT: "test"}
    assert {context: (name, digest) for context, (name, digest, _) in parent.items()} == {
        context: (f"{data_name}/{split}", fingerprints[split][:DATASET_DIGEST_CHARS])
        for context, split in splits.items()}
    assert {context: profile["fingerprint"] for context, (_, _, profile) in parent.items()} == {
        context: fingerprints[split] for context, split in splits.items()}
    assert parent[TEST_CONTEXT][2]["num_rows"] == 42 and parent[TEST_CONTEXT][2]["angry"] == 6

    assert len(study.trials) == 3
    for trial in study.trials:
        inputs = _inputs(client, trial.user_attrs[RUN_ID_ATTR])
        assert set(inputs) == TRIAL_CONTEXTS  # a trial never sees the test split
        assert {context: digest for context, (_, digest, _) in inputs.items()} == {
            context: digest for context, (_, digest, _) in parent.items() if context in TRIAL_CONTEXTS}


@pytest.mark.integration
def test_refit_records_the_full_training_split(workdir: Path, stage1_study: BuiltStudy) -> None:
    name = stage1_study.copy_to(workdir)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["refit", "--study", name, "--top", "1", "--epochs", "1", "--tta", "none"]) == 0
    study = optuna.load_study(study_name=name, storage=default_study_storage())
    full = _study_data(study, subset=1.0)
    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(name)
    refits = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'refit'")
    assert len(refits) == 1
    inputs = _inputs(client, refits[0].info.run_id)
    assert {context: digest for context, (_, digest, _) in inputs.items()} == {
        TRAINING_CONTEXT: full.splits.train.fingerprint[:DATASET_DIGEST_CHARS],
        VALIDATION_CONTEXT: full.splits.validation.fingerprint[:DATASET_DIGEST_CHARS]}
