"""Stage 2: refit the top trials with the full recipe (checkpointed, resumable, time-boxed), optionally
distil their ensemble into one network, then choose among the refit models, ensembles of them and the
distilled network on validation only.
"""

from __future__ import annotations

from search.refit._budget import (
    EPOCH_FIXED_S,
    EPOCH_OVERHEAD,
    MODEL_LOGGING_S,
    PROBE_BATCHES,
    PROBE_EVAL_IMAGES,
    SHARE_SLACK,
    CandidateSpeed,
    EpochPlan,
    PendingRefit,
    RefitBudget,
    evaluation_reserve_s,
    measure_speed,
    plan_epochs,
)
from search.refit._callback import PLATEAU_FIELDS, EpochCommitted, RefitCheckpointCallback
from search.refit._checkpoint import STATE_FILE, RefitCheckpoint, RefitState
from search.refit._choice import choose_model, student_wins
from search.refit._distill import (
    FINE_TUNE_LR_SCALE,
    STUDENT_KEY,
    TEACHER_TTA,
    DistillJob,
    DistillResult,
    Teacher,
    describe_student,
)
from search.refit._ensemble import (
    ENSEMBLE_NAME,
    INPUT_NAME,
    EnsembleChoice,
    build_ensemble,
    choose_ensemble_size,
)
from search.refit._job import RefitJob, RefitResult
from search.refit._options import (
    DEFAULT_DISTILL_WEIGHT,
    DEFAULT_ENSEMBLE_MAX,
    DEFAULT_EPOCHS,
    DEFAULT_PATIENCE,
    DEFAULT_TOP,
    DEFAULT_TTA,
    RefitOptions,
)
from search.refit._progress import RefitProgress
from search.refit._ranking import RankedModel, rank_refits, validation_probabilities
from search.refit._stage import RefitOutcome, refit_study

__all__ = [
    "DEFAULT_DISTILL_WEIGHT",
    "describe_student",
    "DistillJob",
    "DistillResult",
    "FINE_TUNE_LR_SCALE",
    "STUDENT_KEY",
    "student_wins",
    "validation_probabilities",
    "Teacher",
    "TEACHER_TTA",
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
    "EnsembleChoice",
    "EPOCH_FIXED_S",
    "EPOCH_OVERHEAD",
    "EpochCommitted",
    "EpochPlan",
    "evaluation_reserve_s",
    "INPUT_NAME",
    "measure_speed",
    "MODEL_LOGGING_S",
    "PendingRefit",
    "plan_epochs",
    "PLATEAU_FIELDS",
    "PROBE_BATCHES",
    "PROBE_EVAL_IMAGES",
    "rank_refits",
    "RankedModel",
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
