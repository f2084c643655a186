"""The one-time test score under concurrency: eight ``python -m search test`` processes on one study.

Real processes on a copy of the session's finished stage-1 study (its test split not used yet): the
decision "not scored yet" and the record are made under the study lock, so exactly one process scores
and the seven others are refused with the one-time rule, and the study and MLflow hold one score.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from search.paths import default_study_storage, default_tracking_uri
from search.study import PARENT_RUN_ATTR, TEST_SCORE_ATTR
from search.tracking import TEST_SCORES_TAG, confusion_artifact, score_artifact

pytestmark = pytest.mark.integration

N_PROCESSES = 8


def test_eight_concurrent_test_commands_score_once(workdir: Path, stage1: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    processes = [
        subprocess.Popen([sys.executable, "-m", "search", "test", "--study", stage1], cwd=workdir, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(N_PROCESSES)
    ]
    results = [(process.wait(timeout=600), *process.communicate()) for process in processes]

    scored = [(out, err) for status, out, err in results if status == 0]
    refused = [(status, err) for status, _, err in results if status != 0]
    assert len(scored) == 1, results
    assert scored[0][0].startswith("Test accuracy of trial #"), scored
    assert len(refused) == N_PROCESSES - 1, results
    for status, err in refused:
        assert status == 1, err
        last_line = err.strip().splitlines()[-1]
        assert last_line.startswith(f"error: Study {stage1!r} was already scored on the test split ("), err
        assert "The test split is used once per study; pass --force to re-score" in last_line, err

    study = optuna.load_study(study_name=stage1, storage=default_study_storage())
    assert study.user_attrs[TEST_SCORE_ATTR]["n_scores"] == 1
    client = MlflowClient(default_tracking_uri())
    parent = client.get_run(study.user_attrs[PARENT_RUN_ATTR])
    assert parent.data.tags[TEST_SCORES_TAG] == "1"
    history = client.get_metric_history(parent.info.run_id, "test_accuracy")
    assert [(m.step, m.value) for m in history] == [(1, study.user_attrs[TEST_SCORE_ATTR]["accuracy"])]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "test")}
    assert artifacts == {score_artifact(1), confusion_artifact(1)}
