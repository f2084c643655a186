"""A refit process stopped by SIGTERM, and one killed outright: the same command continues it in the same run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from search import main
from search.paths import default_tracking_uri, refit_dir
from tests.search._polling import wait_while_running

pytestmark = pytest.mark.integration

EPOCHS = 12  # two stops, each after a checkpointed epoch, still find the refit training


def _refit_command(study: str) -> list[str]:
    return [sys.executable, "-m", "search", "refit", "--study", study, "--top", "1", "--epochs", str(EPOCHS),
            "--patience", str(EPOCHS), "--tta", "none"]


def _training_state(study: str, after_epoch: int = 0) -> dict | None:
    """The refit's committed state once it has finished an epoch past ``after_epoch`` and is still training.

    (state.json is written atomically, so a read never sees half a file.)
    """
    for path in refit_dir(study).glob("trial_*/state.json"):
        state = json.loads(path.read_text())
        if state["epochs_done"] > after_epoch and state["status"] == "training":
            return state
    return None


def _start_refit(study: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(_refit_command(study), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_a_refit_stopped_by_sigterm_then_killed_resumes_in_the_same_run(stage1: str, capsys) -> None:
    """SIGTERM after a checkpointed epoch, SIGKILL of the continued process, then the same command to the end."""
    study = stage1
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    client = MlflowClient(default_tracking_uri())

    terminated = _start_refit(study, env)
    started = wait_while_running(terminated, lambda: _training_state(study), what="a refit epoch was checkpointed")
    terminated.send_signal(signal.SIGTERM)
    output, _ = terminated.communicate(timeout=120)
    state_file = refit_dir(study) / f"trial_{started['trial']}" / "state.json"
    at_term = json.loads(state_file.read_text())
    assert terminated.returncode == 130, output
    assert "keeps its last finished epoch" in output
    assert at_term["status"] == "training" and 1 <= at_term["epochs_done"] < EPOCHS
    stopped = client.get_run(started["run_id"])
    assert stopped.info.status == "KILLED" and stopped.data.tags["fer.state"] == "interrupted"

    killed = _start_refit(study, env)
    wait_while_running(killed, lambda: _training_state(study, after_epoch=at_term["epochs_done"]),
                       what="the continued refit checkpointed an epoch")
    killed.kill()
    output, _ = killed.communicate(timeout=120)
    at_kill = json.loads(state_file.read_text())
    assert killed.returncode == -signal.SIGKILL, output
    assert f"continues from its checkpoint after epoch {at_term['epochs_done']}" in output
    assert at_kill["run_id"] == started["run_id"] and at_term["epochs_done"] < at_kill["epochs_done"] < EPOCHS
    assert client.get_run(started["run_id"]).info.status == "RUNNING"  # nobody could close it: the next command does

    capsys.readouterr()
    assert main(_refit_command(study)[3:]) == 0  # the same command, run here (saves a process start-up)
    assert f"continues from its checkpoint after epoch {at_kill['epochs_done']}" in capsys.readouterr().err
    final = json.loads(state_file.read_text())
    assert final["status"] == "complete" and final["run_id"] == started["run_id"] and final["n_resumes"] == 2
    run = client.get_run(started["run_id"])
    assert run.info.status == "FINISHED" and run.data.tags["fer.n_resumes"] == "2"
    steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, "val_accuracy"))
    assert steps == list(range(1, final["epochs_done"] + 1))  # every epoch once, none lost or repeated
