"""Infrastructure failures told from bad candidates, on real errors; riding them out against real services."""

from __future__ import annotations

import errno
import http.server
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import optuna
import pytest
import requests

from search.errors import InfrastructureError, SearchError
from search.study import FaultRetry, Heartbeat, Service, fault_summary, is_infrastructure_error, open_storage
from search.study._workers import combined_status
from search.tracking import probe_store
from tests._services import database_name, free_port


def _raised(action) -> BaseException:
    try:
        action()
    except BaseException as error:  # noqa: BLE001 - the test wants whatever was raised
        return error
    raise AssertionError("nothing was raised")


def test_a_refused_connection_is_infrastructure() -> None:
    port = free_port()
    assert is_infrastructure_error(_raised(lambda: socket.create_connection(("127.0.0.1", port), timeout=2)))
    assert is_infrastructure_error(_raised(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=2)))


def test_mlflow_on_a_dead_server_is_infrastructure(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = MlflowClient(f"http://user:s3cret@127.0.0.1:{free_port()}")
    error = _raised(lambda: client.get_experiment_by_name("x"))
    assert isinstance(error, MlflowException)  # MLflow wraps the refused connection in its own error
    assert is_infrastructure_error(error)
    assert "s3cret" not in fault_summary(error)


def test_a_database_that_does_not_answer_is_infrastructure() -> None:
    from sqlalchemy import create_engine

    engine = create_engine(f"postgresql://fer@127.0.0.1:{free_port()}/none", connect_args={"connect_timeout": 2})
    assert is_infrastructure_error(_raised(engine.connect))


def test_a_real_full_disk_is_infrastructure() -> None:
    def write_to_full_device() -> None:
        with open("/dev/full", "w") as handle:
            handle.write("x")

    error = _raised(write_to_full_device)
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert is_infrastructure_error(error)
    assert is_infrastructure_error(_raised(lambda: _reraise_as_runtime(error)))  # found through __cause__


def _reraise_as_runtime(error: BaseException) -> None:
    raise RuntimeError("saving the weights failed") from error


def test_a_broken_study_storage_is_infrastructure(tmp_path: Path) -> None:
    """Optuna wraps the driver's OperationalError in StorageInternalError; the cause is followed."""
    storage = open_storage(f"sqlite:///{tmp_path / 'broken.db'}")
    study = optuna.create_study(storage=storage, study_name="s")
    with sqlite3.connect(tmp_path / "broken.db") as db:
        db.execute("DROP TABLE study_user_attributes")
    error = _raised(lambda: study.set_user_attr("k", "v"))
    assert isinstance(error, optuna.exceptions.StorageInternalError)
    assert is_infrastructure_error(error)


@pytest.mark.parametrize("action", [
    lambda: np.zeros(-1),  # a candidate's impossible shape
    lambda: Path("/nonexistent/weights.h5").read_bytes(),  # a missing file is the user's, not the infrastructure's
    lambda: {}["units"],
    lambda: bytearray(1 << 62),  # MemoryError: the candidate is too big
], ids=["value", "missing-file", "key", "memory"])
def test_a_candidate_error_is_not_infrastructure(action) -> None:
    assert not is_infrastructure_error(_raised(action))


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def late_server() -> Iterator[tuple[int, threading.Event]]:
    """A port with nothing on it until the returned event is set; then an HTTP server answers /health."""
    port, start = free_port(), threading.Event()
    servers: list[http.server.HTTPServer] = []

    def serve() -> None:
        start.wait()
        server = http.server.HTTPServer(("127.0.0.1", port), _Health)
        servers.append(server)
        server.serve_forever(poll_interval=0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port, start
    start.set()
    for server in servers:
        server.shutdown()


def test_riding_out_returns_once_the_service_answers(late_server: tuple[int, threading.Event]) -> None:
    port, start = late_server
    service = Service("the test server", lambda: probe_store(f"http://127.0.0.1:{port}", timeout_s=1))
    notices: list[str] = []
    retry = FaultRetry([service], budget_s=30, notify=notices.append)
    threading.Timer(1.5, start.set).start()
    began = time.monotonic()
    retry.ride_out(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "trial #0")
    assert 1.5 <= time.monotonic() - began < 15
    assert notices == ["trial #0 hit an infrastructure failure (ConnectionRefusedError: [Errno 111] Connection "
                       "refused); retrying for up to 30 s."]


def test_riding_out_gives_up_after_the_budget_naming_the_service() -> None:
    url = f"http://user:s3cret@127.0.0.1:{free_port()}"
    service = Service("the MLflow tracking store http://user:***@127.0.0.1", lambda: probe_store(url, timeout_s=1))
    retry = FaultRetry([service], budget_s=1.0, notify=lambda _: None)
    error = _raised(lambda: requests.get(f"{url}/api", timeout=1))
    began = time.monotonic()
    with pytest.raises(InfrastructureError) as raised:
        retry.ride_out(error, "trial #3")
    assert time.monotonic() - began < 10
    message = str(raised.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith("the MLflow tracking store http://user:***@127.0.0.1 did not answer for 1 s")
    assert raised.value.exit_status == 75 and isinstance(raised.value, SearchError)


def test_a_full_disk_is_retried_then_named() -> None:
    """No probe can see a disk: the work is tried again after a backoff, until the budget is spent."""
    retry = FaultRetry([], budget_s=1.5, notify=lambda _: None)
    full = OSError(errno.ENOSPC, "No space left on device", "/data/weights.h5")
    retry.ride_out(full, "trial #1")  # the first failure: try again at once
    retry.ride_out(full, "trial #1")  # the second waits a backoff first
    with pytest.raises(InfrastructureError, match=r"^the disk \(/data/weights.h5\) kept failing for 1.5 s"):
        for _ in range(10):
            retry.ride_out(full, "trial #1")


def test_heartbeat_write_errors_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'hb.db'}", heartbeat_s=1)
    study = optuna.create_study(storage=storage, study_name="hb")
    trial = study.ask()
    with caplog.at_level(logging.WARNING, logger="search.study._heartbeat"), Heartbeat(storage, trial._trial_id):
        with sqlite3.connect(tmp_path / "hb.db") as db:
            db.execute("DROP TABLE trial_heartbeats")
        deadline = time.monotonic() + 15
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.05)
    assert caplog.records, "a failed heartbeat was not logged"
    assert f"Heartbeat of trial id {trial._trial_id} not recorded" in caplog.records[0].getMessage()


def test_a_postgresql_storage_survives_its_connections_being_killed(fresh_database: str, postgres_url: str) -> None:
    """pool_pre_ping: a connection the server dropped (a restart) is replaced before use, not failed on."""
    storage = open_storage(fresh_database)
    study = optuna.create_study(storage=storage, study_name="pg")
    study.set_user_attr("before", 1)  # the pool now holds an open connection
    assert terminate_backends(postgres_url, database_name(fresh_database)) >= 1
    study.set_user_attr("after", 2)  # without pre-ping: OperationalError, server closed the connection
    assert study.user_attrs == {"before": 1, "after": 2}


def terminate_backends(admin_url: str, database: str) -> int:
    """Ends every session on ``database`` as a server restart does for its clients; returns how many."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url)
    try:
        with engine.connect() as connection:
            ended = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": database}).scalar()
    finally:
        engine.dispose()
    return int(ended or 0)


def test_workers_statuses_combine_into_one() -> None:
    assert combined_status([0, 0, 0]) == 0
    assert combined_status([75, 75, 0]) == 75
    assert combined_status([75, 1, 0]) == 1
    assert combined_status([75, 130]) == 130
    assert combined_status([-9, 0]) == 1


def test_a_negative_retry_budget_is_a_usage_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from search import main

    assert main(["run", "--space", "smoke", "--retry-for", "-1"]) == 2
    assert "--retry-for must be >= 0 seconds (got -1)" in capsys.readouterr().err
