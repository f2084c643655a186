"""Orchestration: Optuna studies over YAML spaces, MLflow tracking, selection, one test score, promotion."""

from search._cli import main
from search._promote import Promotion, PromotionRefused, promote_study
from search._registry import PRUNERS, SAMPLERS, make_pruner, make_sampler
from search._runner import StudyRun, run_study
from search._selection import LeaderboardRow, leaderboard, select_best
from search._settings import StudySettings
from search._test_score import AlreadyScoredError, TestScore, score_selected_model
from search._tracking import StudyTracker, TrialState

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "AlreadyScoredError",
    "LeaderboardRow",
    "Promotion",
    "PromotionRefused",
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
