"""Choosing the model: the leaderboard on validation, the study's selected model, the one guarded test score, the serving model and promotion in the registry.
"""

from __future__ import annotations

from search.selection._leaderboard import (
    ranking_key,
    completed_trials,
    select_best,
    LeaderboardRow,
    leaderboard,
    state_counts,
    format_leaderboard,
    format_table,
)
from search.selection._selected import (
    KINDS,
    Selection,
    recorded_selection,
    record_selection,
    format_selection,
)
from search.selection._test_score import (
    TestScore,
    recorded_test_score,
    score_selected_model,
    load_trial_model,
    load_model_uri,
)
from search.selection._serving_model import SERVING_MODEL_ID_TAG, ServingModel, serving_model
from search.selection._promotion import (
    DEFAULT_MODEL_NAME,
    DEFAULT_ALIAS,
    TTA_IN_MODEL_TAG,
    SCORED_MODEL_TAG,
    Promotion,
    promote_study,
)

__all__ = [
    "completed_trials",
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "format_leaderboard",
    "format_selection",
    "format_table",
    "KINDS",
    "leaderboard",
    "LeaderboardRow",
    "load_model_uri",
    "load_trial_model",
    "promote_study",
    "Promotion",
    "ranking_key",
    "record_selection",
    "recorded_selection",
    "recorded_test_score",
    "score_selected_model",
    "SCORED_MODEL_TAG",
    "select_best",
    "Selection",
    "serving_model",
    "SERVING_MODEL_ID_TAG",
    "ServingModel",
    "state_counts",
    "TestScore",
    "TTA_IN_MODEL_TAG",
]
