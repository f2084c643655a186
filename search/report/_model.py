"""The selected model's confusion matrix and per-class metrics, for the report.

From the one-time test score when the study has one (read back from ``test/score_<n>.json`` on the
parent run: the report never runs a model on the test split); otherwise the selected model is evaluated
on the VALIDATION split and labelled as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from fer_core.emotions import N_CLASSES
from fer_core.errors import FerError
from search import study as st
from search.errors import NoCompletedTrialError, StudyMismatchError
from search.report._section import SectionContent, SectionUnavailable
from search.selection import load_trial_model, recorded_test_score, select_best
from search.tracking import score_artifact

if TYPE_CHECKING:
    from fer_core.evaluate import EvaluationResult
    from search.tracking import StudyTracker

TEST, VALIDATION = "test", "validation"


@dataclass(frozen=True)
class SelectedModelScore:
    """How the selected model did on one split.

    Args:
        split: ``"test"`` (the recorded one-time score) or ``"validation"``.
        trial: The trial whose model was scored.
        result: Its metrics (accuracy, macro-F1, per-class, confusion).
        caption: Where the numbers come from, in words, for the reader.
    """

    split: str
    trial: int
    result: EvaluationResult
    caption: str

    def __post_init__(self) -> None:
        if self.split not in (TEST, VALIDATION):
            raise ValueError(f"split must be {TEST!r} or {VALIDATION!r} (got {self.split!r})")

    def confusion_section(self) -> SectionContent:
        title = f"Normalized confusion matrix: trial #{self.trial}, {self.split.upper()} split"
        return SectionContent(caption=self.caption, figures=(self.result.confusion_figure(title=title),))

    def per_class_section(self) -> SectionContent:
        table = self.result.per_class.copy()
        table.loc["macro average"] = [*table[["precision", "recall", "f1"]].mean().tolist(),
                                      int(table["support"].sum())]
        table["support"] = table["support"].astype(int)
        caption = (f"{self.split.upper()} split, trial #{self.trial}: accuracy {self.result.accuracy:.4f}, "
                   f"macro-F1 {self.result.macro_f1:.4f} over {self.result.n_samples} images.")
        return SectionContent(caption=caption, table=table.round(4))


def selected_model_score(study: optuna.Study, tracker: StudyTracker, parent_run_id: str) -> SelectedModelScore:
    """The test score's metrics when recorded, else the selected model's validation metrics.

    Raises:
        SectionUnavailable: No completed trial, no logged model, or the data cannot be reloaded.
    """
    score = recorded_test_score(study)
    if score is not None:
        return _recorded_test_metrics(study, tracker, parent_run_id, score)
    return _validation_metrics(study)


def result_from_confusion_counts(counts: Any) -> EvaluationResult:
    """Rebuilds every metric from a 7x7 count matrix (true rows, predicted columns).

    The counts determine accuracy, per-class precision / recall / F1 / support and the normalized
    matrix exactly, so the logged JSON is re-scored by the same code that scored the model.
    """
    from fer_core.evaluate import evaluate_predictions

    matrix = np.asarray(counts)
    if matrix.shape != (N_CLASSES, N_CLASSES) or not np.issubdtype(matrix.dtype, np.integer) or (matrix < 0).any():
        raise SectionUnavailable(
            f"confusion_counts must be a {N_CLASSES}x{N_CLASSES} matrix of counts >= 0 (got shape {matrix.shape})"
        )
    if matrix.sum() == 0:
        raise SectionUnavailable("confusion_counts is all zeros: the score covered no image.")
    classes = np.arange(N_CLASSES)
    labels = np.repeat(classes, matrix.sum(axis=1))  # row t: one label t per image of class t
    predictions = np.repeat(np.tile(classes, N_CLASSES), matrix.ravel())  # within row t: p, counts[t, p] times
    return evaluate_predictions(labels, np.eye(N_CLASSES, dtype=np.float32)[predictions])


def _recorded_test_metrics(study: optuna.Study, tracker: StudyTracker, parent_run_id: str,
                           score: Any) -> SelectedModelScore:
    artifact = score_artifact(score.n_scores)
    text = tracker.read_text(parent_run_id, artifact)
    if text is None:
        raise SectionUnavailable(
            f"The study records a test score but its run has no {artifact} artifact to show it from."
        )
    result = result_from_confusion_counts(json.loads(text).get("confusion_counts"))
    rescored = f" (score #{score.n_scores}: the study was re-scored)" if score.n_scores > 1 else ""
    caption = (f"TEST split: the study's one-time test score of trial #{score.trial}, taken {score.scored_at}"
               f"{rescored}, read back from {artifact}. Building this report did not touch the test split.")
    caption += _selection_moved_note(study, score.trial)
    return SelectedModelScore(split=TEST, trial=score.trial, result=result, caption=caption)


def _validation_metrics(study: optuna.Study) -> SelectedModelScore:
    from fer_core.evaluate import evaluate
    from search.study import open_scored_context

    try:
        best = select_best(study)
    except NoCompletedTrialError:
        raise SectionUnavailable(
            "Needs more trials: the selected model's metrics need at least 1 completed trial (this study has 0)."
        ) from None
    if st.MODEL_URI_ATTR not in best.user_attrs:
        raise SectionUnavailable(f"The selected trial #{best.number} has no logged model to evaluate.")
    try:
        _, data, _, _ = open_scored_context(study)
    except (FerError, LookupError, OSError, StudyMismatchError) as error:
        raise SectionUnavailable(f"The study's data could not be reloaded to evaluate trial #{best.number} "
                                 f"on validation: {error}") from None
    validation = data.splits.validation
    result = evaluate(load_trial_model(best), validation.images, validation.labels)
    caption = (f"VALIDATION split (not test): this study has no test score yet, so the selected trial "
               f"#{best.number} was evaluated on the {len(validation)} validation images it was selected "
               "on. `python -m search test` scores it once on the test split.")
    return SelectedModelScore(split=VALIDATION, trial=best.number, result=result, caption=caption)


def _selection_moved_note(study: optuna.Study, scored_trial: int) -> str:
    try:
        best = select_best(study)
    except NoCompletedTrialError:
        return ""
    if best.number == scored_trial:
        return ""
    return (f" Note: the study went on after the test score; the selection is now trial #{best.number} "
            "(`python -m search test --force` records a re-score).")

