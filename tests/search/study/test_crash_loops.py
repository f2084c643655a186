"""Crash loops: a parameter set that kills its worker process is tried ``--max-crashes`` times, then fails.

Real worker processes (``_crashing_worker.py``) on one study: the first trial's parameters make the worker
die natively (SIGSEGV from a null-pointer read inside the running trial). Each new worker process recovers
the dead trial and queues its parameters again, until they have crashed three workers: then that trial
ends as failed with the reason, in Optuna and on its MLflow run, counted like any failed candidate, and the
study completes with the exact trial count and one test score.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from search import main
from search.paths import default_study_storage, default_tracking_uri
from search.study import (
    CRASHED_ATTR,
    CRASHES_ATTR,
    REASON_ATTR,
    RETRY_OF_ATTR,
    RUN_ID_ATTR,
    TEST_SCORE_ATTR,
    crash_reason,
    n_counted,
)
from search.tracking import REASON_TAG, STATE_TAG

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("_crashing_worker.py")
N_TRIALS = 2
MAX_CRASHES = 3


def test_a_parameter_set_that_crashes_its_worker_three_times_ends_as_failed(
        workdir_with_store: Path, small_csv: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, str(WORKER), str(small_csv), "crashy", str(N_TRIALS)]
    statuses = []
    for _ in range(MAX_CRASHES + 2):  # one spare: a fourth crash would show as a failure below, not a hang
        result = subprocess.run(command, cwd=workdir_with_store, env=env, capture_output=True, text=True,
                                timeout=600)
        statuses.append(result.returncode)
        if result.returncode == 0:
            break
    assert statuses == [-signal.SIGSEGV] * MAX_CRASHES + [0], (statuses, result.stderr[-3000:])

    study = optuna.load_study(study_name="crashy", storage=default_study_storage())
    first, retry1, retry2, fresh = study.trials  # the three attempts of one parameter set, then a new one
    assert first.params == retry1.params == retry2.params != fresh.params
    assert [t.user_attrs.get(RETRY_OF_ATTR) for t in study.trials] == [None, 0, 1, None]
    assert [t.user_attrs.get(CRASHES_ATTR) for t in study.trials[1:3]] == [1, 2]
    assert all(t.state == TrialState.FAIL and t.user_attrs[CRASHED_ATTR] for t in (first, retry1, retry2))
    assert [t.user_attrs[REASON_ATTR] for t in (first, retry1)] == ["interrupted"] * 2  # run again: not counted
    assert retry2.user_attrs[REASON_ATTR] == crash_reason(MAX_CRASHES, MAX_CRASHES)
    assert fresh.state == TrialState.COMPLETE
    assert n_counted(study) == N_TRIALS
    assert study.user_attrs[TEST_SCORE_ATTR]["trial"] == fresh.number
    assert study.user_attrs[TEST_SCORE_ATTR]["n_scores"] == 1

    client = MlflowClient(default_tracking_uri())
    run = client.get_run(retry2.user_attrs[RUN_ID_ATTR])
    assert run.info.status == "FAILED"
    assert run.data.tags[STATE_TAG] == "failed"
    assert run.data.tags[REASON_TAG] == crash_reason(MAX_CRASHES, MAX_CRASHES)
    assert [client.get_run(t.user_attrs[RUN_ID_ATTR]).info.status for t in (first, retry1)] == ["KILLED"] * 2

    # Resuming the finished study changes nothing: the parameters are not queued a fourth time.
    assert main(["run", "--space", "smoke", "--data", str(small_csv), "--study", "crashy", "--trials",
                 str(N_TRIALS), "--pruner", "none", "--epochs", "1", "--seed", "1"]) == 0
    assert len(optuna.load_study(study_name="crashy", storage=default_study_storage()).trials) == 4


@pytest.mark.parametrize("value", ["0", "-2"])
def test_max_crashes_below_one_is_refused_before_any_study(workdir: Path, value: str, capsys) -> None:
    assert main(["run", "--space", "smoke", "--data", "demo", "--max-crashes", value]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: --max-crashes must be >= 1 (worker crashes a parameter set may cause before it ends as failed) "
        f"(got {value})")
    assert not (workdir / "mlruns").exists()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_stop_the_worker_recorded_is_not_a_crash_and_a_death_is(tmp_path: Path) -> None:
    """Recovery on a real SQLite storage: Ctrl-C/SIGTERM (recorded by the worker) vs a worker that vanished."""
    import socket

    from search.study import (
        WORKER_ATTR,
        claim_trial,
        fail_dead_trials,
        is_interrupted,
        open_storage,
        requeue_interrupted,
    )

    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'c.db'}"), study_name="c")
    stopped = study.ask()
    stopped.suggest_int("x", 0, 9)
    stopped.set_user_attr(REASON_ATTR, "interrupted")  # what the worker records on Ctrl-C or SIGTERM
    study.tell(stopped, state=TrialState.FAIL)
    died = study.ask()
    died.suggest_int("x", 10, 19)
    died.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{_dead_pid()}")

    assert fail_dead_trials(study, max_crashes=2) == 1  # only the vanished worker's trial
    assert requeue_interrupted(study) == 2
    stopped_again, died_again = study.trials[2:]
    assert CRASHED_ATTR not in study.trials[0].user_attrs and study.trials[1].user_attrs[CRASHED_ATTR] is True
    assert (stopped_again.user_attrs[CRASHES_ATTR], died_again.user_attrs[CRASHES_ATTR]) == (0, 1)

    # The retry of the crashed parameters dies too: with --max-crashes 2 it ends as failed, counted.
    retry = claim_trial(study, died_again)
    assert retry is not None and retry.suggest_int("x", 10, 19) == study.trials[1].params["x"]
    retry.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{_dead_pid()}")
    assert fail_dead_trials(study, max_crashes=2) == 1
    ended = study.trials[retry.number]
    assert ended.state == TrialState.FAIL and not is_interrupted(ended)
    assert ended.user_attrs[REASON_ATTR] == crash_reason(2, 2)
    assert requeue_interrupted(study) == 0
