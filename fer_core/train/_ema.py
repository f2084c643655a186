"""`EmaValidation`: validate (and early-stop on) the weights' moving average, train the raw weights.

Keras' optimizers keep the exponential moving average (EMA) of the weights when built with
``use_ema=True`` and copy it into the model only when `fit` ends (`finalize_variable_values`). Without
this callback, every epoch's validation would score the raw weights while the returned model holds the
average. With it, the average is swapped in before each validation and stays in place through the
epoch-end callbacks (so early stopping keeps the best *averaged* weights and the reporter logs their
accuracy), and the raw weights come back before the next epoch trains.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def start_average_at_weights(model: keras.Model) -> None:
    """Start the compiled optimizer's weight average (when it keeps one) at the model's current weights.

    Keras seeds the average only on step 0 and otherwise starts it at zeros: a run resumed with
    ``initial_epoch`` > 0 (its step counter moved on) would average towards zero weights.
    """
    optimizer = model.optimizer
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    if not inner.use_ema:
        return
    variables = model.trainable_variables
    if not optimizer.built:
        optimizer.build(variables)
    for average, variable in zip(inner._model_variables_moving_average, variables, strict=True):
        average.assign(variable)


class EmaValidation(keras.callbacks.Callback):
    """Swaps the optimizer's weight average into the model for validation and the epoch-end callbacks.

    Place it before the callbacks that should see the averaged weights (early stopping, reporter).
    """

    def __init__(self) -> None:
        super().__init__()
        self._raw: list[np.ndarray] | None = None

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._raw is not None:
            return
        variables = self.model.trainable_variables
        self._raw = [keras.ops.convert_to_numpy(variable) for variable in variables]
        self.model.optimizer.finalize_variable_values(variables)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._raw is None:
            return
        for variable, value in zip(self.model.trainable_variables, self._raw, strict=True):
            variable.assign(value)
        self._raw = None
