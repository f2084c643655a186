"""Choosing the model: the leaderboard on validation, the study's selected model, the one guarded test
score, the serving model and its promotion in the MLflow Model Registry.
"""

from __future__ import annotations

from search.selection._leaderboard import (
    LeaderboardRow,
    leaderboard,
    select_best,
)
from search.selection._pareto import pareto_front, study_pareto_front
from search.selection._promotion import (
    DEFAULT_ALIAS,
    DEFAULT_MODEL_NAME,
    MODEL_DESCRIPTION,
    Promotion,
    promote_study,
)
from search.selection._selected import (
    KINDS,
    Selection,
    record_selection,
    recorded_selection,
)
from search.selection._serving_model import ServingModel, serving_model
from search.selection._test_score import (
    TestScore,
    load_model_uri,
    load_trial_model,
    recorded_test_score,
    score_selected_model,
)

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "KINDS",
    "leaderboard",
    "LeaderboardRow",
    "load_model_uri",
    "load_trial_model",
    "MODEL_DESCRIPTION",
    "pareto_front",
    "promote_study",
    "Promotion",
    "record_selection",
    "recorded_selection",
    "recorded_test_score",
    "score_selected_model",
    "select_best",
    "Selection",
    "study_pareto_front",
    "serving_model",
    "ServingModel",
    "TestScore",
]
