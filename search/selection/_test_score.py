"""The one-time test score: the selected model meets the test split once per study.

No other HPO tool enforces this; it is the platform's promise. A second score needs ``--force`` and is
recorded as a re-score on the study's parent run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import optuna

from search import study as st
from search.errors import AlreadyScoredError, NotFoundError
from search.selection._leaderboard import select_best
from search.selection._selected import describe_model
from search.tracking import (
    TEST_KIND_TAG,
    TEST_RESCORED_TAG,
    TEST_SCORES_TAG,
    TEST_TRIAL_TAG,
    confusion_artifact,
    load_keras_model,
    score_artifact,
)

if TYPE_CHECKING:
    from search.study import StudyData
    from search.tracking import StudyTracker



HONEST_FIELDS = ("n_test", "ci_low", "ci_high", "clean_accuracy", "n_clean")
"""Fields of the scores on unseen faces (issue 25; ``search.study.honest_split_score``)."""


def honest_metrics(honest: Any) -> dict[str, float]:
    """The parent run's metrics of a test score on unseen faces (clean subset, Wilson 95 % interval)."""
    return {"test_accuracy_clean": honest.clean_accuracy, "test_n_clean": honest.n_clean,
            "test_accuracy_ci95_low": honest.ci_low, "test_accuracy_ci95_high": honest.ci_high}


@dataclass(frozen=True)
class TestScore:
    """What the test split said about the selected model.

    ``kind``, ``model_uri``, ``tta`` and ``members`` say which model was scored (see
    ``search.selection._selected.Selection``); a stage-1 trial's score has kind ``trial`` and no TTA.
    ``n_test``, ``ci_low``/``ci_high`` (Wilson 95 %), ``clean_accuracy`` and ``n_clean`` (test faces that duplicate
    no training face, exact hash) are None for scores recorded before they existed.
    """

    trial: int
    accuracy: float
    macro_f1: float
    n_scores: int
    scored_at: str
    kind: str = "trial"
    model_uri: str | None = None
    tta: str = "none"
    members: tuple[int, ...] = ()
    n_test: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    clean_accuracy: float | None = None
    n_clean: int | None = None

    @classmethod
    def from_attr(cls, attr: dict[str, Any]) -> TestScore:
        optional = {key: attr[key] for key in ("kind", "model_uri", "tta", *HONEST_FIELDS) if key in attr}
        return cls(**{key: attr[key] for key in ("trial", "accuracy", "macro_f1", "n_scores", "scored_at")},
                   members=tuple(attr.get("members", ())), **optional)

    def describe(self) -> str:
        """What was scored, named as its selection names it (`describe_model`)."""
        return describe_model(self.kind, self.trial, self.members, self.tta)


def recorded_test_score(study: optuna.Study) -> TestScore | None:
    """The test score stored on the study, if it was scored."""
    attr = study.user_attrs.get(st.TEST_SCORE_ATTR)
    return TestScore.from_attr(attr) if attr else None


def score_selected_model(
    study: optuna.Study, data: StudyData, tracker: StudyTracker, parent_run_id: str, *, force: bool = False
) -> TestScore:
    """Scores the selected model on the test split and records it on the study and parent run.

    The selected model is the one stage 2 recorded (``fer.selected``: a refit model or an ensemble,
    scored with the TTA its selection used), else the best stage-1 trial's.

    Every caller (``test``, the last worker of ``run``, ``run --refit-top``) comes here, and the decision
    ("not scored yet") and the record are made under the study lock: of several at once, one scores and
    the others are refused.

    Raises:
        AlreadyScoredError: The study was scored before and ``force`` is False.
    """
    with st.study_lock_of(study):
        previous = recorded_test_score(study)  # read under the lock: the decision and the record are one step
        if previous is not None and not force:
            raise AlreadyScoredError(
                f"Study {study.study_name!r} was already scored on the test split ({previous.scored_at}: "
                f"{previous.describe()}, accuracy {previous.accuracy:.4f}). The test split is used once per "
                "study; pass --force to re-score (recorded as a re-score on the study's run)."
            )
        return _score_and_record(study, data, tracker, parent_run_id, previous)


def _score_and_record(study: optuna.Study, data: StudyData, tracker: StudyTracker, parent_run_id: str,
                      previous: TestScore | None) -> TestScore:
    """Scores the selected model and records it (call under the study lock)."""
    from fer_core.evaluate import evaluate
    from search.selection._calibration import calibrate_scored_model, log_test_calibration
    from search.selection._selected import recorded_selection

    selection = recorded_selection(study)
    if selection is None:  # no stage 2: the best stage-1 trial, without TTA
        best = select_best(study)
        model = load_trial_model(best)
        subject: dict[str, Any] = {"trial": best.number, "model_uri": best.user_attrs.get(st.MODEL_URI_ATTR)}
    else:
        model = load_model_uri(selection.model_uri)
        subject = {"trial": selection.trial, "kind": selection.kind, "model_uri": selection.model_uri,
                   "tta": selection.tta, "members": selection.members}
    test = data.splits.test
    result = evaluate(model, test.images, test.labels, tta=subject.get("tta", "none"))
    n_scores = 1 if previous is None else previous.n_scores + 1
    calibration = calibrate_scored_model(study, data, tracker, parent_run_id, model, model_uri=subject["model_uri"],
                                         tta=subject.get("tta", "none")).test_fields(result.probabilities, test.labels)
    log_test_calibration(tracker, parent_run_id, calibration, step=n_scores)
    honest = st.honest_split_score(data, "test", result)  # clean subset and Wilson 95 % interval
    score = TestScore(
        accuracy=float(result.accuracy), macro_f1=float(result.macro_f1),
        n_scores=n_scores, scored_at=datetime.now(UTC).isoformat(timespec="seconds"), **subject,
        **{key: getattr(honest, key) for key in HONEST_FIELDS if key != "n_test"}, n_test=honest.n,
    )
    tracker.log_metrics(parent_run_id, {"test_accuracy": score.accuracy, "test_macro_f1": score.macro_f1,
                                        **honest_metrics(honest)}, step=n_scores)
    tracker.set_tags(parent_run_id, {
        TEST_TRIAL_TAG: score.trial, TEST_SCORES_TAG: n_scores, TEST_KIND_TAG: score.kind,
        TEST_RESCORED_TAG: "true" if n_scores > 1 else "false",
    })
    tracker.log_dict(parent_run_id, {**result.to_dict(), "calibration": calibration}, score_artifact(n_scores))
    tracker.log_figure(parent_run_id, result.confusion_figure(title=f"Test confusion ({score.describe()})"),
                       confusion_artifact(n_scores))
    # Last: the record that the split was used.
    study.set_user_attr(st.TEST_SCORE_ATTR, {**score.__dict__, "members": list(score.members),
                                             "calibration": calibration})
    return score


def load_trial_model(trial: optuna.trial.FrozenTrial) -> Any:
    """Loads the model a trial logged (``load_keras_model``: safe mode, uncompiled)."""
    uri = trial.user_attrs.get(st.MODEL_URI_ATTR)
    if uri is None:
        raise NotFoundError(f"Trial #{trial.number} has no logged model (was it outside --keep-top?).")
    return load_model_uri(uri)


def load_model_uri(uri: str) -> Any:
    """Loads an MLflow Keras model (a trial's, a refit's or an ensemble): ``search.tracking.load_keras_model``."""
    return load_keras_model(uri)
