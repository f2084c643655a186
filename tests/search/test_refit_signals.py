"""A refit process stopped by SIGTERM or killed outright: the same command continues it in the same run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from search._paths import default_tracking_uri, refit_dir
from tests.search._polling import wait_while_running
from tests.search._stage1 import run_stage1_deferred

pytestmark = pytest.mark.integration

EPOCHS = 12  # a signal after the first checkpointed epoch still finds the refit training


def _refit_command(study: str) -> list[str]:
    return [sys.executable, "-m", "search", "refit", "--study", study, "--top", "1", "--epochs", str(EPOCHS),
            "--patience", str(EPOCHS), "--tta", "none"]


def _training_state(study: str) -> dict | None:
    """The refit's committed state once it has a finished epoch and is still training (state.json is atomic)."""
    for path in refit_dir(study).glob("trial_*/state.json"):
        state = json.loads(path.read_text())
        if state["epochs_done"] >= 1 and state["status"] == "training":
            return state
    return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopped_refit_process_resumes_in_the_same_run(workdir: Path, small_csv: Path, sig: int) -> None:
    study = f"refit-sig{int(sig)}"
    run_stage1_deferred(small_csv, study, 2)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(_refit_command(study), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    started = wait_while_running(process, lambda: _training_state(study), what="a refit epoch was checkpointed")
    process.send_signal(sig)
    output, _ = process.communicate(timeout=120)
    client = MlflowClient(default_tracking_uri())
    stopped = client.get_run(started["run_id"])
    state_file = refit_dir(study) / f"trial_{started['trial']}" / "state.json"
    at_stop = json.loads(state_file.read_text())
    assert at_stop["status"] == "training" and 1 <= at_stop["epochs_done"] < EPOCHS
    if sig == signal.SIGTERM:
        assert process.returncode == 130, output
        assert "keeps its last finished epoch" in output
        assert stopped.info.status == "KILLED" and stopped.data.tags["fer.state"] == "interrupted"
    else:
        assert process.returncode == -signal.SIGKILL
        assert stopped.info.status == "RUNNING"  # nobody could close it: the next command does

    resumed = subprocess.run(_refit_command(study), env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"continues from its checkpoint after epoch {at_stop['epochs_done']}" in resumed.stderr
    final = json.loads(state_file.read_text())
    assert final["status"] == "complete" and final["run_id"] == started["run_id"] and final["n_resumes"] == 1
    run = client.get_run(started["run_id"])
    assert run.info.status == "FINISHED" and run.data.tags["fer.n_resumes"] == "1"
    steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, "val_accuracy"))
    assert steps == list(range(1, final["epochs_done"] + 1))  # every epoch once, none lost or repeated
