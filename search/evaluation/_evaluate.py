"""Score a model on a labelled set from elsewhere and record it: the work behind ``python -m search evaluate``.

The model (the promoted champion by default) predicts the set with the TTA it was test-scored with (none on
top when the registered model applies it itself; a promoted model also applies its calibration temperature).
The score (accuracy with its 95 % Wilson interval, macro-F1 and recall over the emotions the set has, the
confusion matrix) is recorded as an evaluation run (``search.tracking.record_evaluation``) and, for a
registered version, as ``eval.<name>.*`` tags on it. The study's test split is never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.errors import UsageError
from search.evaluation._data import EvaluationSet, load_evaluation_set
from search.evaluation._overlap import TrainingOverlap, training_overlap

if TYPE_CHECKING:
    import keras

    from fer_core.evaluate import SetScore
    from search.tracking import ModelOrigin

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""An evaluation's name: it becomes part of registry tag keys (``eval.<name>.accuracy``)."""
MLFLOW_URI_PREFIXES = ("models:/", "runs:/")
_LOAD_HINT = ("run a study and `python -m search promote` first, set MLFLOW_TRACKING_URI, or pass --model with "
              "another URI or a .keras file")


@dataclass(frozen=True)
class Evaluation:
    """One evaluation, as scored and recorded.

    Args:
        name: The evaluation's name (``eval.<name>.*`` tags).
        data: The set's path.
        origin: The evaluated model and where it comes from.
        tta: The TTA applied on top of the model (``none`` when the model applies its own).
        evaluation_set: The faces and what was skipped.
        score: The score.
        overlap: Faces that equal a training face of the model's study.
        unseen_accuracy: Accuracy on the faces that are not training faces (None when not checked or none).
        run_id: The evaluation run.
        experiment: The experiment it was recorded in.
    """

    name: str
    data: str
    origin: ModelOrigin
    tta: str
    evaluation_set: EvaluationSet
    score: SetScore
    overlap: TrainingOverlap
    unseen_accuracy: float | None
    run_id: str
    experiment: str

    def summary(self) -> dict[str, Any]:
        """JSON-friendly record (the run's artifact and ``--format json``)."""
        return {
            "name": self.name, "data": self.data, "data_kind": self.evaluation_set.kind,
            "data_hash": self.evaluation_set.dataset.content_hash, "model": self.origin.uri,
            "model_name": self.origin.name, "model_version": self.origin.version, "model_run_id": self.origin.run_id,
            "study": self.origin.study, "tta": self.tta, **self.score.to_dict(),
            "skipped_folders": self.evaluation_set.unknown_folders,
            "folder_labels": self.evaluation_set.folder_labels,
            "training_overlap": self.overlap.n_overlap, "training_overlap_note": self.overlap.note,
            "unseen_accuracy": self.unseen_accuracy, "run_id": self.run_id, "experiment": self.experiment,
        }


def check_evaluation_name(name: str) -> str:
    """``name`` when it can be part of a tag key.

    Raises:
        UsageError: It has characters other than letters, digits, ``_`` and ``-``, or is too long.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"--name must be 1 to 64 letters, digits, '_' or '-' (it becomes the tag "
                         f"eval.<name>.accuracy); got {name!r}")
    return name


def default_evaluation_name(data: str | Path) -> str:
    """The set's file or folder name without suffixes, reduced to tag-safe characters."""
    stem = Path(data).name.split(".")[0] or "evaluation"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:64] or "evaluation"


def evaluate_model(model: str, data: str | Path, *, name: str | None = None, storage_url: str | None = None,
                   batch_size: int = 256) -> Evaluation:
    """Scores ``model`` (a registry or run URI, or a ``.keras`` file) on ``data`` and records the evaluation.

    Raises:
        UsageError: A bad ``name``, a missing ``data`` path, or a ``model`` that is neither a URI nor ``.keras``.
        NotFoundError: The registry or store has no such model.
        DataError: The set breaks a rule of its format.
    """
    from fer_core.evaluate import predict_proba, score_set
    from search.paths import default_study_storage
    from search.tracking import StudyTracker, evaluation_tracker_name, model_origin

    name = check_evaluation_name(name or default_evaluation_name(data))
    evaluation_set = load_evaluation_set(data)
    keras_model, origin = _load_model(model, model_origin)
    tta = _tta_on_top(origin)
    dataset = evaluation_set.dataset
    probabilities = predict_proba(keras_model, dataset.images, batch_size=batch_size, tta=tta)
    score = score_set(dataset.labels, probabilities)
    overlap = training_overlap(dataset, origin.study, storage_url or default_study_storage())
    unseen_accuracy = _unseen_accuracy(score, overlap)
    tracker = StudyTracker(evaluation_tracker_name(origin))
    evaluation = Evaluation(name=name, data=str(data), origin=origin, tta=tta, evaluation_set=evaluation_set,
                            score=score, overlap=overlap, unseen_accuracy=unseen_accuracy, run_id="",
                            experiment=tracker.study_name)
    run_id = _record(tracker, evaluation)
    return Evaluation(**{**evaluation.__dict__, "run_id": run_id})


def _load_model(model: str, model_origin: Any) -> tuple[keras.Model, ModelOrigin]:
    if model.startswith(MLFLOW_URI_PREFIXES):
        from search.tracking import load_keras_model_from_store

        origin = model_origin(model)
        return load_keras_model_from_store(model, hint=_LOAD_HINT), origin
    if Path(model).suffix == ".keras":
        from fer_core.model import load_model
        from search.tracking import ModelOrigin

        return load_model(model, compile=False), ModelOrigin(uri=model)
    raise UsageError(f"--model must be an MLflow model URI (models:/name@alias, models:/name/1, runs:/<id>/model, "
                     f"models:/m-<id>) or a .keras file (got {model!r})")


def _tta_on_top(origin: ModelOrigin) -> str:
    """The TTA a registered version was test-scored with, unless its model applies it itself."""
    from search.tracking import TTA_IN_MODEL_TAG, VERSION_TTA_TAG

    tags = origin.version_tags
    return "none" if tags.get(TTA_IN_MODEL_TAG) == "true" else tags.get(VERSION_TTA_TAG, "none")


def _unseen_accuracy(score: SetScore, overlap: TrainingOverlap) -> float | None:
    if overlap.mask is None or overlap.mask.all():
        return None
    from fer_core.audit import honest_score

    return honest_score(score.result.labels, score.result.predictions, ~overlap.mask).clean_accuracy


def _record(tracker: Any, evaluation: Evaluation) -> str:
    """The evaluation run, and the ``eval.<name>.*`` tags of a registered version."""
    from search.tracking import (
        EVAL_DATA_HASH_TAG,
        EVAL_DATA_TAG,
        EVAL_MODEL_NAME_TAG,
        EVAL_MODEL_RUN_TAG,
        EVAL_MODEL_URI_TAG,
        EVAL_MODEL_VERSION_TAG,
        EVAL_NAME_TAG,
        EVAL_OVERLAP_TAG,
        eval_version_tag,
        record_evaluation,
        tag_version,
    )

    origin, score = evaluation.origin, evaluation.score
    overlap = evaluation.overlap.n_overlap
    tags = {EVAL_NAME_TAG: evaluation.name, EVAL_DATA_TAG: evaluation.data,
            EVAL_DATA_HASH_TAG: evaluation.evaluation_set.dataset.content_hash, EVAL_MODEL_URI_TAG: origin.uri,
            EVAL_OVERLAP_TAG: "unknown" if overlap is None else str(overlap)}
    tags.update({key: value for key, value in ((EVAL_MODEL_NAME_TAG, origin.name),
                                               (EVAL_MODEL_VERSION_TAG, origin.version),
                                               (EVAL_MODEL_RUN_TAG, origin.run_id)) if value})
    metrics = {"accuracy": score.accuracy, "macro_f1": score.macro_f1, "accuracy_ci95_low": score.ci_low,
               "accuracy_ci95_high": score.ci_high, "n_faces": float(score.n_samples),
               **{f"recall_{emotion}": recall for emotion, recall in score.recall.items()}}
    if overlap is not None:
        metrics["training_overlap"] = float(overlap)
    if evaluation.unseen_accuracy is not None:
        metrics["unseen_accuracy"] = evaluation.unseen_accuracy
    figure = score.result.confusion_figure(title=f"Confusion on {evaluation.name}")
    run_id = record_evaluation(tracker, run_name=f"eval-{evaluation.name}", tags=tags, metrics=metrics,
                               result=evaluation.summary(), figure=figure)
    if origin.name and origin.version:
        tag_version(tracker, origin.name, origin.version, {
            eval_version_tag(evaluation.name, "accuracy"): f"{score.accuracy:.6f}",
            eval_version_tag(evaluation.name, "n"): str(score.n_samples),
            eval_version_tag(evaluation.name, "ci95"): f"{score.ci_low:.6f}-{score.ci_high:.6f}",
            eval_version_tag(evaluation.name, "macro_f1"): f"{score.macro_f1:.6f}",
            eval_version_tag(evaluation.name, "training_overlap"): "unknown" if overlap is None else str(overlap),
            eval_version_tag(evaluation.name, "run_id"): run_id,
        })
    return run_id
