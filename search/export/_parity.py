"""Does the exported file predict what the Keras model predicts?

Float exports: the largest absolute difference of any class probability on 1,000 synthetic demo faces
must be at most ``FLOAT_TOLERANCE``. Every export: top-1 agreement with the Keras model and accuracy on the
study's validation split, with the export's own runtime (what a quantized model costs in accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from search.errors import SearchError

FLOAT_TOLERANCE = 1e-4
N_PARITY_FACES = 1000
PARITY_SEED = 24
BATCH_SIZE = 64


class ExportParityError(SearchError):
    """A float export does not predict the Keras model's probabilities within ``FLOAT_TOLERANCE``."""


@dataclass(frozen=True)
class Parity:
    """How closely an export follows its Keras model.

    Args:
        max_abs_diff: Largest probability difference on ``n_faces`` demo faces.
        n_faces: Demo faces compared.
        top1_agreement: Share of validation faces where both pick the same emotion.
        val_accuracy: The export's accuracy on validation (its own runtime).
        keras_val_accuracy: The Keras model's accuracy on the same faces.
        n_validation: Validation faces.
    """

    max_abs_diff: float
    n_faces: int
    top1_agreement: float
    val_accuracy: float
    keras_val_accuracy: float
    n_validation: int


def measure_parity(keras_model: Any, exported: Any, validation_images: np.ndarray,
                   validation_labels: np.ndarray) -> Parity:
    """Compares ``exported`` (anything with ``predict_on_batch``) with ``keras_model``."""
    from fer_core.data import make_demo_dataset
    from fer_core.evaluate import predict_proba

    n_per_class = -(-N_PARITY_FACES // 7)
    faces = make_demo_dataset(n_per_class, seed=PARITY_SEED).images[:N_PARITY_FACES]
    diff = np.abs(predict_proba(exported, faces, batch_size=BATCH_SIZE)
                  - predict_proba(keras_model, faces, batch_size=BATCH_SIZE))
    keras_top1 = predict_proba(keras_model, validation_images, batch_size=BATCH_SIZE).argmax(axis=1)
    export_top1 = predict_proba(exported, validation_images, batch_size=BATCH_SIZE).argmax(axis=1)
    labels = np.asarray(validation_labels)
    return Parity(max_abs_diff=float(diff.max()), n_faces=len(faces),
                  top1_agreement=float(np.mean(keras_top1 == export_top1)),
                  val_accuracy=float(np.mean(export_top1 == labels)),
                  keras_val_accuracy=float(np.mean(keras_top1 == labels)), n_validation=len(labels))


def check_float_parity(parity: Parity, what: str) -> None:
    """Raises ExportParityError when a float export's probabilities drift past ``FLOAT_TOLERANCE``."""
    if parity.max_abs_diff > FLOAT_TOLERANCE:
        raise ExportParityError(
            f"{what} differs from the Keras model by up to {parity.max_abs_diff:.2e} in a class probability on "
            f"{parity.n_faces} demo faces, over the {FLOAT_TOLERANCE:.0e} allowed for a float export; it was not "
            "logged. Check the converter versions (pip install -e \".[export]\") or export another format."
        )
