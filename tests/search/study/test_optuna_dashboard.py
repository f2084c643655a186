"""optuna-dashboard reads a study's storage (``mlruns/optuna.db``) as ``search run`` leaves it, on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import optuna
import pytest

from search.paths import STUDY_DB_NAME, default_study_storage, mlruns_dir
from tests._services import free_port, live_group_members, log_tail
from tests.fixtures.studies import SmokeStudy

pytestmark = pytest.mark.integration

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
LISTEN_STATE = "0A"  # TCP_LISTEN in /proc/net/tcp


def _get_json(url: str) -> dict | None:
    """The JSON answer at ``url``, or None while nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (urllib.error.URLError, ConnectionError):
        return None


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (IPv4 and IPv6, as hex from /proc/net) that listen on ``port``."""
    addresses = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.is_file():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == LISTEN_STATE:
                addresses.add(address)
    return addresses


def test_dashboard_serves_the_study_storage_on_loopback(workdir: Path, smoke_study: SmokeStudy) -> None:
    executable = shutil.which("optuna-dashboard")
    if executable is None:
        pytest.skip("optuna-dashboard is not installed (pip install -e '.[dev]' installs it)")
    study_name = smoke_study.copy_to(workdir)
    n_trials = len(optuna.load_study(study_name=study_name, storage=default_study_storage()).trials)
    database = mlruns_dir() / STUDY_DB_NAME
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "dashboard.log"
    # The command docs/usage.md gives, from the folder that holds ./mlruns. HOME: gunicorn's control socket.
    command = [executable, f"sqlite:///mlruns/{STUDY_DB_NAME}", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=workdir, env={**os.environ, "HOME": str(workdir)}, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while (studies := _get_json(f"{url}/api/studies")) is None:
            if process.poll() is not None:
                pytest.fail(f"optuna-dashboard exited with {process.returncode}:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"optuna-dashboard did not answer within {START_TIMEOUT_S:.0f} s:\n{log_tail(log)}")
            time.sleep(0.5)
        summaries = {summary["study_name"]: summary for summary in studies["study_summaries"]}
        assert study_name in summaries, studies
        detail = _get_json(f"{url}/api/studies/{summaries[study_name]['study_id']}")
        assert detail is not None and len(detail["trials"]) == n_trials
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            left = live_group_members(process.pid)
            if left:  # only when stopping failed: never leave a server behind
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, log_tail(log)
    assert left == [] and _listening_addresses(port) == set()
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before  # read, never written
