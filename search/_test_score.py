"""The one-time test score: the selected model meets the test split once per study.

No other HPO tool enforces this; it is the platform's promise. A second score needs ``--force`` and is
recorded as a re-score on the study's parent run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import optuna

from search._errors import NotFoundError
from search import _study as st
from search._selection import select_best

if TYPE_CHECKING:
    from search._data import StudyData
    from search._tracking import StudyTracker


class AlreadyScoredError(RuntimeError):
    """The study's test split was already used (re-scoring needs ``--force``)."""


@dataclass(frozen=True)
class TestScore:
    """What the test split said about the selected model."""

    trial: int
    accuracy: float
    macro_f1: float
    n_scores: int
    scored_at: str

    @classmethod
    def from_attr(cls, attr: dict[str, Any]) -> TestScore:
        return cls(**{key: attr[key] for key in ("trial", "accuracy", "macro_f1", "n_scores", "scored_at")})


def recorded_test_score(study: optuna.Study) -> TestScore | None:
    """The test score stored on the study, if it was scored."""
    attr = study.user_attrs.get(st.TEST_SCORE_ATTR)
    return TestScore.from_attr(attr) if attr else None


def score_selected_model(
    study: optuna.Study, data: StudyData, tracker: StudyTracker, parent_run_id: str, *, force: bool = False
) -> TestScore:
    """Scores the selected trial's model on the test split and records it on the study and parent run.

    Raises:
        AlreadyScoredError: The study was scored before and ``force`` is False.
    """
    previous = recorded_test_score(study)
    if previous is not None and not force:
        raise AlreadyScoredError(
            f"Study {study.study_name!r} was already scored on the test split ({previous.scored_at}: trial "
            f"#{previous.trial}, accuracy {previous.accuracy:.4f}). The test split is used once per study; "
            "pass --force to re-score (recorded as a re-score on the study's run)."
        )
    best = select_best(study)
    model = load_trial_model(best)
    from fer_core.evaluate import evaluate

    test = data.splits.test
    result = evaluate(model, test.images, test.labels)
    n_scores = 1 if previous is None else previous.n_scores + 1
    score = TestScore(
        trial=best.number, accuracy=float(result.accuracy), macro_f1=float(result.macro_f1),
        n_scores=n_scores, scored_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    tracker.log_metrics(parent_run_id, {"test_accuracy": score.accuracy, "test_macro_f1": score.macro_f1},
                        step=n_scores)
    tracker.set_tags(parent_run_id, {
        "fer.test_trial": best.number, "fer.test_scores": n_scores,
        "fer.test_rescored": "true" if n_scores > 1 else "false",
    })
    tracker.log_dict(parent_run_id, result.to_dict(), f"test/score_{n_scores}.json")
    tracker.log_figure(parent_run_id, result.confusion_figure(title=f"Test confusion (trial #{best.number})"),
                       f"test/confusion_{n_scores}.html")
    study.set_user_attr(st.TEST_SCORE_ATTR, score.__dict__)  # last: the record that the split was used
    return score


def load_trial_model(trial: optuna.trial.FrozenTrial) -> Any:
    """Loads the model a trial logged (safe mode)."""
    import mlflow

    uri = trial.user_attrs.get(st.MODEL_URI_ATTR)
    if uri is None:
        raise NotFoundError(f"Trial #{trial.number} has no logged model (was it outside --keep-top?).")
    return mlflow.keras.load_model(uri, load_model_kwargs={"safe_mode": True})
