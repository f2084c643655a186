"""Promotion: register the study's test-scored model in the MLflow Model Registry and move an alias.

Aliases, not the deprecated stages. A champion is not replaced by a model with a lower test accuracy on
the same data unless forced. A model scored with test-time augmentation is registered with that TTA inside
it (``search.selection._serving_model``), so every way of loading or serving the version predicts as it was scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import optuna

from search import study as st
from search.defaults import DEFAULT_ALIAS, DEFAULT_MODEL_NAME
from search.errors import PromotionRefused
from search.selection._honest import honest_version_tags
from search.selection._serving_model import ServingModel, serving_model
from search.selection._test_score import TestScore, recorded_test_score
from search.tracking import (
    REGISTERED_TAG,
    SCORED_MODEL_TAG,
    TTA_IN_MODEL_TAG,
    VERSION_FINGERPRINT_TAG,
    VERSION_KIND_TAG,
    VERSION_MEMBERS_TAG,
    VERSION_STUDY_TAG,
    VERSION_TEST_ACCURACY_TAG,
    VERSION_TEST_MACRO_F1_TAG,
    VERSION_TRIAL_TAG,
    VERSION_TTA_TAG,
    VERSION_VAL_ACCURACY_TAG,
)

if TYPE_CHECKING:
    from search.tracking import StudyTracker

MODEL_DESCRIPTION = "Facial-emotion classifier promoted by fer-search."


@dataclass(frozen=True)
class Promotion:
    """A registered version and the alias that now points at it."""

    name: str
    version: str
    alias: str
    uri: str
    test_accuracy: float


def promote_study(
    study: optuna.Study, tracker: StudyTracker, *, name: str = DEFAULT_MODEL_NAME, alias: str = DEFAULT_ALIAS,
    force: bool = False,
) -> Promotion:
    """Registers the test-scored trial's model under ``name`` and points ``alias`` at it."""
    score = recorded_test_score(study)
    if score is None:
        raise PromotionRefused(
            f"Study {study.study_name!r} has no test score yet: a model is promoted with its test accuracy. "
            "Finish the search (`python -m search run`) or run `python -m search test` first."
        )
    trial = study.trials[score.trial]
    # The model the test score is about (a refit model or an ensemble once stage 2 selected one).
    model_uri = score.model_uri or trial.user_attrs.get(st.MODEL_URI_ATTR)
    if model_uri is None:
        raise PromotionRefused(f"Trial #{trial.number} has no logged model to register.")
    fingerprint = study.user_attrs.get(st.FINGERPRINT_ATTR, "")
    _refuse_if_champion_better(tracker, name, alias, fingerprint, score.accuracy, force)

    run_id, model_id = _model_origin(tracker, model_uri, score, trial)
    scored = ServingModel(model_uri, model_id, run_id, tta_in_model=False)
    registered = serving_model(study, tracker, score, scored)
    tags = {
        VERSION_STUDY_TAG: study.study_name, VERSION_TRIAL_TAG: str(trial.number),
        VERSION_FINGERPRINT_TAG: fingerprint, VERSION_VAL_ACCURACY_TAG: f"{_val_accuracy(study, score, trial):.6f}",
        VERSION_TEST_ACCURACY_TAG: f"{score.accuracy:.6f}", VERSION_TEST_MACRO_F1_TAG: f"{score.macro_f1:.6f}",
        VERSION_KIND_TAG: score.kind, VERSION_TTA_TAG: score.tta,
        TTA_IN_MODEL_TAG: str(registered.tta_in_model).lower(), SCORED_MODEL_TAG: model_uri,
        VERSION_MEMBERS_TAG: ",".join(map(str, score.members or (trial.number,))),
        **honest_version_tags(score, trial),  # clean-subset accuracies, Wilson 95 % interval (issue 25)
    }
    # Tagged before it is registered: a worker's keep-top-K between the two steps must not delete it.
    for origin in sorted({r for r in (registered.run_id, run_id) if r}):
        tracker.set_tags(origin, {REGISTERED_TAG: "true"})
    version = tracker.register_model_version(name, source=registered.model_uri, run_id=registered.run_id,
                                             model_id=registered.model_id, tags=tags, alias=alias,
                                             description=MODEL_DESCRIPTION)
    return Promotion(name=name, version=version, alias=alias, uri=f"models:/{name}@{alias}",
                     test_accuracy=score.accuracy)


def _val_accuracy(study: optuna.Study, score: TestScore, trial: optuna.trial.FrozenTrial) -> float:
    """Validation accuracy of the scored model (with its TTA), from the selection that chose it."""
    from search.selection._selected import recorded_selection

    selection = recorded_selection(study)
    if score.kind != "trial" and selection is not None and selection.model_uri == score.model_uri:
        return selection.val_accuracy_tta
    return float(trial.value) if trial.value is not None else float("nan")


def _model_origin(tracker: StudyTracker, model_uri: str, score: TestScore,
                  trial: optuna.trial.FrozenTrial) -> tuple[str | None, str | None]:
    """The run that logged the model and its logged-model id."""
    if score.kind == "trial":
        return trial.user_attrs.get(st.RUN_ID_ATTR), trial.user_attrs.get(st.MODEL_ID_ATTR)
    model_id = model_uri.removeprefix("models:/")
    model = tracker.find_logged_model(model_id)
    return (model.source_run_id, model_id) if model is not None else (None, None)


def _refuse_if_champion_better(
    tracker: StudyTracker, name: str, alias: str, fingerprint: str, accuracy: float, force: bool
) -> None:
    current = tracker.model_version_by_alias(name, alias)
    if current is None:
        return  # no such model or alias yet
    same_data = current.tags.get(VERSION_FINGERPRINT_TAG) == fingerprint
    current_accuracy = float(current.tags.get(VERSION_TEST_ACCURACY_TAG, "nan"))
    if same_data and current_accuracy > accuracy and not force:
        raise PromotionRefused(
            f"{name}@{alias} is version {current.version} (study {current.tags.get(VERSION_STUDY_TAG)!r}) with test "
            f"accuracy {current_accuracy:.4f} on the same data, higher than this study's {accuracy:.4f}; "
            "pass --force to promote anyway."
        )
