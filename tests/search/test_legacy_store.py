"""A study written by the code before the restructuring of ``search/`` still works with today's code.

``tests/fixtures/legacy_store.tar.gz`` was made by ``tests/fixtures/make_legacy_store.py`` with that code:
every Optuna attribute, MLflow tag and registry entry is read by today's commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from search import main
from tests.fixtures.legacy import unpack_legacy_store

pytestmark = pytest.mark.integration


@pytest.fixture
def legacy(workdir: Path) -> Path:
    return unpack_legacy_store(workdir)


def _storage(mlruns: Path) -> str:
    return f"sqlite:///{mlruns / 'optuna.db'}"


def test_finished_study_reads_reports_and_promotes(legacy: Path, capsys) -> None:
    assert main(["best", "--study", "legacy", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    study = optuna.load_study(study_name="legacy", storage=_storage(legacy))
    complete = [t.number for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(study.trials) == 3 and sorted(row["trial"] for row in rows) == sorted(complete)
    assert rows == sorted(rows, key=lambda r: -r["val_accuracy"])
    assert main(["best", "--study", "legacy"]) == 0
    assert "Selected (stage 2): refit of trial #" in capsys.readouterr().out

    assert main(["test", "--study", "legacy"]) == 1  # scored once, by the old code
    assert "already scored on the test split" in capsys.readouterr().err

    report = legacy.parent / "legacy.html"
    assert main(["report", "--study", "legacy", "--out", str(report)]) == 0
    page = report.read_text()
    assert "Stage 2" in page and "Test" in page

    # The old code promoted version 1; promoting again (same model) is refused as not better, --force adds v2.
    client = MlflowClient(f"sqlite:///{legacy / 'mlflow.db'}")
    assert str(client.get_model_version_by_alias("fer-emotion", "champion").version) == "1"
    assert main(["promote", "--study", "legacy", "--force"]) == 0
    assert str(client.get_model_version_by_alias("fer-emotion", "champion").version) == "2"
    # Opened by today's code (report, promote), its experiment is now marked as model training.
    assert client.get_experiment_by_name("legacy").tags["mlflow.experimentKind"] == "custom_model_development"


def test_unfinished_study_resumes_and_scores_once(legacy: Path, capsys) -> None:
    study = optuna.load_study(study_name="legacy-partial", storage=_storage(legacy))
    assert len(study.trials) == 1 and "fer.test_score" not in study.user_attrs
    assert main(["run", "--space", "smoke", "--subset", "0.1", "--study", "legacy-partial", "--trials", "2",
                 "--epochs", "1", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "Study 'legacy-partial': 2 finished of 2 requested" in out and "Test accuracy of trial #" in out
    study = optuna.load_study(study_name="legacy-partial", storage=_storage(legacy))
    assert study.user_attrs["fer.test_score"]["n_scores"] == 1

    # Resumed by today's code: its experiment is marked as model training, and the data is recorded as
    # datasets on the study's run (all three splits) and on the new trial's run (training and validation);
    # the trial run made by the old code is left as it was.
    client = MlflowClient(f"sqlite:///{legacy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("legacy-partial")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    parent = client.get_run(study.user_attrs["fer.mlflow_parent_run_id"])
    assert sorted(d.dataset.name.rsplit("/", 1)[1] for d in parent.inputs.dataset_inputs) == [
        "test", "train", "validation"]
    old, new = (client.get_run(trial.user_attrs["mlflow_run_id"]) for trial in study.trials)
    assert old.inputs.dataset_inputs == [] and len(new.inputs.dataset_inputs) == 2
