"""A refit that meets a tracking store outage is not failed: it waits for the store and goes on."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from mlflow import MlflowClient

from search import main
from search.paths import default_tracking_uri, mlruns_dir, refit_dir
from search.refit import RefitProgress

EPOCHS = 3
LOCK_S = 22.0  # longer than MLflow's SQLite busy_timeout (20 s): its next write fails "database is locked"


@contextlib.contextmanager
def tracking_store_locked_after_first_epoch(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """After the first refit epoch, another connection holds the tracking database locked for ``LOCK_S`` s.

    The returned event is set once the lock is released.
    """
    released, taken = threading.Event(), threading.Event()
    original_epoch = RefitProgress.epoch

    def hold_lock() -> None:
        with contextlib.closing(sqlite3.connect(mlruns_dir() / "mlflow.db", timeout=30)) as db:
            db.execute("BEGIN EXCLUSIVE")
            taken.set()
            time.sleep(LOCK_S)
            db.rollback()
        released.set()

    def lock_after_first_epoch(self: RefitProgress, epoch: int, *args: object) -> None:
        original_epoch(self, epoch, *args)
        if epoch == 1 and not taken.is_set():
            threading.Thread(target=hold_lock, daemon=True).start()
            taken.wait(30)

    with monkeypatch.context() as patch:
        patch.setattr(RefitProgress, "epoch", lock_after_first_epoch)
        yield released


@pytest.mark.integration
def test_a_refit_rides_out_a_locked_tracking_store_and_is_not_failed(
        stage1: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    refit = ["refit", "--study", stage1, "--top", "1", "--epochs", str(EPOCHS), "--tta", "none"]
    with tracking_store_locked_after_first_epoch(monkeypatch) as released:
        assert main(refit) == 0
        assert released.is_set(), "the store was never locked: the test proved nothing"
    assert "hit an infrastructure failure" in capsys.readouterr().err

    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(stage1)
    runs = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'refit'")
    assert len(runs) == 1, "the outage made a second run for one refit"
    (run,) = runs
    assert run.info.status == "FINISHED" and run.data.tags["fer.state"] == "complete"
    assert int(run.data.tags["fer.n_resumes"]) >= 1  # it went on from its checkpoint, in the same run
    trial = int(run.data.tags["fer.refit_of"])
    state = json.loads((refit_dir(stage1) / f"trial_{trial}" / "state.json").read_text())
    assert state["status"] == "complete" and state["epochs_done"] == EPOCHS
