"""Scores on unseen faces as registered-version tags: clean-subset accuracies and the test score's interval."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from search.study import CLEAN_VAL_ACCURACY_ATTR
from search.tracking import VERSION_TEST_CI_TAG, VERSION_TEST_CLEAN_ACCURACY_TAG, VERSION_VAL_CLEAN_ACCURACY_TAG

if TYPE_CHECKING:
    import optuna

    from search.selection._test_score import TestScore


def honest_version_tags(score: TestScore, trial: optuna.trial.FrozenTrial) -> dict[str, str]:
    """``test_accuracy_clean``, ``test_accuracy_ci95`` (``low..high``, Wilson) and ``val_accuracy_clean`` of the
    trial, for the versions a study registers; empty for scores recorded before they existed."""
    tags: dict[str, str] = {}
    if score.clean_accuracy is not None:
        tags[VERSION_TEST_CLEAN_ACCURACY_TAG] = _number(score.clean_accuracy)
    if score.ci_low is not None and score.ci_high is not None:
        tags[VERSION_TEST_CI_TAG] = f"{score.ci_low:.6f}..{score.ci_high:.6f}"
    clean_val = trial.user_attrs.get(CLEAN_VAL_ACCURACY_ATTR)
    if clean_val is not None:
        tags[VERSION_VAL_CLEAN_ACCURACY_TAG] = _number(float(clean_val))
    return tags


def _number(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else "nan"
