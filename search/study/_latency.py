"""A candidate's inference latency: timed right after its network is built, recorded, and held to a limit.

The latency depends on the architecture alone (the weights do not change the work done), so the untrained
network is timed before training: a candidate slower than ``run --max-latency-ms`` fails at once, with the
figure as its reason, instead of after a full training. The figures go on the trial (leaderboard, report,
``best --pareto``) and on its MLflow run beside its parameters and MACs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from search.study import _attrs as st
from search.tracking import LATENCY_BATCH_METRIC, LATENCY_METRIC

if TYPE_CHECKING:
    import optuna

    from search.tracking import StudyTracker

TRIAL_BUDGET_S = 0.4
"""Seconds of timed calls per trial (single face and batch of 64 together), after the warm-up."""


def record_candidate_latency(model: Any, trial: optuna.Trial, tracker: StudyTracker, run_id: str,
                             *, max_latency_ms: float | None) -> str | None:
    """Times ``model`` (as the float32 model that will be served) here, records the figures; the rejection
    reason when over ``max_latency_ms``.

    Returns:
        None when the candidate may train, else why it may not (the trial fails as a bad candidate).
    """
    from fer_core.model import as_float32
    from fer_core.predict import keras_predict_fn, measure_latency

    latency = measure_latency(keras_predict_fn(as_float32(model)), budget_s=TRIAL_BUDGET_S, seed=trial.number)
    trial.set_user_attr(st.LATENCY_ATTR, round(latency.single_ms, 4))
    trial.set_user_attr(st.LATENCY_BATCH_ATTR, round(latency.batch_ms, 4))
    tracker.log_metrics(run_id, {LATENCY_METRIC: latency.single_ms, LATENCY_BATCH_METRIC: latency.batch_ms})
    return latency_rejection(latency.single_ms, max_latency_ms)


def latency_rejection(single_ms: float, max_latency_ms: float | None) -> str | None:
    """The reason a candidate of ``single_ms`` per face is refused under ``max_latency_ms`` (None: accepted)."""
    if max_latency_ms is None or single_ms <= max_latency_ms:
        return None
    return (f"too slow: {single_ms:.2f} ms per face > --max-latency-ms {max_latency_ms:g} "
            "(timed on this machine before training)")
