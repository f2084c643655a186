"""Every candidate's latency is timed on its machine and recorded; ``run --max-latency-ms`` fails a slow one
before training, with its figure as the reason."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from search import main
from search.errors import SettingsError
from search.paths import default_study_storage, default_tracking_uri
from search.study import LATENCY_ATTR, LATENCY_BATCH_ATTR, StudySettings, latency_rejection
from tests.fixtures.studies import SmokeStudy

pytestmark = pytest.mark.integration


def test_a_slow_candidate_fails_before_training_with_its_latency(workdir_with_store: Path, small_csv: Path) -> None:
    # 1 microsecond per face: every real network is slower, so every candidate is refused before training.
    assert main(["run", "--space", "smoke", "--data", str(small_csv), "--study", "slow", "--trials", "2",
                 "--pruner", "none", "--max-latency-ms", "0.001"]) == 0
    study = optuna.load_study(study_name="slow", storage=default_study_storage())
    client = MlflowClient(default_tracking_uri())
    assert len(study.trials) == 2
    for trial in study.trials:
        reason = trial.user_attrs["fail_reason"]
        assert trial.state == TrialState.FAIL
        assert reason.startswith("too slow: ") and "ms per face > --max-latency-ms 0.001" in reason
        assert f"{trial.user_attrs[LATENCY_ATTR]:.2f} ms" in reason
        assert not trial.intermediate_values  # not one epoch trained
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.data.tags["fer.state"] == "failed" and run.data.tags["fer.reason"] == reason
        assert run.data.metrics["latency_ms"] == pytest.approx(trial.user_attrs[LATENCY_ATTR], rel=1e-3)
        assert "epochs_run" not in run.data.metrics


def test_completed_trials_carry_their_latency_in_mlflow_and_the_leaderboard(
        workdir: Path, smoke_study: SmokeStudy, capsys: pytest.CaptureFixture[str]) -> None:
    name = smoke_study.copy_to(workdir)
    study = optuna.load_study(study_name=name, storage=default_study_storage())
    client = MlflowClient(default_tracking_uri())
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete
    for trial in complete:
        single, batch = trial.user_attrs[LATENCY_ATTR], trial.user_attrs[LATENCY_BATCH_ATTR]
        assert 0 < single < 1000 and 0 < batch < 10_000
        metrics = client.get_run(trial.user_attrs["mlflow_run_id"]).data.metrics
        assert metrics["latency_ms"] == pytest.approx(single, rel=1e-3)
        assert metrics["latency_batch64_ms"] == pytest.approx(batch, rel=1e-3)
        assert "macs" in metrics and "n_params" in metrics  # beside the parameters and MACs

    capsys.readouterr()
    assert main(["best", "--study", name]) == 0
    table = capsys.readouterr().out
    assert "ms/face" in table.splitlines()[0]
    best = max(complete, key=lambda t: t.value or 0)
    assert f"{best.user_attrs[LATENCY_ATTR]:.2f}" in table


def test_best_pareto_lists_the_front_fastest_first(workdir: Path, smoke_study: SmokeStudy,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    name = smoke_study.copy_to(workdir)
    study = optuna.load_study(study_name=name, storage=default_study_storage())
    capsys.readouterr()
    assert main(["best", "--study", name, "--pareto", "--format", "json"]) == 0
    front = json.loads(capsys.readouterr().out)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    # The front, worked out here from the trials: no other trial both at least as accurate and as fast.
    expected = {t.number for t in complete if not any(
        (o.value >= t.value and o.user_attrs[LATENCY_ATTR] <= t.user_attrs[LATENCY_ATTR])
        and (o.value > t.value or o.user_attrs[LATENCY_ATTR] < t.user_attrs[LATENCY_ATTR]) for o in complete)}
    assert {row["trial"] for row in front} == expected
    latencies = [row["latency_ms"] for row in front]
    assert latencies == sorted(latencies)
    accuracies = [row["val_accuracy"] for row in front]
    assert accuracies == sorted(accuracies) and len(set(accuracies)) == len(accuracies)


def test_max_latency_must_be_positive() -> None:
    with pytest.raises(SettingsError, match=r"--max-latency-ms must be > 0 milliseconds \(got 0\)"):
        StudySettings(study_name="s", space="smoke", data="demo", storage="sqlite://", max_latency_ms=0)
    assert latency_rejection(2.0, None) is None and latency_rejection(2.0, 2.0) is None
    assert latency_rejection(2.5, 2.0) == ("too slow: 2.50 ms per face > --max-latency-ms 2 (timed on this machine "
                                           "before training)")
