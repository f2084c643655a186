"""``promote --max-latency-ms``: refuse a selected model slower per face than the limit, before registering it.

The model timed is the one promotion registers: the test-scored model with its test-time augmentation (a TTA
mode multiplies the work per face by its number of views).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from search.errors import PromotionRefused

if TYPE_CHECKING:
    import optuna

PROMOTION_BUDGET_S = 1.0


class LatencyRefused(PromotionRefused):
    """The selected model is slower per face than ``promote --max-latency-ms``."""


def check_promotion_latency(study: optuna.Study, max_latency_ms: float) -> Any | None:
    """Times the model ``promote`` would register; raises LatencyRefused when over ``max_latency_ms``.

    Returns:
        Its ``fer_core.predict.Latency``, or None when the study has no test score (promotion refuses it).
    """
    from fer_core.evaluate import with_tta
    from fer_core.predict import keras_predict_fn, measure_latency
    from search import study as st
    from search.errors import UsageError
    from search.selection import load_model_uri, recorded_test_score
    from search.tracking import StudyTracker

    if not max_latency_ms > 0:
        raise UsageError(f"--max-latency-ms must be > 0 milliseconds (got {max_latency_ms:g})")
    score = recorded_test_score(study)
    if score is None:
        return None
    model_uri = score.model_uri or study.trials[score.trial].user_attrs.get(st.MODEL_URI_ATTR)
    if model_uri is None:
        return None
    StudyTracker(study.study_name)  # the study's tracking store is the one models load from
    model = with_tta(load_model_uri(model_uri), score.tta)
    latency = measure_latency(keras_predict_fn(model), budget_s=PROMOTION_BUDGET_S)
    if latency.single_ms > max_latency_ms:
        tta = f" with {score.tta} TTA" if score.tta != "none" else ""
        raise LatencyRefused(
            f"The selected model ({score.describe()}{tta}) takes {latency.single_ms:.2f} ms per face on this machine, "
            f"over "
            f"--max-latency-ms {max_latency_ms:g}; nothing was registered. Search for faster candidates "
            f"(`python -m search run --max-latency-ms {max_latency_ms:g}`, then `best --pareto`), select without "
            "TTA, or raise --max-latency-ms."
        )
    return latency
