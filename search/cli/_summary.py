"""The end-of-run summary: counts, leaderboard, best parameters, validation and test accuracy."""

from __future__ import annotations

import optuna

from search.cli._honest import CLEAN_NOTE, test_score_line, validation_line
from search.cli._tables import format_leaderboard
from search.selection import leaderboard, recorded_test_score, select_best
from search.study import state_counts

TOP_N = 5


def study_summary(study: optuna.Study, n_requested: int | None = None) -> str:
    """A plain-text summary of the study for the terminal."""
    counts = state_counts(study)
    finished = counts["complete"] + counts["pruned"] + counts["failed"]
    requested = f" of {n_requested} requested" if n_requested else ""
    lines = [
        f"Study {study.study_name!r}: {finished} finished{requested} "
        f"({counts['complete']} complete, {counts['pruned']} pruned, {counts['failed']} failed"
        + (f", {counts['interrupted']} interrupted" if counts["interrupted"] else "") + ")",
        "",
        f"Leaderboard (top {TOP_N}, by validation accuracy):",
        format_leaderboard(leaderboard(study, TOP_N)),
    ]
    try:
        best = select_best(study)
    except LookupError:
        return "\n".join(lines)
    lines += ["", f"Selected: trial #{best.number}, validation accuracy {best.value:.4f}",
              f"  {validation_line(best)} ({CLEAN_NOTE})"]
    lines += [f"  {name} = {value}" for name, value in sorted(best.params.items())]
    score = recorded_test_score(study)
    if score is None:
        lines.append("Test accuracy: not scored yet (the test split is used once, when the search ends).")
    else:
        note = " (re-scored)" if score.n_scores > 1 else ""
        lines.append(f"Test accuracy of {score.describe()}: {score.accuracy:.4f} "
                     f"(macro-F1 {score.macro_f1:.4f}), scored once{note} at {score.scored_at}")
        lines.append(f"  {test_score_line(score)}")
        if score.trial != best.number:
            lines.append(f"  note: the best trial is now #{best.number}; the test split was already used for "
                         f"#{score.trial}. `python -m search test --force` records a re-score.")
    lines += ["", "MLflow UI:  python -m search ui   (then open http://127.0.0.1:5000)",
              f"Promote:    python -m search promote --study {study.study_name}"]
    return "\n".join(lines)
