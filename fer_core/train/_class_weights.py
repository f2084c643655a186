"""Class weights as the dense per-class vector the input pipeline turns into sample weights."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from fer_core.emotions import N_CLASSES
from fer_core.errors import ConfigError


def class_weight_vector(class_weight: Mapping[int, float]) -> np.ndarray:
    """Dense float32 vector of length 7 (missing classes weigh 1.0), after checking keys and values."""
    vector = np.ones(N_CLASSES, dtype=np.float32)
    for label, weight in class_weight.items():
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < N_CLASSES:
            raise ConfigError(f"class_weight keys must be class labels 0..{N_CLASSES - 1} (got {label!r})")
        is_number = isinstance(weight, (int, float, np.number)) and not isinstance(weight, bool)
        if not is_number or not math.isfinite(weight) or weight < 0:
            raise ConfigError(f"class_weight[{label}] must be a finite number >= 0 (got {weight!r})")
        vector[int(label)] = float(weight)
    return vector
