"""`refit --timeout`: each refit's epochs are planned from its measured speed to fit the wall-clock budget."""

from __future__ import annotations

import json
import time
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from fer_core.errors import ConfigError
from search import main
from search.paths import default_study_storage, default_tracking_uri, refit_dir
from search.refit import CandidateSpeed, PendingRefit, RefitBudget, RefitOptions, plan_epochs
from search.selection import recorded_selection
from tests.search._interrupt import refit_interrupted_after_first_epoch

SPEED = CandidateSpeed(train_images_per_s=1000.0, predict_images_per_s=2000.0)
N_TRAIN, N_VALIDATION = 10_000, 2_000
EPOCH_S = SPEED.epoch_seconds(N_TRAIN, N_VALIDATION)


def test_epoch_seconds_count_a_training_and_a_validation_pass_plus_overhead() -> None:
    pure = N_TRAIN / 1000.0 + N_VALIDATION / 2000.0  # 11 s
    assert pure < EPOCH_S < 1.2 * pure + 2


def test_each_unstarted_refit_gets_an_equal_share_of_the_time_left_after_the_reserve() -> None:
    now = time.monotonic()
    plan = plan_epochs(deadline=now + 1000, speed=SPEED, n_train=N_TRAIN, n_validation=N_VALIDATION,
                       reserve_s=100, n_unstarted=2, max_epochs=500)
    assert plan.share_s == pytest.approx(450, abs=1)
    assert plan.n_epochs == int(plan.share_s // EPOCH_S)
    assert plan.n_epochs * EPOCH_S <= plan.share_s < (plan.n_epochs + 1) * EPOCH_S
    assert now + plan.share_s <= plan.stop_at <= now + 900 + 1  # some slack, never into the reserve


def test_planned_epochs_stay_between_one_and_max_epochs() -> None:
    now = time.monotonic()
    capped = plan_epochs(deadline=now + 10_000, speed=SPEED, n_train=N_TRAIN, n_validation=N_VALIDATION,
                         reserve_s=0, n_unstarted=1, max_epochs=20)
    assert capped.n_epochs == 20
    late = plan_epochs(deadline=now - 5, speed=SPEED, n_train=N_TRAIN, n_validation=N_VALIDATION,
                       reserve_s=0, n_unstarted=3, max_epochs=20)
    assert late.n_epochs == 1 and late.share_s == 0 and late.stop_at >= now + EPOCH_S  # one epoch at least


def test_a_continued_refit_keeps_its_epochs_and_the_next_refit_plans_around_it() -> None:
    now = time.monotonic()
    budget = RefitBudget(now + 2000, [PendingRefit(3, SPEED, planned_epochs=12, epochs_done=2), PendingRefit(5, SPEED)],
                         n_refits=2, n_train=N_TRAIN, n_validation=N_VALIDATION, n_test=2000, n_views=2,
                         ensemble_max=2)
    assert budget.has(3) and budget.has(5) and not budget.has(4)
    continued = budget.plan(3, max_epochs=500)
    assert continued.n_epochs == 12 and not budget.has(3)  # the length it was started with (the checkpoint's)
    fresh = budget.plan(5, max_epochs=500)
    expected_share = 2000 - budget.reserve_s  # the continued refit is planned before it: not reserved
    assert fresh.share_s == pytest.approx(expected_share, abs=2)

    budget = RefitBudget(now + 2000, [PendingRefit(5, SPEED), PendingRefit(3, SPEED, planned_epochs=12, epochs_done=2)],
                         n_refits=2, n_train=N_TRAIN, n_validation=N_VALIDATION, n_test=2000, n_views=2,
                         ensemble_max=2)
    first = budget.plan(5, max_epochs=500)  # the continued refit runs after it: its 10 epochs are reserved
    assert first.share_s == pytest.approx(2000 - budget.reserve_s - 10 * EPOCH_S, abs=2)


def test_timeout_is_validated(workdir: Path, capsys) -> None:
    with pytest.raises(ConfigError, match=r"--timeout must be a number of seconds > 0 \(got 0\)"):
        RefitOptions(timeout_s=0)
    assert main(["run", "--space", "smoke", "--refit-timeout", "60"]) == 2
    assert "--refit-timeout 60 needs --refit-top K" in capsys.readouterr().err


# --- with real training ----------------------------------------------------------------------------------
def _refit_runs(study_name: str) -> list:
    study = optuna.load_study(study_name=study_name, storage=default_study_storage())
    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(study_name)
    parent = study.user_attrs["fer.mlflow_parent_run_id"]
    return client.search_runs([experiment.experiment_id],
                              f"tags.`mlflow.parentRunId` = '{parent}' and tags.`fer.role` = 'refit'")


@pytest.mark.integration
def test_refit_timeout_plans_epochs_that_fill_the_budget(stage1: str, capsys) -> None:
    capsys.readouterr()
    timeout = 45.0  # 30 s left one refit a single epoch when a benchmark loaded both cores
    started = time.perf_counter()
    assert main(["refit", "--study", stage1, "--top", "2", "--epochs", "1000", "--patience", "1000",
                 "--tta", "none", "--timeout", str(timeout)]) == 0
    elapsed = time.perf_counter() - started
    output = capsys.readouterr()
    assert output.err.count("epochs planned") == 2

    runs = _refit_runs(stage1)
    assert len(runs) == 2
    planned = [int(run.data.params["refit.epochs"]) for run in runs]
    assert all(1 < n < 1000 for n in planned)  # more than the minimum, far fewer than --epochs
    assert all(run.data.tags["fer.state"] == "complete" for run in runs)
    assert 0.4 * timeout < elapsed < 1.5 * timeout  # the budget is used (tiny data: fixed costs weigh), not overrun
    assert recorded_selection(optuna.load_study(study_name=stage1, storage=default_study_storage())) is not None


@pytest.mark.integration
def test_a_refit_stops_at_the_end_of_its_share_when_epochs_are_slower_than_measured(
        stage1: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    # The plan believes epochs take 10 ms, so it plans far more than fit: the share's end must stop the refit.
    # 20 s: start-up, the speed probe and the evaluation reserve must leave a share even on a loaded machine
    # (with 8 s, a machine loaded by a benchmark left a share of 0 s, hence a plan of one epoch that ended on time).
    monkeypatch.setattr(CandidateSpeed, "epoch_seconds", lambda self, n_train, n_validation: 0.01)
    assert main(["refit", "--study", stage1, "--top", "1", "--epochs", "100000", "--patience", "100000",
                 "--tta", "none", "--timeout", "20"]) == 0
    (run,) = _refit_runs(stage1)
    planned = int(run.data.params["refit.epochs"])
    assert run.data.tags["fer.state"] == "complete" and run.data.tags["fer.outcome"] == "timeout"
    trial = int(run.data.tags["fer.refit_of"])
    state = json.loads((refit_dir(stage1) / f"trial_{trial}" / "state.json").read_text())
    assert state["timed_out"] is True and 1 <= state["epochs_done"] < planned


@pytest.mark.integration
def test_an_interrupted_budgeted_refit_continues_with_the_epochs_it_was_planned_with(
        stage1: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    refit = ["refit", "--study", stage1, "--top", "1", "--epochs", "1000", "--patience", "1000",
             "--tta", "none", "--timeout", "20"]
    with refit_interrupted_after_first_epoch(monkeypatch):
        assert main(refit) == 130
    (run,) = _refit_runs(stage1)
    planned = int(run.data.params["refit.epochs"])
    assert planned > 1
    capsys.readouterr()

    assert main(refit) == 0  # a new --timeout clock; the refit keeps its planned length
    assert "continues from its checkpoint after epoch 1" in capsys.readouterr().err
    (resumed,) = _refit_runs(stage1)
    assert resumed.info.run_id == run.info.run_id and resumed.data.tags["fer.state"] == "complete"
    assert resumed.data.params["refit.epochs"] == str(planned)
