"""Real outages mid-study: the MLflow server three workers log to is killed; PostgreSQL drops every session.

An outage is not the candidates' fault: no trial is counted as failed because of it, no test score is
spent on a study it cut short, and running the same command again once the service is back completes
the study with its exact trial count and one test score.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from search.paths import STUDY_DB_NAME, default_study_storage, mlruns_dir
from tests._services import MlflowServer, database_name, mlflow_server_command
from tests.search._polling import poll_until, running_trials_with_epochs
from tests.search.study.test_faults import terminate_backends

pytestmark = pytest.mark.integration

INFRASTRUCTURE_STATUS = 75
RETRY_S = "3"


def _run_command(csv: Path, study: str, n_trials: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "search", "run", "--space", "smoke", "--data", str(csv), "--study", study,
            "--trials", str(n_trials), "--epochs", "2", "--pruner", "none", "--retry-for", RETRY_S, *extra]


def _env(tracking_uri: str) -> dict[str, str]:
    # MLflow's own HTTP retries (minutes by default) are cut so the test sees our retry budget at work.
    return {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PYTHONUNBUFFERED": "1",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
            "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def _workers_and_completed(study: str) -> tuple[int, int]:
    """Distinct worker processes on the study's trials, and its completed trials (read-only, never races)."""
    database = mlruns_dir() / STUDY_DB_NAME
    if not database.exists():
        return 0, 0
    workers = ("SELECT count(DISTINCT a.value_json) FROM trial_user_attributes a JOIN trials t USING (trial_id) "
               "JOIN studies s USING (study_id) WHERE s.study_name = ? AND a.key = 'worker'")
    completed = ("SELECT count(*) FROM trials t JOIN studies s USING (study_id) "
                 "WHERE s.study_name = ? AND t.state = 'COMPLETE'")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute(workers, (study,)).fetchone()[0]), int(db.execute(completed, (study,)).fetchone()[0])
    except sqlite3.OperationalError:
        return 0, 0


def _mid_study(study: str, tracking_uri: str) -> bool:
    """All three workers have started, a trial is training, and each completed trial's run is closed.

    The last condition keeps the kill out of the moment between a worker telling the study a trial
    completed and closing its MLflow run: a run cut there is left to recovery's settle time.
    """
    n_workers, n_completed = _workers_and_completed(study)
    if n_workers < 3 or n_completed < 1 or not running_trials_with_epochs(study):
        return False
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(study)
    finished = client.search_runs([experiment.experiment_id] if experiment else [],
                                  "tags.`fer.role` = 'trial' and attributes.status = 'FINISHED'")
    return len(finished) == n_completed


@contextlib.contextmanager
def _restarted(server: MlflowServer) -> Iterator[MlflowServer]:
    """The same server (backend store, artifacts, port) started again, stopped on exit."""
    port = int(server.uri.rsplit(":", 1)[1])
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    with server.log_file.open("ab") as log:
        process = subprocess.Popen(
            mlflow_server_command(server.backend_store_uri, server.artifacts_dir, port), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=server.log_file.parent, start_new_session=True)
    restarted = MlflowServer(process, server.uri, server.backend_store_uri, server.artifacts_dir, server.log_file)
    try:
        restarted.wait_until_healthy()
        yield restarted
    finally:
        restarted.stop()


def _check_nothing_counted_by_the_outage(study: optuna.Study, n_trials: int) -> None:
    trials = study.get_trials(deepcopy=False)
    failed = [t for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("fail_reason") != "interrupted"]
    assert not failed, [(t.number, t.user_attrs.get("fail_reason")) for t in failed]
    assert sum(t.state.is_finished() and t not in failed and t.user_attrs.get("fail_reason") != "interrupted"
               for t in trials) < n_trials
    assert "fer.test_score" not in study.user_attrs, "a test score was spent on a study the outage cut short"


def _check_complete(study: optuna.Study, n_trials: int, tracking_uri: str) -> None:
    trials = study.get_trials(deepcopy=False)
    interrupted = [t for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("fail_reason") == "interrupted"]
    counted = [t for t in trials if t.state.is_finished() and t not in interrupted]
    assert len(counted) == n_trials
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in counted), "a trial was failed"
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert study.user_attrs["fer.test_score"]["n_scores"] == 1
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(study.study_name)
    runs = client.search_runs([experiment.experiment_id], "", max_results=1000)
    assert not [r.info.run_id for r in runs if r.info.status == "RUNNING"], "a run was left RUNNING"


def test_killing_the_tracking_server_stops_three_workers_cleanly_and_the_study_resumes(
    workdir: Path, small_csv: Path, mlflow_server_factory: Callable[..., MlflowServer]
) -> None:
    server = mlflow_server_factory()
    n_trials = 8
    command = _run_command(small_csv, "outage", n_trials)
    workers = [subprocess.Popen(command, env=_env(server.uri), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for _ in range(3)]
    try:
        assert poll_until(lambda: _mid_study("outage", server.uri), timeout=300), "the study never got under way"
        os.killpg(server.pid, signal.SIGKILL)  # the server dies mid-study, without a word to its clients
        server.stop()
        outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, output in zip(workers, outputs, strict=True):
        errors = [line for line in output.splitlines() if line.startswith("error:")]
        assert worker.returncode == INFRASTRUCTURE_STATUS, output
        assert len(errors) == 1 and f"the MLflow tracking store {server.uri} did not answer" in errors[0], output
        assert "Traceback" not in output
    study = optuna.load_study(study_name="outage", storage=default_study_storage())
    _check_nothing_counted_by_the_outage(study, n_trials)
    assert study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), "the kill was not mid-study"

    with _restarted(server):
        resumed = subprocess.run(command, env=_env(server.uri), capture_output=True, text=True, timeout=600)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        _check_complete(optuna.load_study(study_name="outage", storage=default_study_storage()), n_trials,
                        server.uri)


def test_postgresql_dropping_every_session_mid_study_loses_nothing(
    workdir: Path, small_csv: Path, fresh_database: str, postgres_url: str, mlflow_server: str
) -> None:
    """pg_terminate_backend on every session of the study's database, as a server restart does to clients."""
    n_trials = 6
    command = _run_command(small_csv, "pgdrop", n_trials, "--storage", fresh_database)
    workers = [subprocess.Popen(command, env=_env(mlflow_server), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for _ in range(2)]
    study = None
    try:
        def running() -> bool:
            nonlocal study
            with contextlib.suppress(KeyError, optuna.exceptions.StorageInternalError):
                study = study or optuna.load_study(study_name="pgdrop", storage=fresh_database)
            return study is not None and any(
                t.intermediate_values for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))

        assert poll_until(running, timeout=300), "no trial started"
        n_terminated = terminate_backends(postgres_url, database_name(fresh_database))
        assert n_terminated >= 2  # at least each worker's pooled connection
        outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    statuses = [worker.returncode for worker in workers]
    if statuses != [0, 0]:  # a worker may have been mid-query: it stops cleanly, and a re-run resumes
        assert set(statuses) <= {0, INFRASTRUCTURE_STATUS}, "\n".join(outputs)
        resumed = subprocess.run(command, env=_env(mlflow_server), capture_output=True, text=True, timeout=600)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert all("Traceback" not in output for output in outputs), "\n".join(outputs)
    _check_complete(optuna.load_study(study_name="pgdrop", storage=fresh_database), n_trials, mlflow_server)
