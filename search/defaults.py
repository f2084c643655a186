"""The choices and defaults that the command line shows, defined once where importing them is cheap.

``python -m search --help`` lists engines, oracles, samplers and pruners and shows the refit, promotion
and UI defaults; the subpackages that use them (``search.study``, ``search.refit``, ``search.selection``,
``search.tracking``) import optuna, MLflow or TensorFlow, so the names live here and those packages
import them from here. Nothing in this module imports anything.
"""

from __future__ import annotations

ENGINES = ("optuna", "keras-tuner")
"""Search engines: Optuna samplers and pruners, or a Keras Tuner oracle proposing the trials."""
TUNERS = ("hyperband", "bayesian", "random")
"""Keras Tuner oracles (``--tuner``) of the keras-tuner engine."""
SAMPLER_NAMES = ("tpe", "random", "cmaes", "gp", "nsga2")
"""Names of ``search.study.SAMPLERS`` (``--sampler``)."""
PRUNER_NAMES = ("hyperband", "median", "none")
"""Names of ``search.study.PRUNERS`` (``--pruner``)."""

DEFAULT_TOP = 3
DEFAULT_EPOCHS = 60
DEFAULT_PATIENCE = 10
DEFAULT_TTA = "flip"
DEFAULT_ENSEMBLE_MAX = 3
DEFAULT_DISTILL_WEIGHT = 0.7
"""Stage 2's defaults (``search refit``; ``search.refit.RefitOptions``)."""

DEFAULT_MODEL_NAME = "fer-emotion"
DEFAULT_ALIAS = "champion"
"""The registered model and alias ``promote`` moves (``search.selection.promote_study``)."""

DEFAULT_RETRY_S = 60.0
"""Seconds a worker rides out an unreachable tracking store, storage or disk before it stops (``--retry-for``)."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
"""Where ``search ui`` serves the MLflow UI (``search.tracking.UiSettings``)."""

__all__ = [
    "DEFAULT_ALIAS", "DEFAULT_DISTILL_WEIGHT",
    "DEFAULT_ENSEMBLE_MAX", "DEFAULT_EPOCHS", "DEFAULT_HOST", "DEFAULT_MODEL_NAME", "DEFAULT_PATIENCE",
    "DEFAULT_PORT", "DEFAULT_RETRY_S", "DEFAULT_TOP", "DEFAULT_TTA", "ENGINES", "PRUNER_NAMES", "SAMPLER_NAMES",
    "TUNERS",
]
