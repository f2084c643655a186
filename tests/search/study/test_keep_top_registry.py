"""Keep-top-K never deletes a registered model, however it was registered.

A trial's logged model registered directly through ``MlflowClient`` (as the MLflow UI or a user's script
does: no tag of ours on its run), then the study resumed with ``--keep-top 1`` until that trial is out of
the top K: the version still loads through the registry and predicts, while unregistered models outside
the top K are deleted as before.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import optuna
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from search import main
from search.paths import default_study_storage, default_tracking_uri
from search.study import MODEL_ID_ATTR, RUN_ID_ATTR, TEST_SCORE_ATTR, completed_trials
from search.tracking import MODEL_DELETED_TAG, load_keras_model
from tests.fixtures.stores import forget_cached_stores
from tests.fixtures.studies import BuiltStudy

pytestmark = pytest.mark.integration

REGISTERED_NAME = "registered-by-hand"


def test_a_model_registered_through_mlflow_survives_keep_top(workdir: Path, stage1: str,
                                                              stage1_study: BuiltStudy) -> None:
    # The session built stage 1 in this process: MLflow's global tracking URI and its cached stores still
    # name that store. Pointed at this copy, so that the version registered below (MLflow resolves a
    # ``models:/m-…`` source through the global URI) points at the files keep-top may delete.
    forget_cached_stores()
    mlflow.set_tracking_uri(default_tracking_uri())
    study = optuna.load_study(study_name=stage1, storage=default_study_storage())
    best, runner_up = completed_trials(study)[:2]  # stage 1: two trials, both with a logged model
    client = MlflowClient(default_tracking_uri())
    model_id, run_id = runner_up.user_attrs[MODEL_ID_ATTR], runner_up.user_attrs[RUN_ID_ATTR]
    client.create_registered_model(REGISTERED_NAME)
    version = client.create_model_version(REGISTERED_NAME, source=f"models:/{model_id}", run_id=run_id)
    assert client.get_model_version_download_uri(REGISTERED_NAME, version.version).startswith(
        (workdir / "mlruns").resolve().as_uri())

    # One more trial with --keep-top 1: the runner-up is out of the top 1 whatever the new trial scores.
    assert main(["run", "--space", "smoke", "--data", str(stage1_study.csv), "--study", stage1,
                 "--pruner", "none", "--epochs", "2", "--seed", "1", "--trials", "3", "--keep-top", "1"]) == 0

    study = optuna.load_study(study_name=stage1, storage=default_study_storage())
    ranked = completed_trials(study)
    assert len(ranked) == 3 and runner_up.number not in (ranked[0].number,
                                                         study.user_attrs[TEST_SCORE_ATTR]["trial"])
    model = load_keras_model(f"models:/{REGISTERED_NAME}/{version.version}")
    faces = np.random.default_rng(0).integers(0, 256, size=(4, 48, 48, 1), dtype=np.uint8)
    probabilities = np.asarray(model.predict(faces, verbose=0))
    assert probabilities.shape == (4, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-3)
    assert client.get_logged_model(model_id).model_id == model_id  # the record is kept too
    assert client.get_run(run_id).data.tags.get(MODEL_DELETED_TAG) != "true"

    # What keep-top is for still happens: the unregistered trial outside the top 1, not scored, keeps no model
    # (never logged when it finished outside the top K, or deleted when it fell out of it).
    kept = {ranked[0].number, study.user_attrs[TEST_SCORE_ATTR]["trial"], runner_up.number}
    dropped = [t for t in ranked if t.number not in kept]
    assert len(dropped) == 1, [t.number for t in ranked]
    for trial in dropped:
        if MODEL_ID_ATTR in trial.user_attrs:
            with pytest.raises(MlflowException):
                client.get_logged_model(trial.user_attrs[MODEL_ID_ATTR])
