"""Issue 25 on a finished study: the audit on the parent run, and every accuracy with its clean-subset twin.

The data is the synthetic demo set with planted leaks: 4 validation and 3 test rows replaced by copies of
training faces. One run of the smoke space (1 trial, 1 epoch) is scored on the test split and promoted; then
every place the platform reports an accuracy is checked: the trial's MLflow run, the one test score (study
attribute and parent run), ``best``, the summary, the report's first screen, the promotion tags. A second study
with ``--dedupe`` drops the planted copies from validation and test.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.data import write_fer_csv

N_VALIDATION_LEAKS = 4
N_TEST_LEAKS = 3


@pytest.fixture
def leaky_csv(workdir: Path) -> Path:
    from fer_core.data import make_demo_dataset

    dataset = make_demo_dataset(40, seed=9)
    images, usage = dataset.images.copy(), dataset.usage
    train, validation, test = (np.flatnonzero(usage == code) for code in (0, 1, 2))
    images[validation[:N_VALIDATION_LEAKS]] = images[train[:N_VALIDATION_LEAKS]]
    images[test[:N_TEST_LEAKS]] = images[train[10 : 10 + N_TEST_LEAKS]]
    return write_fer_csv(workdir / "leaky.csv", images, dataset.labels, usage)


def _main(*argv: str) -> str:
    from search import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_every_reported_accuracy_comes_with_its_clean_subset_and_the_test_score_with_its_interval(
        workdir_with_store: Path, leaky_csv: Path) -> None:
    workdir = workdir_with_store
    from mlflow import MlflowClient

    from search.paths import default_study_storage
    from search.selection import recorded_test_score
    from search.study import CLEAN_VAL_ACCURACY_ATTR, PARENT_RUN_ATTR, RUN_ID_ATTR, load_existing_study, open_storage
    from search.tracking import AUDIT_ARTIFACT, StudyTracker

    summary = _main("run", "--space", "smoke", "--data", str(leaky_csv), "--study", "leaky", "--pruner", "none",
                    "--epochs", "1", "--trials", "1")
    study = load_existing_study(open_storage(default_study_storage()), "leaky")
    client = MlflowClient()
    tracker = StudyTracker("leaky")
    parent = study.user_attrs[PARENT_RUN_ATTR]

    # The audit, logged on the parent run when the study started.
    audit = json.loads(tracker.read_text(parent, AUDIT_ARTIFACT))
    assert audit["exact_duplicates"]["validation"]["train"] == N_VALIDATION_LEAKS
    assert audit["exact_duplicates"]["test"]["train"] == N_TEST_LEAKS
    parent_run = client.get_run(parent)
    assert parent_run.data.tags["fer.audit.validation_in_train"] == str(N_VALIDATION_LEAKS)
    assert parent_run.data.tags["fer.audit.test_in_train"] == str(N_TEST_LEAKS)

    # The trial's MLflow run and Optuna attribute: validation accuracy on the clean subset.
    trial = study.trials[0]
    n_validation = audit["n_images"]["validation"]
    trial_run = client.get_run(trial.user_attrs[RUN_ID_ATTR])
    assert trial_run.data.metrics["n_val_clean"] == n_validation - N_VALIDATION_LEAKS
    assert trial_run.data.metrics["final_val_accuracy_clean"] == pytest.approx(trial.user_attrs[CLEAN_VAL_ACCURACY_ATTR])

    # The one test score: clean subset and Wilson interval, recorded on the study and the parent run.
    score = recorded_test_score(study)
    assert score is not None and score.n_test == audit["n_images"]["test"]
    assert score.n_clean == score.n_test - N_TEST_LEAKS
    assert score.ci_low is not None and score.ci_high is not None
    assert score.ci_low <= score.accuracy <= score.ci_high
    metrics = client.get_run(parent).data.metrics
    assert metrics["test_accuracy_clean"] == pytest.approx(score.clean_accuracy)
    assert metrics["test_accuracy_ci95_low"] == pytest.approx(score.ci_low)

    # The summary `run` printed, and `best`.
    assert "on unseen faces (clean subset" in summary and "95 % CI" in summary and "Wilson" in summary
    best = _main("best", "--study", "leaky")
    assert "Validation accuracy on unseen faces" in best and "95 % CI" in best
    assert f"n={score.n_clean}" in best
    rows = json.loads(_main("best", "--study", "leaky", "--format", "json"))
    assert rows[0]["val_accuracy_clean"] == pytest.approx(trial.user_attrs[CLEAN_VAL_ACCURACY_ATTR])

    # The report: its first screen (the subtitle and the summary) says how many faces training has seen.
    _main("report", "--study", "leaky", "--out", str(workdir / "report.html"))
    page = (workdir / "report.html").read_text()
    headline = (f"{N_VALIDATION_LEAKS} of {n_validation} validation faces and {N_TEST_LEAKS} of "
                f"{score.n_test} test faces also appear in training")
    assert headline in page[: page.index("<nav>")]
    assert "95 % interval (Wilson)" in page and "test accuracy, unseen faces" in page
    assert "Data audit: duplicates, label conflicts, blank images" in page

    # The promotion tags.
    _main("promote", "--study", "leaky")
    version = client.get_model_version_by_alias("fer-emotion", "champion")
    assert float(version.tags["test_accuracy_clean"]) == pytest.approx(score.clean_accuracy, abs=1e-6)
    low, high = version.tags["test_accuracy_ci95"].split("..")
    assert (float(low), float(high)) == (pytest.approx(score.ci_low, abs=1e-6), pytest.approx(score.ci_high, abs=1e-6))
    assert "val_accuracy_clean" in version.tags


def test_dedupe_drops_the_copies_of_training_faces_from_validation_and_test(workdir: Path, leaky_csv: Path) -> None:
    from search.study import load_study_data

    official = load_study_data(str(leaky_csv), split=None, subset=1.0, seed=0)
    deduped = load_study_data(str(leaky_csv), split=None, subset=1.0, seed=0, dedupe=True)

    assert len(deduped.splits.validation) == len(official.splits.validation) - N_VALIDATION_LEAKS
    assert len(deduped.splits.test) == len(official.splits.test) - N_TEST_LEAKS
    assert deduped.n_dropped == {"validation": N_VALIDATION_LEAKS, "test": N_TEST_LEAKS}
    assert deduped.clean_mask("validation").all() and deduped.clean_mask("test").all()
    assert official.clean_mask("test").sum() == len(official.splits.test) - N_TEST_LEAKS
    for name in ("validation", "test", "splits"):
        assert deduped.fingerprints[name] != official.fingerprints[name]
    assert deduped.fingerprints["train"] == official.fingerprints["train"]
    assert deduped.describe()["dedupe"] is True


def test_run_dedupe_records_it_and_the_test_score_is_all_clean(workdir_with_store: Path, leaky_csv: Path) -> None:
    from search.paths import default_study_storage
    from search.selection import recorded_test_score
    from search.study import PARENT_RUN_ATTR, SETTINGS_ATTR, load_existing_study, open_storage
    from search.tracking import AUDIT_ARTIFACT, StudyTracker

    _main("run", "--space", "smoke", "--data", str(leaky_csv), "--study", "deduped", "--pruner", "none",
          "--epochs", "1", "--trials", "1", "--dedupe")
    study = load_existing_study(open_storage(default_study_storage()), "deduped")
    assert study.user_attrs[SETTINGS_ATTR]["dedupe"] is True
    audit = json.loads(StudyTracker("deduped").read_text(study.user_attrs[PARENT_RUN_ATTR], AUDIT_ARTIFACT))
    assert audit["dedupe"] is True
    assert audit["dropped_by_dedupe"] == {"validation": N_VALIDATION_LEAKS, "test": N_TEST_LEAKS}
    assert audit["exact_duplicates"]["test"]["train"] == 0
    score = recorded_test_score(study)
    assert score is not None and score.n_clean == score.n_test and score.clean_accuracy == score.accuracy
    # `test --force` re-opens the data with --dedupe (the fingerprint check passes) and re-scores it.
    assert "on unseen faces" in _main("test", "--study", "deduped", "--force")
