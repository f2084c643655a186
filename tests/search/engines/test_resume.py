"""Ctrl-C and a killed process: the trial ends recorded, the same command resumes to the exact count."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from search import main
from search.engines import run_study
from search.paths import default_study_storage, default_tracking_uri
from search.study import StudySettings
from spaces import load_space
from tests.search._polling import poll_until, running_trials_with_epochs, wait_while_running

pytestmark = pytest.mark.integration

N_TRIALS = 2  # each stop interrupts the first trial it finds training; the resumed run ends the count
EPOCHS = 5  # enough that a trial is still training when the signal arrives after its first epoch


def _command(csv: Path, study: str) -> list[str]:
    return [sys.executable, "-m", "search", "run", "--space", "smoke", "--data", str(csv), "--study", study,
            "--trials", str(N_TRIALS), "--epochs", str(EPOCHS), "--pruner", "none"]


def _stop_mid_trial(csv: Path, study_name: str, sig: int, env: dict[str, str]) -> None:
    """Starts the search and sends ``sig`` once one of its trials has reported an epoch."""
    # As from a shell: SIGINT at its default. An ignored SIGINT is inherited across exec, and something
    # earlier in a full test session (a kernel or server helper) can leave it ignored in this process.
    process = subprocess.Popen(_command(csv, study_name), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_while_running(process, lambda: running_trials_with_epochs(study_name),
                       what="a running trial reported an epoch")
    process.send_signal(sig)
    output, _ = process.communicate(timeout=120)
    if sig in (signal.SIGINT, signal.SIGTERM):
        assert process.returncode == 130, output
        assert "run the same command again to resume" in output


def _stop_each_then_resume(csv: Path, study_name: str, signals: list[int]) -> optuna.Study:
    """One search process per signal, each stopped mid-trial by it, then the same command to the end."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for sig in signals:
        _stop_mid_trial(csv, study_name, sig, env)
    # The same command, run here: nothing of the stopped processes is left in this one (saves a start-up).
    assert main(_command(csv, study_name)[3:]) == 0
    return optuna.load_study(study_name=study_name, storage=default_study_storage())


def _check_exact_count_and_requeue(study: optuna.Study, n_stopped: int) -> None:
    trials = study.get_trials(deepcopy=False)
    interrupted = [t for t in trials if t.user_attrs.get("fail_reason") == "interrupted"]
    counted = [t for t in trials if t.state.is_finished() and t not in interrupted]
    assert len(interrupted) == n_stopped
    assert len(counted) == N_TRIALS
    for stopped in interrupted:
        retry = [t for t in trials if t.user_attrs.get("retry_of") == stopped.number]
        assert len(retry) == 1 and retry[0].params == stopped.params
    assert len({t.number for t in trials}) == len(trials)

    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(study.study_name)
    runs = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'trial'")
    assert len(runs) == len(trials)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    for stopped in interrupted:
        run = client.get_run(stopped.user_attrs["mlflow_run_id"])
        assert run.info.status == "KILLED" and run.data.tags["fer.state"] == "interrupted"


def test_interrupted_then_killed_search_resumes_to_the_exact_count(workdir: Path, small_csv: Path) -> None:
    """Ctrl-C, then SIGKILL of the resumed process (nobody closes its trial), then the same command again."""
    study = _stop_each_then_resume(small_csv, "stopped-twice", [signal.SIGINT, signal.SIGKILL])
    _check_exact_count_and_requeue(study, n_stopped=2)


# SIGTERM takes the same path as SIGINT once run_study's handler turns it into KeyboardInterrupt (the test
# below checks that in-process), so its two-process variant runs with the slow tests only.
@pytest.mark.slow
def test_sigterm_records_interrupted_trial_and_resume_completes(workdir: Path, small_csv: Path) -> None:
    study = _stop_each_then_resume(small_csv, "sigterm", [signal.SIGTERM])
    _check_exact_count_and_requeue(study, n_stopped=1)


def _send_sigterm_after_first_epoch(study_name: str) -> threading.Thread:
    """Sends SIGTERM to this process once a trial of ``study_name`` is training (as a job scheduler would)."""
    def watch() -> None:
        if poll_until(lambda: running_trials_with_epochs(study_name)):
            os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_sigterm_interrupts_run_study_like_ctrl_c_and_restores_the_handler(
        workdir_with_store: Path, small_csv: Path) -> None:
    late_signals: list[int] = []

    def outer_handler(signum: int, frame: object) -> None:  # what run_study must put back; never kills pytest
        late_signals.append(signum)

    previous = signal.signal(signal.SIGTERM, outer_handler)
    settings = StudySettings(study_name="term", space="smoke", data=str(small_csv),
                             storage=default_study_storage(), n_trials=N_TRIALS, pruner="none", max_epochs=EPOCHS)
    try:
        watcher = _send_sigterm_after_first_epoch("term")
        run = run_study(settings, load_space("smoke"))
        watcher.join(timeout=5)
        assert run.interrupted and run.test_score is None
        assert signal.getsignal(signal.SIGTERM) is outer_handler and late_signals == []
    finally:
        signal.signal(signal.SIGTERM, previous)
    interrupted = [t for t in run.study.trials if t.user_attrs.get("fail_reason") == "interrupted"]
    assert len(interrupted) == 1 and interrupted[0].state == optuna.trial.TrialState.FAIL
    run_of_trial = MlflowClient(default_tracking_uri()).get_run(interrupted[0].user_attrs["mlflow_run_id"])
    assert run_of_trial.info.status == "KILLED" and run_of_trial.data.tags["fer.state"] == "interrupted"
