"""Stage 2: refit the top trials with the full recipe (resumable, time-boxed), then choose among refits and ensembles on validation.
"""

from __future__ import annotations

from search.refit._options import (
    DEFAULT_TOP,
    DEFAULT_EPOCHS,
    DEFAULT_PATIENCE,
    DEFAULT_TTA,
    DEFAULT_ENSEMBLE_MAX,
    RefitOptions,
)
from search.refit._checkpoint import STATE_FILE, RefitState, RefitCheckpoint
from search.refit._callback import PLATEAU_FIELDS, EpochCommitted, RefitCheckpointCallback
from search.refit._progress import RefitProgress
from search.refit._budget import (
    PROBE_BATCHES,
    PROBE_EVAL_IMAGES,
    EPOCH_OVERHEAD,
    EPOCH_FIXED_S,
    MODEL_LOGGING_S,
    SHARE_SLACK,
    CandidateSpeed,
    measure_speed,
    EpochPlan,
    PendingRefit,
    RefitBudget,
    plan_epochs,
    evaluation_reserve_s,
)
from search.refit._ensemble import (
    INPUT_NAME,
    ENSEMBLE_NAME,
    build_ensemble,
    EnsembleChoice,
    choose_ensemble_size,
    mean_probabilities,
)
from search.refit._job import REFIT_ROLE, REFIT_OF_TAG, N_RESUMES_TAG, RefitResult, RefitJob
from search.refit._choice import ENSEMBLE_ROLE, RankedModel, choose_model, rank_refits
from search.refit._stage import RefitOutcome, refit_study, format_refit_summary

__all__ = [
    "build_ensemble",
    "CandidateSpeed",
    "choose_ensemble_size",
    "choose_model",
    "DEFAULT_ENSEMBLE_MAX",
    "DEFAULT_EPOCHS",
    "DEFAULT_PATIENCE",
    "DEFAULT_TOP",
    "DEFAULT_TTA",
    "ENSEMBLE_NAME",
    "ENSEMBLE_ROLE",
    "EnsembleChoice",
    "EPOCH_FIXED_S",
    "EPOCH_OVERHEAD",
    "EpochCommitted",
    "EpochPlan",
    "evaluation_reserve_s",
    "format_refit_summary",
    "INPUT_NAME",
    "mean_probabilities",
    "measure_speed",
    "MODEL_LOGGING_S",
    "N_RESUMES_TAG",
    "PendingRefit",
    "plan_epochs",
    "PLATEAU_FIELDS",
    "PROBE_BATCHES",
    "PROBE_EVAL_IMAGES",
    "rank_refits",
    "RankedModel",
    "REFIT_OF_TAG",
    "REFIT_ROLE",
    "refit_study",
    "RefitBudget",
    "RefitCheckpoint",
    "RefitCheckpointCallback",
    "RefitJob",
    "RefitOptions",
    "RefitOutcome",
    "RefitProgress",
    "RefitResult",
    "RefitState",
    "SHARE_SLACK",
    "STATE_FILE",
]
