"""Scores on a set that lacks classes, with the Wilson interval."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.audit import wilson_interval
from fer_core.emotions import N_CLASSES
from fer_core.evaluate import score_set


def test_absent_classes_are_reported_and_left_out_of_macro_f1() -> None:
    labels = np.array([0, 0, 3, 3])
    probabilities = np.eye(N_CLASSES, dtype=np.float32)[[0, 3, 3, 3]]
    score = score_set(labels, probabilities)
    assert score.present == ("angry", "happy")
    assert "disgust" in score.absent and len(score.absent) == 5
    assert score.recall == {"angry": 0.5, "happy": 1.0}
    assert score.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
    assert score.accuracy == 0.75
    assert (score.ci_low, score.ci_high) == pytest.approx(wilson_interval(3, 4))
