"""Ensembles of refit models: one Keras model averaging its members' probabilities, and choosing its size.

The ensemble is an ordinary functional Keras model (uint8 ``image`` in, 7 probabilities out) whose
members are nested models and whose output is ``keras.layers.Average`` of theirs. It holds only
built-in layers, so it is saved, logged to MLflow and loaded back in Keras safe mode like any single
model, and serves through the same signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import ConfigError

INPUT_NAME = "image"
ENSEMBLE_NAME = "ensemble"


def build_ensemble(members: Sequence[keras.Model]) -> keras.Model:
    """A model whose output is the mean of ``members``' class probabilities.

    The members are renamed ``member_1 .. member_M`` (layer names must be unique in a model) and are
    shared, not copied: training one would change the ensemble.

    Raises:
        ConfigError: Fewer than one member.
    """
    if len(members) < 1:
        raise ConfigError(f"an ensemble needs at least one member model (got {len(members)})")
    image = keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name=INPUT_NAME)
    outputs = []
    for index, member in enumerate(members, start=1):
        member.name = f"member_{index}"
        outputs.append(member(image))
    averaged = keras.layers.Average(name="mean_probabilities")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs=image, outputs=averaged, name=ENSEMBLE_NAME)


@dataclass(frozen=True)
class EnsembleChoice:
    """How many of the ranked models to average, and the validation accuracy of every size tried.

    Args:
        n_members: The chosen size M (the best validation accuracy; ties go to fewer models).
        accuracies: Validation accuracy of the mean of the top-m models, for m = 1 .. len(accuracies).
    """

    n_members: int
    accuracies: tuple[float, ...]

    @property
    def accuracy(self) -> float:
        """Validation accuracy of the chosen size."""
        return self.accuracies[self.n_members - 1]


def choose_ensemble_size(ranked_probabilities: Sequence[np.ndarray], labels: np.ndarray,
                         max_members: int) -> EnsembleChoice:
    """Chooses M in 1..min(len, max_members): average the top-M models' validation probabilities.

    Args:
        ranked_probabilities: (N, 7) validation probabilities per model, best model first.
        labels: The N validation labels.
        max_members: ``--ensemble-max``.

    Raises:
        ConfigError: No models, ``max_members`` < 1, or probabilities that do not match the labels.
    """
    if max_members < 1:
        raise ConfigError(f"--ensemble-max must be >= 1 (got {max_members}); 1 selects a single model")
    if not ranked_probabilities:
        raise ConfigError("choosing an ensemble needs at least one model's validation probabilities")
    labels = np.asarray(labels)
    for probabilities in ranked_probabilities:
        if probabilities.shape != (len(labels), N_CLASSES):
            raise ConfigError(f"validation probabilities must have shape ({len(labels)}, {N_CLASSES}) "
                              f"(got {probabilities.shape})")
    total = np.zeros((len(labels), N_CLASSES), dtype=np.float64)
    accuracies = []
    for m, probabilities in enumerate(ranked_probabilities[:max_members], start=1):
        total += probabilities
        accuracies.append(float(np.mean(np.argmax(total / m, axis=1) == labels)))
    best = max(accuracies)
    return EnsembleChoice(n_members=accuracies.index(best) + 1, accuracies=tuple(accuracies))
