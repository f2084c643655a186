"""Choosing the final model among refit models and ensembles of them, on validation only.

Every complete refit is scored on the validation split under the same TTA and ranked (``_ranking``); the
average of the top M is tried for M = 1..``--ensemble-max`` (ties go to fewer models). One model wins as
is; several are built into one ensemble model, scored on validation again as built, and logged in their
own MLflow run nested under the study's run (``fer.role=ensemble``). A distilled student (``--distill``)
is selected instead when it does better on validation.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import optuna

from search.refit._ranking import RankedModel
from search.selection import Selection, recorded_selection
from search.tracking import ENSEMBLE_ROLE, MEMBER_RUNS_PARAM, MEMBERS_TAG, STATE_TAG, TTA_TAG, load_keras_model

if TYPE_CHECKING:
    from search.refit._distill import DistillResult
    from search.refit._ensemble import EnsembleChoice
    from search.study import StudyData
    from search.tracking import StudyTracker


def choose_model(study: optuna.Study, ranked: list[RankedModel], data: StudyData, tracker: StudyTracker,
                 parent_run_id: str, *, tta: str, ensemble_max: int,
                 student: DistillResult | None = None) -> tuple[EnsembleChoice, Selection]:
    """The ensemble size chosen on validation and the selection it makes (an ensemble is logged).

    A complete distilled ``student`` is selected instead when its validation accuracy under ``tta`` is
    higher than the chosen refit's or ensemble's, or equal to an ensemble's (one network serves faster).
    """
    from search.refit._ensemble import choose_ensemble_size

    labels = data.splits.validation.labels
    choice = choose_ensemble_size([model.probabilities for model in ranked], labels, ensemble_max)
    if student is not None and student_wins(student, choice):
        return choice, _student_selection(student, tta)
    selection = _reuse_or_make(study, ranked[: choice.n_members], data, tracker, parent_run_id, tta, choice)
    return choice, selection


def student_wins(student: DistillResult, choice: EnsembleChoice) -> bool:
    """Whether the distilled student beats the chosen refit or ensemble on validation (ties: over an ensemble)."""
    if not student.complete or student.val_accuracy_tta is None:
        return False
    return student.val_accuracy_tta > choice.accuracy or (
        student.val_accuracy_tta == choice.accuracy and choice.n_members > 1)


def _student_selection(student: DistillResult, tta: str) -> Selection:
    return Selection(kind="distilled", model_uri=str(student.model_uri),
                     val_accuracy=float(student.val_accuracy or 0.0),
                     val_accuracy_tta=float(student.val_accuracy_tta or 0.0), tta=tta, members=student.teacher,
                     run_id=student.run_id)


def _reuse_or_make(study: optuna.Study, members: list[RankedModel], data: StudyData, tracker: StudyTracker,
                   parent_run_id: str, tta: str, choice: EnsembleChoice) -> Selection:
    """The selection for ``members``: a single refit model, or an ensemble logged as one MLflow model.

    An ensemble recorded before with the same members and TTA is reused rather than logged again.
    """
    trials = tuple(m.result.trial for m in members)
    if len(members) == 1:
        best = members[0]
        return Selection(kind="refit", model_uri=str(best.result.model_uri), val_accuracy=best.val_accuracy,
                         val_accuracy_tta=best.val_accuracy_tta, tta=tta, members=trials, run_id=best.result.run_id)
    previous = recorded_selection(study)
    if (previous is not None and previous.kind == "ensemble" and previous.members == trials and previous.tta == tta
            and _member_runs(tracker, previous.run_id) == [m.result.run_id for m in members]):
        return previous
    return _log_ensemble(members, data, tracker, parent_run_id, tta, choice)


def _member_runs(tracker: StudyTracker, ensemble_run_id: str | None) -> list[str] | None:
    """The refit runs an ensemble run was built from (None when unknown)."""
    if ensemble_run_id is None:
        return None
    params = tracker.run_params(ensemble_run_id)
    try:
        return json.loads(params[MEMBER_RUNS_PARAM]) if params is not None else None
    except (KeyError, ValueError):
        return None


def _log_ensemble(members: list[RankedModel], data: StudyData, tracker: StudyTracker, parent_run_id: str,
                  tta: str, choice: EnsembleChoice) -> Selection:
    """Builds the ensemble of ``members``, scores it on validation and logs it in its own nested run."""
    from fer_core.evaluate import evaluate_predictions, predict_proba
    from search.refit._ensemble import build_ensemble

    trials = [m.result.trial for m in members]
    model = build_ensemble([load_keras_model(str(m.result.model_uri)) for m in members])
    validation = data.splits.validation
    accuracy = float(evaluate_predictions(validation.labels, predict_proba(model, validation.images)).accuracy)
    accuracy_tta = float(evaluate_predictions(
        validation.labels, predict_proba(model, validation.images, tta=tta)).accuracy)
    run_id = tracker.start_nested_run(
        parent_run_id, ENSEMBLE_ROLE, "ensemble-" + "-".join(map(str, trials)),
        {STATE_TAG: "running", MEMBERS_TAG: ",".join(map(str, trials)), TTA_TAG: tta},
    )
    tracker.log_params(run_id, {"members": trials, "tta": tta,
                                MEMBER_RUNS_PARAM: [m.result.run_id for m in members]})
    tracker.log_dataset_inputs(run_id, data.split_datasets(("train", "validation")))  # its members' data
    for size, size_accuracy in enumerate(choice.accuracies, start=1):
        tracker.log_metrics(run_id, {"val_accuracy_top_m": size_accuracy}, step=size)
    tracker.log_metrics(run_id, {"val_accuracy": accuracy, f"val_accuracy_{tta}": accuracy_tta,
                                 "n_members": len(members), "n_params": model.count_params()})
    logged = tracker.log_keras_model(run_id, model)
    tracker.set_tags(run_id, {STATE_TAG: "complete"})
    tracker.close_run(run_id, status="FINISHED")
    return Selection(kind="ensemble", model_uri=logged.model_uri, val_accuracy=accuracy, val_accuracy_tta=accuracy_tta,
                     tta=tta, members=tuple(trials), run_id=run_id)

