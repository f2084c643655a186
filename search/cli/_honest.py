"""Scores on unseen faces for the terminal: clean-subset accuracies and the test score's Wilson interval.

"Clean" = validation or test faces whose pixels equal no training face (exact content hash, ``fer_core.audit``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

    from search.selection import TestScore

CLEAN_NOTE = "clean = faces whose pixels equal no training face (exact hash)"


def clean_val_accuracy(trial: optuna.trial.FrozenTrial) -> float | None:
    """The trial's validation accuracy on the clean subset, or None (a trial recorded before it existed)."""
    from search.study import CLEAN_VAL_ACCURACY_ATTR

    value = trial.user_attrs.get(CLEAN_VAL_ACCURACY_ATTR)
    return float(value) if value is not None else None


def percent(value: float | None) -> str:
    """``0.6231`` -> ``62.31 %``; ``-`` for None or NaN."""
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.2f} %"


def test_score_line(score: TestScore) -> str:
    """``Test accuracy 62.31 % (95 % CI 60.71-63.88 %, Wilson, n=3589); clean subset 61.90 % (n=3301)``."""
    text = f"test accuracy {percent(score.accuracy)}"
    if score.ci_low is not None and score.ci_high is not None:
        text += (f" (95 % CI {100 * score.ci_low:.2f}-{100 * score.ci_high:.2f} %, Wilson"
                 + (f", n={score.n_test}" if score.n_test is not None else "") + ")")
    if score.clean_accuracy is not None:
        text += f"; on unseen faces (clean subset, n={score.n_clean}): {percent(score.clean_accuracy)}"
    else:
        text += "; clean-subset accuracy not recorded (scored before it existed)"
    return text


def validation_line(trial: optuna.trial.FrozenTrial) -> str:
    """``validation accuracy 61.20 %; on unseen faces (clean subset): 60.80 %``."""
    value = float(trial.value) if trial.value is not None else None
    return (f"validation accuracy {percent(value)}; on unseen faces (clean subset): "
            f"{percent(clean_val_accuracy(trial))}")


def leaderboard_records(study: optuna.Study, rows: list[Any]) -> list[dict[str, Any]]:
    """Leaderboard rows as dicts with ``val_accuracy_clean`` (for ``best --format json``)."""
    from dataclasses import asdict

    return [{**asdict(row), "val_accuracy_clean": clean_val_accuracy(study.trials[row.trial])} for row in rows]


def clean_table(study: optuna.Study, rows: list[Any]) -> str:
    """One line per leaderboard row: its validation accuracy and its clean-subset twin."""
    lines = [f"Validation accuracy on unseen faces ({CLEAN_NOTE}):"]
    for row in rows:
        trial = study.trials[row.trial]
        lines.append(f"  #{row.trial}: {percent(row.val_accuracy)} all, {percent(clean_val_accuracy(trial))} clean")
    return "\n".join(lines)
