"""Search engines: the loop that runs a study (Optuna's sampler and pruner) and the Keras Tuner engine."""

from __future__ import annotations

from search.engines._keras_tuner import (
    HYPERBAND_FACTOR,
    OBJECTIVE,
    TUNER_ID,
    WEIGHTS_FILE,
    check_keras_tuner_run,
    hyperband_max_epochs,
    make_oracle,
    open_oracle,
    run_keras_tuner_trials,
)
from search.engines._kt_space import ALTERNATIVE_SEPARATOR, TUNER_PREFIX, KerasTunerSpace, to_keras_tuner
from search.engines._optuna_loop import run_optuna_trials
from search.engines._run import StudyRun, run_study

__all__ = [
    "ALTERNATIVE_SEPARATOR",
    "check_keras_tuner_run",
    "HYPERBAND_FACTOR",
    "hyperband_max_epochs",
    "KerasTunerSpace",
    "make_oracle",
    "OBJECTIVE",
    "open_oracle",
    "run_keras_tuner_trials",
    "run_optuna_trials",
    "run_study",
    "StudyRun",
    "to_keras_tuner",
    "TUNER_ID",
    "TUNER_PREFIX",
    "WEIGHTS_FILE",
]
