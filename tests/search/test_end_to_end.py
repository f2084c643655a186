"""End to end on the smoke space: run -> MLflow records -> best -> test once -> promote -> load and predict."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pytest
from mlflow import MlflowClient

from search import main
from search.paths import default_study_storage, default_tracking_uri

pytestmark = pytest.mark.integration

STUDY = "e2e"


def _run(csv: Path, *extra: str) -> int:
    return main(["run", "--space", "smoke", "--data", str(csv), "--study", STUDY, "--trials", "4",
                 "--seed", "1", *extra])


def _trial_runs(client: MlflowClient, experiment_id: str, parent_id: str) -> list:
    return client.search_runs([experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'")


def test_search_records_selects_tests_once_and_promotes(workdir: Path, small_csv: Path, capsys) -> None:
    assert _run(small_csv) == 0
    summary = capsys.readouterr().out
    assert "Study 'e2e': 4 finished" in summary and "Test accuracy of trial #" in summary

    study = optuna.load_study(study_name=STUDY, storage=default_study_storage())
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == 4

    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(STUDY)
    parent_id = study.user_attrs["fer.mlflow_parent_run_id"]
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.params["search.space"] == "smoke"
    assert "fingerprint.splits" in parent.data.params
    assert "test_accuracy" in parent.data.metrics

    runs = _trial_runs(client, experiment.experiment_id, parent_id)
    assert len(runs) == 4
    by_number = {int(r.data.tags["fer.trial_number"]): r for r in runs}
    for trial in finished:
        run = by_number[trial.number]
        assert trial.user_attrs["mlflow_run_id"] == run.info.run_id
        assert run.info.status in ("FINISHED", "FAILED")
        expected_state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}[trial.state.name]
        assert run.data.tags["fer.state"] == expected_state
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        # The pruner is told each epoch's best validation accuracy so far; MLflow keeps each epoch's own.
        assert [trial.intermediate_values[m.step] for m in history] == pytest.approx(
            np.maximum.accumulate([m.value for m in history]).tolist())
        if trial.state.name == "COMPLETE":
            assert [m.step for m in history] == list(range(1, len(history) + 1))
            assert len(history) >= 1
            assert {"n_params", "macs", "final_val_accuracy"} <= set(run.data.metrics)
            assert set(trial.params) <= set(run.data.params)

    # best: leaderboard as JSON, ranked by validation accuracy.
    assert main(["best", "--study", STUDY, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and rows == sorted(rows, key=lambda r: -r["val_accuracy"])

    # The test split is used once: a second score is refused with a non-zero exit...
    assert main(["test", "--study", STUDY]) == 1
    assert "already scored on the test split" in capsys.readouterr().err
    # ...unless forced, and then recorded as a re-score.
    assert main(["test", "--study", STUDY, "--force"]) == 0
    assert client.get_run(parent_id).data.tags["fer.test_rescored"] == "true"

    # promote -> load the champion through the registry and predict.
    assert main(["promote", "--study", STUDY]) == 0
    model = mlflow.keras.load_model("models:/fer-emotion@champion")
    faces = np.zeros((3, 48, 48, 1), dtype=np.uint8)
    probabilities = model.predict(faces, verbose=0)
    assert probabilities.shape == (3, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-4)
    version = client.get_model_version_by_alias("fer-emotion", "champion")
    assert version.tags["study"] == STUDY and float(version.tags["test_accuracy"]) >= 0

    # Re-running the finished study adds nothing and does not touch the test split again.
    assert _run(small_csv) == 0
    study = optuna.load_study(study_name=STUDY, storage=default_study_storage())
    assert len(study.trials) == 4
    assert study.user_attrs["fer.test_score"]["n_scores"] == 2


def test_train_runs_one_fixed_architecture_as_a_tracked_baseline(workdir: Path, small_csv: Path, capsys) -> None:
    assert main(["train", "--config", "tiny", "--data", str(small_csv), "--epochs", "2"]) == 0
    assert "Study 'train-tiny-small': 1 finished of 1 requested (1 complete" in capsys.readouterr().out
    study = optuna.load_study(study_name="train-tiny-small", storage=default_study_storage())
    (trial,) = study.trials
    from fer_core.model import get_preset

    assert trial.user_attrs["candidate"]["architecture"] == get_preset("tiny").to_dict()
    assert trial.user_attrs["candidate"]["training"]["epochs"] == 2
    assert study.user_attrs["fer.test_score"]["trial"] == 0
    run = MlflowClient(default_tracking_uri()).get_run(trial.user_attrs["mlflow_run_id"])
    assert run.data.tags["fer.state"] == "complete" and "val_accuracy" in run.data.metrics


def test_unknown_preset_is_one_error_line(workdir: Path, capsys) -> None:
    assert main(["train", "--config", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope" in err and "seed" in err
