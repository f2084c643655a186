"""`run` options that bound a study: --timeout, --keep-top; out-of-memory candidates; strict flags."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from search import main
from search.paths import default_study_storage, default_tracking_uri

pytestmark = pytest.mark.integration


def _run(csv: Path, study: str, *extra: str) -> int:
    return main(["run", "--space", "smoke", "--data", str(csv), "--study", study, "--pruner", "none", "--epochs", "1",
                 *extra])  # one epoch: what is checked is the bookkeeping, not the training


def test_timeout_stops_new_trials_and_keeps_the_test_split_for_the_finished_study(
    workdir_with_store: Path, small_csv: Path, capsys
) -> None:
    assert _run(small_csv, "t", "--trials", "2", "--timeout", "0.001") == 0
    output = capsys.readouterr()
    assert "--timeout of 0.001s reached" in output.err
    assert "the test split is kept for when the study is complete" in output.err
    study = optuna.load_study(study_name="t", storage=default_study_storage())
    assert "fer.test_score" not in study.user_attrs
    assert len([t for t in study.trials if t.state.is_finished()]) == 1  # stopped after its first trial
    assert _run(small_csv, "t", "--trials", "2") == 0  # the same command finishes it, then scores once
    study = optuna.load_study(study_name="t", storage=default_study_storage())
    assert len([t for t in study.trials if t.state.is_finished()]) == 2
    assert study.user_attrs["fer.test_score"]["n_scores"] == 1


def test_keep_top_deletes_models_outside_the_best_k_but_not_the_scored_one(
        workdir_with_store: Path, small_csv: Path) -> None:
    assert _run(small_csv, "k", "--trials", "3", "--keep-top", "1") == 0
    study = optuna.load_study(study_name="k", storage=default_study_storage())
    client = MlflowClient(default_tracking_uri())
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    kept = [t for t in complete if client.get_run(t.user_attrs["mlflow_run_id"]).data.tags.get("fer.model_deleted")
            != "true" and "model_id" in t.user_attrs]
    scored = study.user_attrs["fer.test_score"]["trial"]
    assert [t.number for t in kept] == [scored]
    for trial in complete:
        if trial in kept or "model_id" not in trial.user_attrs:
            continue
        with pytest.raises(MlflowException):
            client.get_logged_model(trial.user_attrs["model_id"])  # deleted: files and record
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert "final_val_accuracy" in run.data.metrics  # the metrics stay


def test_out_of_memory_candidate_fails_with_its_reason(workdir_with_store: Path, small_csv: Path, monkeypatch) -> None:
    import fer_core.train

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError("cannot allocate")  # no way to exhaust memory safely here: simulated

    monkeypatch.setattr(fer_core.train, "train", exhausted)
    assert _run(small_csv, "oom", "--trials", "1") == 0
    (trial,) = optuna.load_study(study_name="oom", storage=default_study_storage()).trials
    assert trial.state.name == "FAIL" and trial.user_attrs["fail_reason"] == "out of memory: MemoryError"


def test_abbreviated_flags_are_refused(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--worker", "3"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --worker 3" in capsys.readouterr().err
