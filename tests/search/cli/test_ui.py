"""``python -m search ui``: flags checked early, and a real MLflow server on the study's store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import optuna
import pytest

from search import main
from search.errors import UiError
from search.paths import default_study_storage
from search.tracking import UiSettings, mlflow_server_command, port_is_free, server_environment
from tests.fixtures.studies import SmokeStudy

START_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _local_settings(tmp_path: Path, **changes: object) -> UiSettings:
    values = {"tracking_uri": f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}",
              "artifacts_dir": tmp_path / "mlruns" / "artifacts", **changes}
    return UiSettings(**values)


# --- flags and checks (no server) -------------------------------------------------------------------------
def test_command_serves_the_store_and_its_artifacts_on_loopback(tmp_path: Path) -> None:
    settings = _local_settings(tmp_path, port=5123)
    command = mlflow_server_command(settings)
    artifacts_uri = (tmp_path / "mlruns" / "artifacts").as_uri()
    assert command[:4] == [sys.executable, "-m", "mlflow", "server"]

    def flag(name: str) -> str:
        return command[command.index(name) + 1]

    assert "--backend-store-uri" not in command and settings.tracking_uri not in command  # argv is public
    assert server_environment(settings)["MLFLOW_BACKEND_STORE_URI"] == settings.tracking_uri
    assert flag("--default-artifact-root") == artifacts_uri and flag("--artifacts-destination") == artifacts_uri
    assert "--serve-artifacts" in command
    assert (flag("--host"), flag("--port"), flag("--workers")) == ("127.0.0.1", "5123", "1")
    assert settings.url == "http://127.0.0.1:5123" and settings.is_loopback


@pytest.mark.parametrize("port", [0, 65536])
def test_port_out_of_range_is_refused(tmp_path: Path, port: int) -> None:
    with pytest.raises(UiError, match=rf"--port must be between 1 and 65535 \(port={port}\)"):
        _local_settings(tmp_path, port=port)


def test_tracking_server_uri_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UiError, match=r"'http://mlflow.example:5000' .* a tracking server: it already serves"):
        _local_settings(tmp_path, tracking_uri="http://mlflow.example:5000")


def test_tracking_server_uri_with_a_password_is_refused_without_it(tmp_path: Path) -> None:
    with pytest.raises(UiError, match=r"'https://user:\*\*\*@mlflow.example/\?token=\*\*\*'") as raised:
        _local_settings(tmp_path, tracking_uri="https://user:S3cret@mlflow.example/?token=T0ken")
    assert "S3cret" not in str(raised.value) and "T0ken" not in str(raised.value)


def test_host_that_is_not_this_machine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UiError, match=r"Cannot listen on no-such-host.invalid:5000 .*pass --host 127.0.0.1"):
        port_is_free("no-such-host.invalid", 5000)


def test_ipv6_url_is_bracketed(tmp_path: Path) -> None:
    assert _local_settings(tmp_path, host="::1", port=5001).url == "http://[::1]:5001"


def test_missing_store_is_one_error_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--port", str(_free_port())]) == 1
    error = capsys.readouterr().err
    assert f"error: No MLflow store at {workdir / 'mlruns' / 'mlflow.db'}: run a study first" in error


def test_port_in_use_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "mlruns").mkdir()
    (workdir / "mlruns" / "mlflow.db").touch()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["ui", "--port", str(port)]) == 1
    assert f"error: Port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_binding_beyond_loopback_warns(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--host", "0.0.0.0", "--port", str(_free_port())]) == 1  # no store: stops there
    error = capsys.readouterr().err
    assert "warning: binding the MLflow UI to 0.0.0.0" in error and "no authentication" in error


def test_loopback_does_not_warn(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ui", "--host", "localhost", "--port", str(_free_port())])
    assert "warning" not in capsys.readouterr().err


# --- a real server --------------------------------------------------------------------------------------
def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _wait_for_line(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            pytest.fail(f"`search ui` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"`search ui` did not print {text!r} within {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")


def _pids_with_port_flag(port: int) -> list[int]:
    """Processes whose command line has ``--port <port>`` (the UI's server and its worker)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--port" in args and str(port).encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.integration
def test_ui_serves_the_study_and_stops_cleanly(workdir: Path, smoke_study: SmokeStudy) -> None:
    study = smoke_study.copy_to(workdir)  # a finished study in ./mlruns, as `search run` leaves it
    trial_numbers = {str(trial.number) for trial in
                     optuna.load_study(study_name=study, storage=default_study_storage()).trials}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "ui.log"
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "search", "ui", "--port", str(port)], cwd=workdir,
                                   env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_line(process, log, f"MLflow UI: {url}")
        experiment = _get(f"{url}/api/2.0/mlflow/experiments/get-by-name?"
                          + urllib.parse.urlencode({"experiment_name": study}))["experiment"]
        runs = _post(f"{url}/api/2.0/mlflow/runs/search",
                     {"experiment_ids": [experiment["experiment_id"]], "max_results": 100})["runs"]
        tags = {run["info"]["run_id"]: {t["key"]: t["value"] for t in run["data"]["tags"]} for run in runs}
        parents = [run_id for run_id, run_tags in tags.items() if run_tags.get("fer.role") == "study"]
        assert len(parents) == 1
        trials = {run_tags["fer.trial_number"] for run_tags in tags.values()
                  if run_tags.get("mlflow.parentRunId") == parents[0] and run_tags.get("fer.role") == "trial"}
        assert trials == trial_numbers
        # The artifacts are served too (the parent run's class counts).
        with urllib.request.urlopen(f"{url}/get-artifact?run_id={parents[0]}&path=data/class_counts.csv",
                                    timeout=10) as response:
            assert response.read().decode().startswith("emotion,train")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            returncode = process.wait(timeout=60)
        finally:
            leftovers = _pids_with_port_flag(port)
            for pid in leftovers:  # only reached when stopping failed; never leave servers behind
                os.kill(pid, signal.SIGKILL)
    assert returncode == 0, log.read_text()[-3000:]
    assert leftovers == [], f"processes left running after the UI stopped: {leftovers}"
    assert port_is_free("127.0.0.1", port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert not (workdir / "mlartifacts").exists()
