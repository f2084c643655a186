"""Ranking the complete refits on validation under the selection's TTA (probabilities cached per refit).

Every complete refit is scored on the validation split with the same TTA and ranked on that accuracy
(ties: fewer parameters, then the earlier trial). The ranking is what the ensembles (``_choice``) and the
distilled student's teacher (``_distill``) are built from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from search.refit._checkpoint import RefitCheckpoint
from search.refit._job import RefitResult
from search.tracking import load_keras_model

if TYPE_CHECKING:
    from search.study import StudyData


@dataclass(frozen=True)
class RankedModel:
    """A complete refit with its validation accuracy without and with TTA (the ranking uses the latter)."""

    result: RefitResult
    val_accuracy: float
    val_accuracy_tta: float
    probabilities: np.ndarray  # validation, under the selection's TTA


def rank_refits(results: list[RefitResult], data: StudyData, tta: str,
                checkpoint_of: Callable[[int], RefitCheckpoint]) -> list[RankedModel]:
    """Complete refits with validation probabilities under ``tta`` (cached beside each checkpoint)."""
    from fer_core.evaluate import evaluate_predictions

    labels = data.splits.validation.labels
    ranked = []
    for result in results:
        if result.state != "complete" or result.model_uri is None:
            continue
        probabilities = validation_probabilities(checkpoint_of(result.trial), result.model_uri, data, tta)
        accuracy_tta = float(evaluate_predictions(labels, probabilities).accuracy)
        val_accuracy = cast(float, result.val_accuracy)  # a complete refit recorded it
        ranked.append(RankedModel(result, val_accuracy, accuracy_tta, probabilities))
    return sorted(ranked, key=lambda m: (-m.val_accuracy_tta, m.result.n_params or 0, m.result.trial))


def validation_probabilities(checkpoint: RefitCheckpoint, model_uri: str, data: StudyData, tta: str) -> np.ndarray:
    """The model's validation probabilities under ``tta``, cached in ``checkpoint``'s folder."""
    cached = checkpoint.load_probabilities(tta)
    if cached is not None:
        return cached
    from fer_core.evaluate import predict_proba

    probabilities = predict_proba(load_keras_model(model_uri), data.splits.validation.images, tta=tta)
    checkpoint.save_probabilities(tta, probabilities)
    return probabilities
