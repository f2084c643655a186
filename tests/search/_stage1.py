"""Stage 1 as ``run --refit-top`` runs it (the test split left for stage 2), for the refit tests."""

from __future__ import annotations

from pathlib import Path

from search.paths import default_study_storage
from search.engines import run_study
from search.study import StudySettings
from spaces import load_space


def run_stage1_deferred(csv: Path, study: str, n_trials: int) -> None:
    """``n_trials`` trials of the smoke space (2 epochs, unpruned, seed 1) without a test score."""
    settings = StudySettings(study_name=study, space="smoke", data=str(csv), storage=default_study_storage(),
                             n_trials=n_trials, pruner="none", max_epochs=2, seed=1, defer_test=True)
    run = run_study(settings, load_space("smoke"))
    assert not run.interrupted and run.test_score is None
