"""A real ``run`` with the default engine, on a fresh install: no ``--data`` (the synthetic demo set), the
default sampler (TPE) past its random start-up trials, and the default pruner (Hyperband) pruning.

One study for the module: 11 trials of the smoke space, 3 epochs each at most, on 5 % of the demo set's
training split; the seed is fixed, so which trials are pruned is the same on every run.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from search import main
from search.paths import default_study_storage, default_tracking_uri
from tests.fixtures.studies import working_directory

pytestmark = pytest.mark.integration

TPE_STARTUP = inspect.signature(optuna.samplers.TPESampler).parameters["n_startup_trials"].default  # 10
N_TRIALS = TPE_STARTUP + 1
EPOCHS = 3
SEED = 4
DEFAULT_STUDY = "smoke-demo"  # <space>-<data> when --study is left out
TPE_PROPOSAL_ATTR = "tpe:relative_params:0"
"""Trial system attribute Optuna's TPESampler (constant_liar) writes when its model proposed the trial's
parameters, so that other workers see them; a start-up trial, drawn at random, has none."""


@dataclass(frozen=True)
class DemoRun:
    status: int
    stdout: str
    stderr: str
    study: optuna.Study


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """``python -m search run`` with no --data, --study, --sampler or --pruner, in a folder without data/."""
    with working_directory(tmp_path_factory.mktemp("fresh-install")) as folder:
        assert not (folder / "data").exists()
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            status = main(["run", "--space", "smoke", "--trials", str(N_TRIALS), "--epochs", str(EPOCHS),
                           "--subset", "0.05", "--seed", str(SEED)])
        study = optuna.load_study(study_name=DEFAULT_STUDY, storage=default_study_storage())
        yield DemoRun(status, stdout.getvalue(), stderr.getvalue(), study)


def test_a_run_without_data_uses_the_demo_set_and_finishes(demo_run: DemoRun) -> None:
    assert demo_run.status == 0, demo_run.stderr
    assert ("No --data given and data/fer2013.csv not found: using the synthetic demo set "
            "(pass --data PATH for real faces).") in demo_run.stderr
    study = demo_run.study
    assert study.user_attrs["fer.settings"]["data"] == "demo"
    assert len(study.trials) == N_TRIALS and all(t.state.is_finished() for t in study.trials)
    assert f"Study '{DEFAULT_STUDY}': {N_TRIALS} finished of {N_TRIALS} requested" in demo_run.stdout
    assert study.user_attrs["fer.test_score"]["n_scores"] == 1
    assert "Test accuracy of trial #" in demo_run.stdout


def test_hyperband_prunes_trials_of_a_real_run(demo_run: DemoRun) -> None:
    study = demo_run.study
    assert study.user_attrs["fer.settings"]["pruner"] == "hyperband"
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, [t.state.name for t in study.trials]
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete  # the test split was scored on a complete trial
    client = MlflowClient(default_tracking_uri())
    for trial in pruned:
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.data.tags["fer.state"] == "pruned"
        epochs = [m.step for m in client.get_metric_history(run.info.run_id, "val_accuracy")]
        assert epochs == sorted(trial.intermediate_values) and len(epochs) < EPOCHS  # stopped early
    assert f"{len(pruned)} pruned" in demo_run.stdout


def test_tpe_proposes_from_its_model_once_its_startup_trials_are_done(demo_run: DemoRun) -> None:
    study = demo_run.study
    assert study.user_attrs["fer.settings"]["sampler"] == "tpe"
    assert not [t for t in study.trials if t.state == TrialState.FAIL]  # all count towards the start-up
    proposed_by_model = [t.number for t in study.trials if TPE_PROPOSAL_ATTR in t.system_attrs]
    assert proposed_by_model == list(range(TPE_STARTUP, N_TRIALS))
