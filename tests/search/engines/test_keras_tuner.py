"""``run --engine keras-tuner``: Keras Tuner's oracles propose, the Optuna study and MLflow record as usual.

One working directory for the module (its ./mlruns holds several studies, one per test); tiny budgets.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from search import main
from search.paths import default_study_storage, default_tracking_uri, keras_tuner_dir
from search.study import KT_CONTINUES_ATTR, KT_INITIAL_EPOCH_ATTR, KT_TRIAL_ATTR, StudyProgress
from tests.fixtures.studies import BuiltStudy

pytestmark = pytest.mark.integration

FAST = ("--space", "smoke", "--subset", "0.4", "--seed", "1")


@pytest.fixture(scope="module")
def kt_workdir(tmp_path_factory: pytest.TempPathFactory, empty_store: BuiltStudy) -> Iterator[Path]:
    """A working directory shared by this module's studies (so ./mlruns is private to it)."""
    folder = tmp_path_factory.mktemp("kt")
    empty_store.copy_to(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("FER_SEARCH_CACHE", str(folder / "cache"))
        yield folder


def _run(csv: Path, study: str, *flags: str) -> int:
    return main(["run", "--engine", "keras-tuner", "--data", str(csv), "--study", study, *FAST, *flags])


def _study(name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=default_study_storage())


def _counted(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if t.state.is_finished() and t.user_attrs.get("fail_reason") != "interrupted"]


def _oracle_state(study_name: str) -> dict:
    return json.loads((keras_tuner_dir(study_name) / "oracle.json").read_text())


def _steps(client: MlflowClient, trial: optuna.trial.FrozenTrial) -> list[int]:
    return [m.step for m in client.get_metric_history(trial.user_attrs["mlflow_run_id"], "val_accuracy")]


@pytest.fixture(scope="module")
def random_study(kt_workdir: Path, small_csv: Path) -> str:
    assert _run(small_csv, "kt-random", "--tuner", "random", "--trials", "3", "--epochs", "2") == 0
    return "kt-random"


def test_random_tuner_trials_are_recorded_like_optuna_ones(random_study: str) -> None:
    study = _study(random_study)
    counted = _counted(study)
    assert len(study.trials) == len(counted) == 3
    assert len({t.user_attrs[KT_TRIAL_ATTR] for t in counted}) == 3
    oracle = _oracle_state(random_study)
    assert sorted(oracle["end_order"]) == sorted(t.user_attrs[KT_TRIAL_ATTR] for t in counted)
    assert study.user_attrs["fer.definition"]["engine"] == "keras-tuner"
    assert study.user_attrs["fer.definition"]["tuner"] == "random"

    client = MlflowClient(default_tracking_uri())
    parent = client.get_run(study.user_attrs["fer.mlflow_parent_run_id"])
    assert parent.info.status == "FINISHED"
    assert (parent.data.tags["fer.engine"], parent.data.tags["fer.tuner"]) == ("keras-tuner", "random")
    assert parent.data.params["search.engine"] == "keras-tuner" and "test_accuracy" in parent.data.metrics
    for trial in counted:
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["fer.state"] == {"COMPLETE": "complete", "FAIL": "failed"}[trial.state.name]
        assert (run.data.tags["fer.engine"], run.data.tags["fer.kt_trial_id"]) == ("keras-tuner",
                                                                                  trial.user_attrs[KT_TRIAL_ATTR])
        if trial.state.name == "COMPLETE":
            assert _steps(client, trial) == [1, 2]
            assert {"train_loss", "val_loss", "learning_rate", "final_val_accuracy"} <= set(run.data.metrics)
            assert set(trial.params) <= set(run.data.params)


def test_best_test_and_promote_work_on_a_keras_tuner_study(random_study: str, capsys) -> None:
    assert main(["best", "--study", random_study, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 1 and rows == sorted(rows, key=lambda row: -row["val_accuracy"])
    assert main(["test", "--study", random_study]) == 1  # scored once already, by `run`
    assert main(["test", "--study", random_study, "--force"]) == 0
    assert main(["promote", "--study", random_study]) == 0
    assert "fer-emotion" in capsys.readouterr().out


def test_an_optuna_run_cannot_join_a_keras_tuner_study(random_study: str, small_csv: Path, capsys) -> None:
    status = main(["run", "--data", str(small_csv), "--study", random_study, *FAST, "--trials", "3",
                   "--epochs", "2"])
    assert status == 1
    assert "engine: keras-tuner -> None" in capsys.readouterr().err
    assert len(_study(random_study).trials) == 3


def test_hyperband_continues_the_best_trial_from_its_saved_weights(kt_workdir: Path, small_csv: Path) -> None:
    assert _run(small_csv, "kt-hyperband", "--tuner", "hyperband", "--trials", "4", "--epochs", "3") == 0
    study = _study("kt-hyperband")
    counted = _counted(study)
    assert len(study.trials) == len(counted) == 4
    # max_epochs 3, factor 3: bracket 1 trains 3 trials for 1 epoch, then continues the best one to 3.
    continued = [t for t in counted if t.user_attrs.get(KT_INITIAL_EPOCH_ATTR, 0) > 0]
    assert len(continued) == 1
    (trial,) = continued
    source = next(t for t in counted if t.user_attrs[KT_TRIAL_ATTR] == trial.user_attrs[KT_CONTINUES_ATTR])
    assert trial.params == source.params and trial.user_attrs["kt_epochs"] == 3
    source_folder = keras_tuner_dir("kt-hyperband") / f"trial_{source.user_attrs[KT_TRIAL_ATTR]}"
    assert (source_folder / "checkpoint.weights.h5").is_file()

    client = MlflowClient(default_tracking_uri())
    initial_epoch = trial.user_attrs[KT_INITIAL_EPOCH_ATTR]
    assert _steps(client, trial) == list(range(initial_epoch + 1, 4))  # epochs 2..3, not 1..3
    run = client.get_run(trial.user_attrs["mlflow_run_id"])
    assert run.data.tags["fer.kt_continues"] == source.user_attrs[KT_TRIAL_ATTR]
    assert run.data.tags["fer.kt_initial_epoch"] == str(initial_epoch)
    assert all(_steps(client, t) == [1] for t in counted if t is not trial and t.state.name == "COMPLETE")


def test_bayesian_tuner_goes_past_its_random_start(kt_workdir: Path, small_csv: Path) -> None:
    assert _run(small_csv, "kt-bayes", "--tuner", "bayesian", "--trials", "4", "--epochs", "1") == 0
    study = _study("kt-bayes")
    assert len(_counted(study)) == len(study.trials) == 4
    assert _oracle_state("kt-bayes")["num_initial_points"] == 3  # the 4th trial came from the Gaussian process


def _raise_at_epoch_call(monkeypatch: pytest.MonkeyPatch, call: int, error: type[BaseException]) -> None:
    """Makes the ``call``-th epoch report of this process raise ``error`` (Ctrl-C, or a process dying)."""
    original = StudyProgress.epoch
    calls = []

    def epoch(self: StudyProgress, *args: object) -> None:
        calls.append(args)
        if len(calls) == call:
            raise error()
        original(self, *args)

    monkeypatch.setattr(StudyProgress, "epoch", epoch)


def test_an_interrupted_trial_is_run_again_by_the_resumed_oracle(
    kt_workdir: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = ("--tuner", "random", "--trials", "2", "--epochs", "2")
    with monkeypatch.context() as patch:
        _raise_at_epoch_call(patch, 3, KeyboardInterrupt)  # trial #1's first epoch
        assert _run(small_csv, "kt-resume", *flags) == 130
    assert _run(small_csv, "kt-resume", *flags) == 0

    trials = _study("kt-resume").trials
    interrupted = [t for t in trials if t.user_attrs.get("fail_reason") == "interrupted"]
    counted = _counted(_study("kt-resume"))
    assert len(interrupted) == 1 and len(counted) == 2 and len(trials) == 3
    (retry,) = [t for t in trials if t.user_attrs.get("retry_of") == interrupted[0].number]
    # The reloaded oracle handed out the same Keras Tuner trial again, with the same parameters.
    assert retry.user_attrs[KT_TRIAL_ATTR] == interrupted[0].user_attrs[KT_TRIAL_ATTR]
    assert retry.params == interrupted[0].params and retry.state.name == "COMPLETE"
    assert len({t.user_attrs[KT_TRIAL_ATTR] for t in counted}) == 2
    assert len(_oracle_state("kt-resume")["end_order"]) == 2


def test_a_dead_process_is_recovered_and_a_told_result_is_not_trained_again(
    kt_workdir: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.engines._keras_tuner import _KerasTunerSearch

    flags = ("--tuner", "hyperband", "--trials", "4", "--epochs", "3")
    with monkeypatch.context() as patch:
        _raise_at_epoch_call(patch, 2, SystemExit)  # dies in trial #1: no state recorded, its run left open
        with pytest.raises(SystemExit):
            _run(small_csv, "kt-crash", *flags)
    assert [t.state.name for t in _study("kt-crash").trials] == ["COMPLETE", "RUNNING"]

    with monkeypatch.context() as patch:
        def die(*args: object) -> None:
            raise SystemExit()

        patch.setattr(_KerasTunerSearch, "_tell_oracle", die)  # dies after telling the study, before the oracle
        with pytest.raises(SystemExit):
            _run(small_csv, "kt-crash", *flags)
    assert _run(small_csv, "kt-crash", *flags) == 0

    study = _study("kt-crash")
    counted = _counted(study)
    assert len(counted) == 4 and len(study.trials) == 5  # the retry's told result was replayed, not retrained
    assert len({t.user_attrs[KT_TRIAL_ATTR] for t in counted}) == 4
    dead = study.trials[1]
    assert dead.state.name == "FAIL" and dead.user_attrs["fail_reason"] == "interrupted"
    assert study.trials[2].user_attrs["retry_of"] == 1
    assert study.trials[2].user_attrs[KT_TRIAL_ATTR] == dead.user_attrs[KT_TRIAL_ATTR]
    client = MlflowClient(default_tracking_uri())
    assert client.get_run(dead.user_attrs["mlflow_run_id"]).data.tags["fer.state"] == "interrupted"
    assert sorted(_oracle_state("kt-crash")["end_order"]) == sorted(t.user_attrs[KT_TRIAL_ATTR] for t in counted)


def test_a_deleted_project_folder_is_refused(kt_workdir: Path, small_csv: Path, capsys) -> None:
    assert _run(small_csv, "kt-gone", "--tuner", "random", "--trials", "1", "--epochs", "1") == 0
    shutil.rmtree(keras_tuner_dir("kt-gone"))
    assert _run(small_csv, "kt-gone", "--tuner", "random", "--trials", "2", "--epochs", "1") == 1
    assert "its project folder" in capsys.readouterr().err and len(_study("kt-gone").trials) == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tuner", "random"], "--tuner random needs --engine keras-tuner"),
        (["--engine", "keras-tuner", "--sampler", "tpe"], "--sampler tpe cannot be used with --engine keras-tuner"),
        (["--engine", "keras-tuner", "--pruner", "median"], "--pruner median cannot be used with --engine keras-tuner"),
        (["--engine", "keras-tuner", "--workers", "2"], "--workers 2 cannot be used with --engine keras-tuner"),
    ],
)
def test_flags_of_the_other_engine_are_usage_errors(kt_workdir: Path, capsys, flags: list[str], message: str) -> None:
    assert main(["run", "--space", "smoke", "--study", "never", *flags]) == 2
    assert message in capsys.readouterr().err


def test_a_space_keras_tuner_cannot_express_fails_before_any_study(kt_workdir: Path, small_csv: Path, capsys) -> None:
    space = kt_workdir / "mixed.yaml"
    space.write_text("architecture:\n  n_blocks: 1\n  blocks: {filters: 8}\n"
                     "augmentation:\n  erasing: {choice: [0, 0.25]}\n")
    status = main(["run", "--engine", "keras-tuner", "--space", str(space), "--data", str(small_csv),
                   "--study", "kt-mixed"])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Keras Tuner's Choice needs values of one type") and "--engine optuna" in err
    assert "kt-mixed" not in [s.study_name for s in optuna.get_all_study_summaries(default_study_storage())]


def test_hyperband_needs_epochs_when_the_space_searches_them(kt_workdir: Path, small_csv: Path, capsys) -> None:
    space = kt_workdir / "epochs.yaml"
    space.write_text("architecture:\n  n_blocks: 1\n  blocks: {filters: 8}\ntraining:\n  epochs: {int: [1, 3]}\n")
    assert main(["run", "--engine", "keras-tuner", "--space", str(space), "--data", str(small_csv)]) == 1
    assert "--tuner hyperband needs --epochs" in capsys.readouterr().err


def test_the_keras_tuner_folder_lives_next_to_the_study_records(random_study: str, kt_workdir: Path) -> None:
    assert keras_tuner_dir(random_study) == kt_workdir / "mlruns" / "keras_tuner" / random_study
    assert os.path.isfile(keras_tuner_dir(random_study) / "oracle.json")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"engine": "ray"}, r"--engine must be one of optuna, keras-tuner \(got 'ray'\)"),
        ({"engine": "keras-tuner", "pruner": "none", "tuner": "grid"},
         r"--tuner must be one of hyperband, bayesian, random \(got 'grid'\)"),
        ({"engine": "keras-tuner"}, r"--pruner cannot be used with --engine keras-tuner .* \(got 'hyperband'\)"),
    ],
)
def test_engine_settings_are_validated(overrides: dict, message: str) -> None:
    from search.errors import SettingsError
    from search.study import StudySettings

    with pytest.raises(SettingsError, match=message):
        StudySettings(study_name="s", space="smoke", data="demo", storage="sqlite:///x.db", **overrides)
