"""A study's data audit (logged on its parent run when it starts) and its scores on unseen faces.

"Clean" faces are the validation and test faces whose pixels equal no training face (exact content hash,
``fer_core.audit.overlap_with``); every accuracy the platform reports comes with its clean-subset twin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from search.study._attrs import CLEAN_VAL_ACCURACY_ATTR
from search.tracking import (
    AUDIT_ARTIFACT,
    AUDIT_BLANK_TAG,
    AUDIT_CONFLICTS_TAG,
    AUDIT_NEAR_THRESHOLD_TAG,
    AUDIT_TEST_IN_TRAIN_TAG,
    AUDIT_TEST_IN_VALIDATION_TAG,
    AUDIT_VALIDATION_IN_TRAIN_TAG,
    CLEAN_VAL_ACCURACY_METRIC,
    DEDUPE_TAG,
    N_CLEAN_VALIDATION_METRIC,
)

if TYPE_CHECKING:
    import optuna

    from fer_core.audit import AuditReport, HonestScore
    from fer_core.evaluate import EvaluationResult
    from search.study._data import StudyData
    from search.tracking import StudyTracker


def audit_study_data(data: StudyData) -> AuditReport:
    """The audit of the study's three splits (the whole training split, not a ``--subset`` of it)."""
    from fer_core.audit import audit_splits

    return audit_splits({split.name: (split.images, split.labels) for split in data.splits.splits})


def audit_record(report: AuditReport, data: StudyData) -> dict[str, Any]:
    """The audit as logged: the report plus ``--dedupe`` and what it dropped."""
    return {**report.to_dict(), "dedupe": data.dedupe, "dropped_by_dedupe": dict(data.n_dropped)}


def record_audit(tracker: StudyTracker, parent_run_id: str, data: StudyData) -> AuditReport:
    """Audits the study's data and logs it on the parent run: ``audit/audit.json``, tags and metrics."""
    report = audit_study_data(data)
    tracker.log_dict(parent_run_id, audit_record(report, data), AUDIT_ARTIFACT)
    tracker.set_tags(parent_run_id, {
        AUDIT_VALIDATION_IN_TRAIN_TAG: report.in_train("validation"),
        AUDIT_TEST_IN_TRAIN_TAG: report.in_train("test"),
        AUDIT_TEST_IN_VALIDATION_TAG: report.exact["test"]["validation"],
        AUDIT_CONFLICTS_TAG: report.n_conflicting_groups,
        AUDIT_BLANK_TAG: sum(report.n_blank.values()),
        AUDIT_NEAR_THRESHOLD_TAG: report.threshold,
        DEDUPE_TAG: "true" if data.dedupe else "false",
    })
    tracker.log_metrics(parent_run_id, {
        "audit_validation_in_train": report.in_train("validation"), "audit_test_in_train": report.in_train("test"),
        "audit_near_validation_in_train": report.near["validation"]["train"],
        "audit_near_test_in_train": report.near["test"]["train"], "audit_seconds": report.seconds,
    })
    return report


def honest_split_score(data: StudyData, name: str, evaluation: EvaluationResult) -> HonestScore:
    """``evaluation`` (of split ``name``) with its clean-subset accuracy and Wilson 95 % intervals."""
    from fer_core.audit import honest_score

    return honest_score(evaluation.labels, evaluation.predictions, data.clean_mask(name))


def log_clean_validation(tracker: StudyTracker, run_id: str, data: StudyData, evaluation: EvaluationResult,
                         trial: optuna.Trial) -> None:
    """Logs a trial's validation accuracy on the clean subset (``final_val_accuracy_clean``, ``n_val_clean``)
    on its run, and as the trial's ``val_accuracy_clean`` attribute (for ``best`` and the report)."""
    score = honest_split_score(data, "validation", evaluation)
    trial.set_user_attr(CLEAN_VAL_ACCURACY_ATTR, score.clean_accuracy)
    tracker.log_metrics(run_id, {CLEAN_VAL_ACCURACY_METRIC: score.clean_accuracy,
                                 N_CLEAN_VALIDATION_METRIC: score.n_clean})
