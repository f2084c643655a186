"""Several workers on one study: exact trial count, one run per trial, one test score."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from search.paths import default_study_storage, default_tracking_uri
from search.study import plan_worker_envs, without_workers_flag
from tests.search._polling import poll_until, running_trials_with_epochs


def test_one_gpu_per_worker_round_robin() -> None:
    plans = plan_worker_envs(3, ["0", "1"], n_cpus=16)
    assert [p["CUDA_VISIBLE_DEVICES"] for p in plans] == ["0", "1", "0"]
    assert [p["FER_SEARCH_WORKER"] for p in plans] == ["1", "2", "3"]


def test_without_gpus_cpu_threads_are_divided() -> None:
    plans = plan_worker_envs(4, [], n_cpus=8)
    assert all(p["TF_NUM_INTRAOP_THREADS"] == "2" and p["CUDA_VISIBLE_DEVICES"] == "" for p in plans)
    assert plan_worker_envs(4, [], n_cpus=2)[0]["TF_NUM_INTRAOP_THREADS"] == "1"


def test_workers_flag_is_removed_for_the_workers() -> None:
    assert without_workers_flag(["run", "--workers", "4", "--trials", "8", "--workers=2"]) == ["run", "--trials", "8"]


def check_study_bookkeeping(study: optuna.Study, n_trials: int, tracking_uri: str) -> None:
    """Exactly n counted trials, no number twice, one MLflow run per trial under one parent run."""
    trials = study.get_trials(deepcopy=False)
    counted = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
               or (t.state == TrialState.FAIL and t.user_attrs.get("fail_reason", "interrupted") != "interrupted")]
    assert len(counted) == n_trials
    assert not [t for t in trials if t.state == TrialState.FAIL and t in counted], "a trial failed"
    assert len({t.number for t in trials}) == len(trials)
    assert not [t for t in trials if t.state == TrialState.RUNNING]

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(study.study_name)
    parents = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'study'")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    runs = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'trial'", max_results=1000)
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in runs)
    run_ids = {t.user_attrs["mlflow_run_id"] for t in trials}
    assert len(run_ids) == len(trials) == len(runs)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    assert study.user_attrs["fer.test_score"]["n_scores"] == 1


@pytest.mark.integration
def test_four_local_workers_share_the_default_sqlite_storage(workdir: Path, small_csv: Path) -> None:
    n_trials = 6  # more trials than workers: they must share the study
    result = subprocess.run(
        [sys.executable, "-m", "search", "run", "--workers", "4", "--space", "smoke", "--data", str(small_csv),
         "--study", "par", "--trials", str(n_trials), "--epochs", "1", "--pruner", "none"],
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "database is locked" not in output
    assert f"Study 'par': {n_trials} finished of {n_trials} requested" in output
    study = optuna.load_study(study_name="par", storage=default_study_storage())
    check_study_bookkeeping(study, n_trials, default_tracking_uri())
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) >= 2, "the trials were not shared between workers"


def _start_worker(csv: Path, study: str, n_trials: int, host: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if host:
        env["FER_SEARCH_WORKER_HOST"] = host  # as if on another machine: only its heartbeat can tell
    return subprocess.Popen(
        [sys.executable, "-m", "search", "run", "--space", "smoke", "--data", str(csv), "--study", study,
         "--trials", str(n_trials), "--epochs", "4", "--pruner", "none", "--heartbeat", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.mark.integration
def test_a_worker_killed_mid_trial_is_rerun_by_the_others(workdir: Path, small_csv: Path) -> None:
    """SIGKILL a worker "on another machine" mid-trial: its heartbeat stops, the survivor re-runs its trial."""
    import time

    n_trials = 3
    victim = _start_worker(small_csv, "kill", n_trials, host="other-machine")
    survivor = _start_worker(small_csv, "kill", n_trials)
    deadline = time.monotonic() + 300
    victim_pid = str(victim.pid)
    while time.monotonic() < deadline:
        running = [number for number, attrs in running_trials_with_epochs("kill").items()
                   if str(attrs.get("worker", "")).endswith(":" + victim_pid)]
        if running:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the victim never ran a trial")
    killed_number = running[0]
    victim.kill()
    victim.wait()
    output, _ = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, output

    study = optuna.load_study(study_name="kill", storage=default_study_storage())
    killed = study.trials[killed_number]
    assert killed.state == TrialState.FAIL
    retry = [t for t in study.trials if t.user_attrs.get("retry_of") == killed_number]
    assert len(retry) == 1 and retry[0].params == killed.params and retry[0].state.is_finished()
    client = MlflowClient(default_tracking_uri())
    assert client.get_run(killed.user_attrs["mlflow_run_id"]).info.status == "KILLED"
    check_study_bookkeeping_allowing_kills(study, n_trials, default_tracking_uri())


def check_study_bookkeeping_allowing_kills(study: optuna.Study, n_trials: int, tracking_uri: str) -> None:
    trials = study.get_trials(deepcopy=False)
    interrupted = [t for t in trials if t.state == TrialState.FAIL
                   and t.user_attrs.get("fail_reason", "interrupted") == "interrupted"]
    counted = [t for t in trials if t.state.is_finished() and t not in interrupted]
    assert len(counted) == n_trials
    assert len({t.number for t in trials}) == len(trials)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(study.study_name)
    runs = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'trial'", max_results=1000)
    assert len(runs) == len(trials)
    assert not [r for r in runs if r.info.status == "RUNNING"]


def test_a_silent_trial_on_another_machine_is_failed_by_its_heartbeat(tmp_path: Path) -> None:
    """The heartbeat path (workers on other machines cannot be checked by pid): real RDB storage."""
    from search.study import fail_dead_trials, is_interrupted, open_storage, requeue_interrupted

    storage = open_storage(f"sqlite:///{tmp_path / 'hb.db'}", heartbeat_s=1)
    study = optuna.create_study(storage=storage, study_name="hb")
    trial = study.ask()
    trial.suggest_int("x", 0, 9)
    trial.set_user_attr("worker", "another-machine:4242")
    storage.record_heartbeat(trial._trial_id)
    assert fail_dead_trials(study) == 0  # fresh heartbeat: alive
    # Dead once silent for the grace period (2 s; SQLite stamps heartbeats to the second): polled, not slept.
    assert poll_until(lambda: fail_dead_trials(study), timeout=30) == 1
    failed = study.trials[0]
    assert failed.state == TrialState.FAIL and is_interrupted(failed)
    assert requeue_interrupted(study) == 1
    queued = study.trials[1]
    assert queued.state == TrialState.WAITING and queued.system_attrs["fixed_params"] == failed.params
