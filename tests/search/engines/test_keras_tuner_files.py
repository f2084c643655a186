"""Keras Tuner's files a resume reads (``oracle.json``, ``trial.json``) are replaced whole, never half-written.

A real Keras Tuner oracle in a temporary project folder; no training.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras_tuner
import pytest

from search.engines._keras_tuner import save_atomically


def _oracle(folder: Path) -> keras_tuner.Oracle:
    space = keras_tuner.HyperParameters()
    space.Int("units", 1, 8)
    oracle = keras_tuner.oracles.RandomSearchOracle(objective=keras_tuner.Objective("score", "max"), max_trials=3,
                                                    hyperparameters=space, seed=1)
    oracle._set_project_dir(str(folder), "study")
    save_atomically(oracle)
    return oracle


def test_oracle_and_trial_files_are_replaced_by_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    oracle = _oracle(tmp_path)
    trial = oracle.create_trial("worker")
    oracle.save()
    project = tmp_path / "study"
    oracle_file, trial_file = project / "oracle.json", project / f"trial_{trial.trial_id}" / "trial.json"
    old = [path.open("rb") for path in (oracle_file, trial_file)]  # held open: still readable once replaced

    oracle.update_trial(trial.trial_id, {"score": 0.5})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)  # saves the trial and the oracle
    for handle in old:
        assert os.fstat(handle.fileno()).st_nlink == 0, f"{handle.name} was rewritten in place, not replaced"
        json.loads(handle.read())  # the old version stayed whole
        handle.close()
    assert json.loads(trial_file.read_text())["status"] == "COMPLETED"

    saved = oracle_file.read_bytes()
    monkeypatch.setattr(json, "dumps", lambda *_args, **_kwargs: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        oracle.save()
    assert oracle_file.read_bytes() == saved
    assert not [name for name in os.listdir(project) if name.startswith(".tmp-")]

    monkeypatch.undo()
    reloaded = _oracle(tmp_path)
    reloaded.reload()
    assert reloaded.trials[trial.trial_id].status == "COMPLETED"
