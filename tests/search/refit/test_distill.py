"""`refit --distill`: one network trained on the top refits' ensemble, recorded, selectable, reused, time-boxed."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from mlflow import MlflowClient

from fer_core.errors import ConfigError
from search import main
from search.paths import default_study_storage, default_tracking_uri, refit_dir
from search.refit import (
    STUDENT_KEY,
    CandidateSpeed,
    DistillResult,
    EnsembleChoice,
    PendingRefit,
    RefitBudget,
    RefitOptions,
    RefitResult,
    student_wins,
)
from search.selection import Selection, recorded_selection, recorded_test_score

EPOCHS = 3
SPEED = CandidateSpeed(train_images_per_s=1000.0, predict_images_per_s=2000.0)


def _student(val_accuracy_tta: float | None, state: str = "complete") -> DistillResult:
    result = RefitResult(trial=3, state=state, run_id="r", epochs_run=2, best_epoch=2, val_accuracy=0.5,
                         model_uri="models:/m-1" if state == "complete" else None, n_params=10, n_resumes=0)
    return DistillResult(result=result, teacher=(3, 1), soft_weight=0.7, teacher_val_accuracy_tta=0.6,
                         val_accuracy_tta=val_accuracy_tta, probabilities=None, tta="flip")


def test_distill_flags_are_validated(workdir: Path, capsys) -> None:
    with pytest.raises(ConfigError, match=r"--distill-weight must be a number in \[0, 1\] \(got 1.5\)"):
        RefitOptions(distill=True, distill_weight=1.5)
    with pytest.raises(ConfigError, match="--distill needs --top >= 2 and --ensemble-max >= 2 .*--ensemble-max 1"):
        RefitOptions(distill=True, ensemble_max=1)
    assert main(["run", "--space", "smoke", "--distill"]) == 2
    assert "--distill needs --refit-top K" in capsys.readouterr().err
    assert main(["run", "--space", "smoke", "--distill-weight", "0.5"]) == 2
    assert "--distill-weight 0.5 needs --refit-top K" in capsys.readouterr().err


def test_the_student_wins_only_above_the_choice_or_level_with_an_ensemble() -> None:
    single, pair = EnsembleChoice(1, (0.6, 0.55)), EnsembleChoice(2, (0.55, 0.6))
    assert student_wins(_student(0.61), single) and student_wins(_student(0.61), pair)
    assert not student_wins(_student(0.6), single)  # a tie with one refit: the refit stays
    assert student_wins(_student(0.6), pair)  # a tie with an ensemble: one network serves faster
    assert not student_wins(_student(0.59), pair)
    assert not student_wins(_student(None, state="failed"), single)


def test_a_distilled_selection_names_its_architecture_and_teacher() -> None:
    selection = Selection(kind="distilled", model_uri="models:/m-1", val_accuracy=0.5, val_accuracy_tta=0.6,
                          tta="flip", members=(3, 1))
    assert selection.trial == 3
    assert selection.describe() == "network of trial #3 distilled from trials #3, #1 with flip TTA"
    assert Selection.from_attr(selection.to_attr()) == selection
    with pytest.raises(ConfigError, match=r"a distilled selection needs 2 or more member trial\(s\) \(got \[3\]\)"):
        Selection(kind="distilled", model_uri="models:/m-1", val_accuracy=0.5, val_accuracy_tta=0.6, tta="flip",
                  members=(3,))


def test_the_student_gets_an_equal_share_after_the_teacher_is_reserved() -> None:
    now = time.monotonic()
    pending = [PendingRefit(0, SPEED), PendingRefit(1, SPEED), PendingRefit(STUDENT_KEY, SPEED)]
    budget = RefitBudget(now + 3000, pending, n_refits=3, n_train=10_000, n_validation=2_000, n_test=2_000,
                         n_views=2, ensemble_max=2, extra_reserve_s=300)
    evaluations = budget.reserve_s - 300
    first = budget.plan(0, max_epochs=10_000)
    assert first.share_s == pytest.approx((3000 - evaluations - 300) / 3, abs=2)  # three unstarted: one a student
    budget.plan(1, max_epochs=10_000)
    budget.extra_done()  # the teacher has predicted: its time goes back to the student
    assert budget.reserve_s == pytest.approx(evaluations)
    assert budget.has(STUDENT_KEY)


# --- with real training ----------------------------------------------------------------------------------
def _runs(study_name: str, role: str) -> list:
    study = optuna.load_study(study_name=study_name, storage=default_study_storage())
    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(study_name)
    parent = study.user_attrs["fer.mlflow_parent_run_id"]
    return client.search_runs([experiment.experiment_id],
                              f"tags.`mlflow.parentRunId` = '{parent}' and tags.`fer.role` = '{role}'")


def _load(study_name: str) -> optuna.Study:
    return optuna.load_study(study_name=study_name, storage=default_study_storage())


@pytest.mark.integration
def test_refit_distill_records_a_selectable_student_that_a_rerun_reuses(
        stage1: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    refit = ["refit", "--study", stage1, "--top", "2", "--epochs", str(EPOCHS), "--tta", "flip", "--distill",
             "--distill-weight", "0.8"]
    with monkeypatch.context() as patch:  # selected on validation like the others; forced here to follow it
        patch.setattr("search.refit._choice.student_wins", lambda student, choice: student.complete)
        assert main(refit) == 0
    output = capsys.readouterr()
    assert "Distilled: network of trial #" in output.out and "(its teacher " in output.out
    assert "Teacher: predicting the training split with the ensemble of trials" in output.err

    refits = {int(run.data.tags["fer.refit_of"]): run for run in _runs(stage1, "refit")}
    (student,) = _runs(stage1, "distilled")
    teacher = [int(t) for t in student.data.tags["fer.teacher"].split(",")]
    assert sorted(teacher) == sorted(refits) and int(student.data.tags["fer.refit_of"]) == teacher[0]
    assert student.info.status == "FINISHED" and student.data.tags["fer.state"] == "complete"
    assert student.data.params["distill.soft_weight"] == "0.8" and student.data.params["distill.teacher_tta"] == "flip"
    assert student.data.params["refit.epochs"] == str(EPOCHS) and student.data.params["refit.n_train"] == "336"
    assert student.data.tags.get("fer.model_id") and "final_val_accuracy" in student.data.metrics
    client = MlflowClient(default_tracking_uri())
    assert [m.step for m in client.get_metric_history(student.info.run_id, "val_accuracy")] == list(
        range(1, int(student.data.metrics["epochs_run"]) + 1))

    selection = recorded_selection(_load(stage1))
    assert selection.kind == "distilled" and list(selection.members) == teacher
    assert selection.run_id == student.info.run_id and selection.tta == "flip"
    teacher_probabilities = np.load(refit_dir(stage1) / "distilled" / f"teacher_{'-'.join(map(str, teacher))}_flip.npy")
    assert teacher_probabilities.shape == (336, 7)
    np.testing.assert_allclose(teacher_probabilities.sum(axis=1), 1.0, atol=1e-4)

    assert main(["best", "--study", stage1]) == 0
    assert "distilled from trials" in capsys.readouterr().out
    assert main(["test", "--study", stage1]) == 0
    score = recorded_test_score(_load(stage1))
    assert score.kind == "distilled" and score.model_uri == selection.model_uri
    assert main(["promote", "--study", stage1]) == 0
    version = client.get_model_version_by_alias("fer-emotion", "champion")
    assert version.tags["kind"] == "distilled"

    # Run again (selection on validation now): the finished student is read back, not trained again.
    assert main(refit) == 0
    output = capsys.readouterr()
    assert "[distilled 1/1] trial #" in output.err and "already complete: not redone" in output.err
    assert "Distilled: network of trial #" in output.out
    assert len(_runs(stage1, "distilled")) == 1 and len(_runs(stage1, "refit")) == 2

    # Another teacher weight would reuse a student that did not learn with it: refused, with the way out.
    assert main([*refit[:-1], "0.5"]) != 0
    assert "--distill-weight 0.8 to reuse it, or delete" in capsys.readouterr().err


@pytest.mark.integration
@pytest.mark.slow
def test_refit_timeout_gives_the_student_its_share(stage1: str, capsys) -> None:
    timeout = 60.0
    started = time.perf_counter()
    assert main(["refit", "--study", stage1, "--top", "2", "--epochs", "1000", "--patience", "1000",
                 "--tta", "none", "--timeout", str(timeout), "--distill"]) == 0
    elapsed = time.perf_counter() - started
    output = capsys.readouterr()
    assert output.err.count("epochs planned") == 3 and "Distilled student of trial #" in output.err
    (student,) = _runs(stage1, "distilled")
    assert student.data.tags["fer.state"] == "complete" and 1 < int(student.data.params["refit.epochs"]) < 1000
    assert elapsed < 1.5 * timeout
