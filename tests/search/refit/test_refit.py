"""Stage 2: `run --refit-top` and `refit` refit the top trials as nested runs, resume, select, test once, promote."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import mlflow
import numpy as np
import optuna
import pytest
from mlflow import MlflowClient
from PIL import Image

from fer_core.emotions import EMOTIONS
from fer_core.errors import ConfigError
from fer_core.evaluate import log_probabilities, predict_proba, temperature_scaled
from fer_core.model import build_model, get_preset
from fer_core.train import TrainConfig, train
from search import main
from search.paths import default_study_storage, default_tracking_uri, refit_dir
from search.refit import EnsembleChoice, RefitCheckpoint, RefitOptions
from search.report import build_report
from search.selection import recorded_selection, recorded_test_score
from search.study import completed_trials, load_study_data
from tests.search._interrupt import refit_interrupted_after_first_epoch

pytestmark = pytest.mark.integration

EPOCHS = 3
METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate")


def _stage1(csv: Path, study: str, n_trials: int, *extra: str) -> list[str]:
    return ["run", "--space", "smoke", "--data", str(csv), "--study", study, "--trials", str(n_trials),
            "--epochs", "2", "--pruner", "none", "--seed", "1", *extra]


def _load(study: str) -> optuna.Study:
    return optuna.load_study(study_name=study, storage=default_study_storage())


def _refit_runs(client: MlflowClient, study: optuna.Study) -> list:
    experiment = client.get_experiment_by_name(study.study_name)
    parent = study.user_attrs["fer.mlflow_parent_run_id"]
    return client.search_runs([experiment.experiment_id],
                              f"tags.`mlflow.parentRunId` = '{parent}' and tags.`fer.role` = 'refit'")


def _steps(client: MlflowClient, run_id: str, metric: str) -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run_id, metric))


def test_run_refit_top_chains_stage_two_then_scores_once_and_promotes(
        workdir_with_store: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert main(_stage1(small_csv, "two", 3, "--refit-top", "2", "--refit-epochs", str(EPOCHS))) == 0
    output = capsys.readouterr().out
    assert "Refits (stage 2, full training split)" in output and "TTA gain" in output

    study = _load("two")
    client = MlflowClient(default_tracking_uri())
    top2 = completed_trials(study)[:2]  # ranked as selection ranks them (ties: fewer parameters)
    runs = {int(r.data.tags["fer.refit_of"]): r for r in _refit_runs(client, study)}
    assert set(runs) == {t.number for t in top2}
    for run in runs.values():
        assert run.info.status == "FINISHED" and run.data.tags["fer.state"] == "complete"
        assert run.data.params["refit.n_train"] == "336"  # the full training split, not a subset
        for metric in METRICS:
            assert _steps(client, run.info.run_id, metric) == list(range(1, EPOCHS + 1))

    selection = recorded_selection(study)
    assert selection is not None and selection.kind in ("refit", "ensemble") and selection.tta == "flip"
    assert set(selection.members) <= set(runs)
    score = recorded_test_score(study)  # scored by the chained run, once, after the refit
    assert score.n_scores == 1 and score.model_uri == selection.model_uri and score.tta == "flip"

    assert main(["test", "--study", "two"]) == 1
    assert "already scored" in capsys.readouterr().err
    assert main(["best", "--study", "two"]) == 0
    assert "Selected (stage 2)" in capsys.readouterr().out

    assert main(["refit", "--study", "two", "--top", "2", "--epochs", str(EPOCHS)]) == 0
    assert len(_refit_runs(client, _load("two"))) == 2  # finished refits are not redone

    # An ensemble selection (M forced to 2 here; test_ensemble.py shows M chosen on validation) is scored on
    # the same predictions selection uses, with the same TTA, and promoted as one model.
    with monkeypatch.context() as patch:
        patch.setattr("search.refit._ensemble.choose_ensemble_size", lambda *args: EnsembleChoice(2, (0.0, 1.0)))
        assert main(["refit", "--study", "two", "--top", "2", "--epochs", str(EPOCHS)]) == 0
    study = _load("two")
    selection = recorded_selection(study)
    assert selection.kind == "ensemble" and sorted(selection.members) == sorted(runs)
    assert main(["test", "--study", "two", "--force"]) == 0
    score = recorded_test_score(_load("two"))
    assert score.kind == "ensemble" and score.n_scores == 2 and score.model_uri == selection.model_uri
    members = [_load_model(runs[trial].info.run_id, client) for trial in selection.members]
    test = load_study_data(str(small_csv), split=None, subset=1.0, seed=1).splits.test
    mean = np.mean([predict_proba(m, test.images, tta="flip") for m in members], axis=0)
    assert score.accuracy == pytest.approx(float(np.mean(mean.argmax(axis=1) == test.labels)))

    # Promoted with its flip TTA inside: the registered model predicts what the test score was computed on.
    assert main(["promote", "--study", "two", "--force"]) == 0
    version = client.get_model_version_by_alias("fer-emotion", "champion")
    assert version.tags["kind"] == "ensemble" and version.tags["tta"] == "flip"
    assert version.tags["tta_in_model"] == "true" and version.tags["scored_model"] == score.model_uri
    champion = mlflow.keras.load_model("models:/fer-emotion@champion", load_model_kwargs={"safe_mode": True})
    faces = test.images[:4]
    # ... with the temperature fitted on validation applied on top (softmax(log p / T)).
    temperature = _load("two").user_attrs["fer.calibration"]["temperature"]
    scored = temperature_scaled(log_probabilities(np.mean([predict_proba(m, faces, tta="flip") for m in members],
                                                          axis=0)), temperature)
    np.testing.assert_allclose(champion.predict_on_batch(faces), scored, atol=1e-5)
    np.testing.assert_allclose(mlflow.pyfunc.load_model("models:/fer-emotion@champion").predict(faces), scored,
                               atol=1e-5)  # what `mlflow models serve` runs
    assert main(["promote", "--study", "two", "--force"]) == 0  # promoting again reuses the logged model
    again = client.get_model_version_by_alias("fer-emotion", "champion")
    assert again.version != version.version and again.source == version.source
    client.delete_logged_model(again.source.removeprefix("models:/"))  # ... while it exists
    assert main(["promote", "--study", "two", "--force"]) == 0
    relogged = client.get_model_version_by_alias("fer-emotion", "champion")
    assert relogged.source != version.source and relogged.tags["tta_in_model"] == "true"

    # predict adds no TTA on top of the champion's own; another mode needs the model without TTA inside.
    photo = workdir_with_store / "face.png"
    Image.fromarray(faces[0, ..., 0]).save(photo)
    capsys.readouterr()
    assert main(["predict", str(photo), "--no-detect", "--format", "json"]) == 0
    output = capsys.readouterr()
    assert "Test-time augmentation: flip, applied by models:/fer-emotion@champion itself" in output.err
    answer = json.loads(output.out)[0]["probabilities"]
    assert answer == pytest.approx({emotion: float(p) for emotion, p in zip(EMOTIONS, scored[0])}, abs=1e-5)
    assert main(["predict", str(photo), "--no-detect", "--tta", "none"]) == 1
    refused = capsys.readouterr().err
    assert "applies flip test-time augmentation itself, so --tta none cannot change it" in refused
    assert f"--model {score.model_uri}" in refused
    assert main(["predict", str(photo), "--no-detect", "--format", "json", "--model", score.model_uri,
                 "--tta", "none"]) == 0
    plain = json.loads(capsys.readouterr().out)[0]["probabilities"]
    unflipped = np.mean([m.predict_on_batch(faces[:1]) for m in members], axis=0)[0]
    assert plain == pytest.approx({emotion: float(p) for emotion, p in zip(EMOTIONS, unflipped)}, abs=1e-5)

    # The report shows stage 2: every refit and what selection chose.
    report = build_report(_load("two"))
    assert "Stage 2: refits and selection" not in report.notes
    assert "Selected on validation: ensemble of trials" in report.html
    assert all(f"#{trial}" in report.html for trial in runs)


def _load_model(run_id: str, client: MlflowClient) -> object:
    model_id = client.get_run(run_id).data.tags["fer.model_id"]
    return mlflow.keras.load_model(f"models:/{model_id}", load_model_kwargs={"safe_mode": True, "compile": False})


def test_interrupted_refit_resumes_from_its_checkpoint_then_test_scores_once(
        stage1: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    resume = stage1  # a copy of stage 1 as `run --refit-top` runs it: the test split waits
    assert recorded_test_score(_load(resume)) is None
    refit = ["refit", "--study", resume, "--top", "1", "--epochs", str(EPOCHS), "--tta", "none"]

    with refit_interrupted_after_first_epoch(monkeypatch):
        assert main(refit) == 130
    assert "keeps its last finished epoch" in capsys.readouterr().err

    study = _load(resume)
    client = MlflowClient(default_tracking_uri())
    (killed,) = _refit_runs(client, study)
    assert killed.info.status == "KILLED" and killed.data.tags["fer.state"] == "interrupted"
    trial = int(killed.data.tags["fer.refit_of"])
    state = json.loads((refit_dir(resume) / f"trial_{trial}" / "state.json").read_text())
    assert state["epochs_done"] == 1 and state["status"] == "training"
    assert recorded_selection(study) is None

    assert main(refit) == 0
    assert "continues from its checkpoint after epoch 1" in capsys.readouterr().err
    (resumed,) = _refit_runs(client, _load(resume))
    assert resumed.info.run_id == killed.info.run_id  # the same run goes on
    assert resumed.info.status == "FINISHED" and resumed.data.tags["fer.n_resumes"] == "1"
    for metric in METRICS:
        assert _steps(client, resumed.info.run_id, metric) == list(range(1, EPOCHS + 1))

    assert main(["test", "--study", resume]) == 0
    assert f"Test accuracy of refit of trial #{trial}" in capsys.readouterr().out
    score = recorded_test_score(_load(resume))
    assert score.kind == "refit" and score.n_scores == 1 and score.model_uri == recorded_selection(study).model_uri
    assert main(["test", "--study", resume]) == 1


def test_checkpoint_restores_weights_and_optimizer_state(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(32, 48, 48, 1), dtype=np.uint8)
    labels = np.arange(32) % 7
    model = build_model(get_preset("tiny"))
    train(model, images, labels, validation=None, config=TrainConfig(epochs=1, batch_size=8), verbose=0)
    checkpoint = RefitCheckpoint(tmp_path)
    files = checkpoint.save_epoch(model, 1, is_best=True)

    restored = build_model(get_preset("tiny"))
    checkpoint.restore_weights(restored, files["best_weights_file"])
    restored.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy")
    checkpoint.restore_optimizer(restored.optimizer, restored, files["optimizer_file"])

    assert int(restored.optimizer.iterations.numpy()) == 4  # 32 images / 8 per step
    for saved, loaded in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
    for saved, loaded in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(saved, loaded)


def test_refit_flags_are_validated(workdir: Path, capsys) -> None:
    with pytest.raises(ConfigError, match=r"--top must be an integer >= 1 \(got 0\)"):
        RefitOptions(top=0)
    with pytest.raises(ConfigError, match="Unknown --tta 'mirror'; choose one of: none, flip, ten_crop"):
        RefitOptions(tta="mirror")
    assert main(["run", "--space", "smoke", "--refit-epochs", "5"]) == 2
    assert "--refit-epochs 5 needs --refit-top K" in capsys.readouterr().err
