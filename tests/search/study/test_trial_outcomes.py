"""Candidates that cannot be trained end as failed trials with their reason; the study goes on."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from search import main
from search.paths import default_study_storage, default_tracking_uri

pytestmark = pytest.mark.integration

BASE = """
architecture:
  n_blocks: {n_blocks}
  blocks: {{n_convs: 1, filters: {{int: [4, 8], step: 4}}, padding: {padding}, pooling: max, pool_size: 4}}
  head: gap
training:
  optimizer: sgd
  learning_rate: {learning_rate}
  batch_size: 32
  epochs: 2
  early_stopping_patience: null
  schedule: none
"""


def _space(tmp_path: Path, name: str, *, budget: str = "", n_blocks: int = 1, padding: str = "same",
           learning_rate: str = "0.01") -> Path:
    path = tmp_path / f"{name}.yaml"
    text = BASE.format(n_blocks=n_blocks, padding=padding, learning_rate=learning_rate)
    path.write_text(budget + text)
    return path


def _run_and_collect(space: Path, csv: Path, study_name: str, n_trials: int = 2) -> list:
    assert main(["run", "--space", str(space), "--data", str(csv), "--study", study_name,
                 "--trials", str(n_trials)]) == 0
    study = optuna.load_study(study_name=study_name, storage=default_study_storage())
    assert len(study.trials) == n_trials
    client = MlflowClient(default_tracking_uri())
    for trial in study.trials:
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.info.status == "FAILED"
        assert run.data.tags["fer.state"] == "failed"
        assert run.data.tags["fer.reason"] == trial.user_attrs["fail_reason"]
    return study.trials


def test_candidate_over_the_macs_budget_fails_before_training(workdir_with_store: Path, small_csv: Path) -> None:
    space = _space(workdir_with_store, "budget", budget="budget: {max_macs: 1000}\n")
    trials = _run_and_collect(space, small_csv, "budget")
    assert all(t.state == TrialState.FAIL for t in trials)
    assert all(t.user_attrs["fail_reason"].startswith("over the MACs budget: ") for t in trials)
    assert all(not t.intermediate_values for t in trials)


def test_candidate_whose_feature_map_vanishes_fails_with_the_geometry_reason(
    workdir_with_store: Path, small_csv: Path
) -> None:
    space = _space(workdir_with_store, "geometry", n_blocks=4, padding="valid")
    trials = _run_and_collect(space, small_csv, "geometry")
    assert all("invalid candidate" in t.user_attrs["fail_reason"] for t in trials)
    assert all("block" in t.user_attrs["fail_reason"] for t in trials)


def test_diverging_candidate_fails_as_nan(workdir_with_store: Path, small_csv: Path) -> None:
    # 1e38 is near float32's largest value: the first steps overflow the weights to inf, so the loss is NaN
    # whatever units the updates kill (at 1e30 a candidate whose ReLUs all died trained on at a finite loss).
    space = _space(workdir_with_store, "nan", learning_rate="1.0e38")
    trials = _run_and_collect(space, small_csv, "nan", n_trials=1)
    assert trials[0].user_attrs["fail_reason"].startswith("diverged: NaN loss")


def test_pruner_is_told_the_best_validation_accuracy_so_far() -> None:
    from search.study import BestSoFar

    best = BestSoFar()
    reported = [best.update(value) for value in (float("nan"), 0.30, 0.25, float("nan"), 0.35, 0.31)]
    assert math.isnan(reported[0])
    assert reported[1:] == [0.30, 0.30, 0.30, 0.35, 0.35]
