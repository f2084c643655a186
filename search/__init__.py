"""Orchestration: Optuna studies over YAML spaces, MLflow tracking, selection, one test score, promotion.

The layers, top to bottom (each imports only those below it; ``docs/architecture.md``):

- ``search.cli``: the command line, the only code that prints for people;
- ``search.report``, ``search.refit`` (stage 2), ``search.engines`` (the loops that run a study);
- ``search.selection``: the leaderboard, the selected model, the one test score, promotion;
- ``search.study``: storage, lock, queue, settings, samplers and pruners, data, the trial executor;
- ``search.tracking``: the only code that talks to MLflow;
- ``search.errors``, ``search.paths``, ``search.signals``, ``search.redaction``: shared foundations.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "main": "search.cli",
    "StudyRun": "search.engines",
    "run_study": "search.engines",
    "AlreadyScoredError": "search.errors",
    "PromotionRefused": "search.errors",
    "SearchError": "search.errors",
    "LeaderboardRow": "search.selection",
    "Promotion": "search.selection",
    "TestScore": "search.selection",
    "leaderboard": "search.selection",
    "promote_study": "search.selection",
    "score_selected_model": "search.selection",
    "select_best": "search.selection",
    "PRUNERS": "search.study",
    "SAMPLERS": "search.study",
    "StudySettings": "search.study",
    "make_pruner": "search.study",
    "make_sampler": "search.study",
    "StudyTracker": "search.tracking",
    "TrialState": "search.tracking",
}
"""Public name -> the subpackage that defines it. Imported on first use (PEP 562), so that
``python -m search --help`` does not load TensorFlow, Keras Tuner and MLflow."""


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "AlreadyScoredError",
    "LeaderboardRow",
    "Promotion",
    "PromotionRefused",
    "SearchError",
    "StudyRun",
    "StudySettings",
    "StudyTracker",
    "TestScore",
    "TrialState",
    "leaderboard",
    "main",
    "make_pruner",
    "make_sampler",
    "promote_study",
    "run_study",
    "score_selected_model",
    "select_best",
]
