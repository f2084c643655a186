"""Temperature scaling: calibrated class probabilities from a model that outputs softmax probabilities.

A network trained with cross-entropy is usually over-confident: among faces it calls 90 % sure, fewer than
90 % are right. Temperature scaling (Guo et al., 2017, "On Calibration of Modern Neural Networks") divides the
logits by one scalar ``T`` fitted on validation by minimising the negative log-likelihood. Our models (and
their TTA and ensemble wrappers) output probabilities, not logits, so it works on log-probabilities, which are
the logits up to a per-row constant that softmax ignores: ``calibrated = softmax(log p / T)``. ``T > 0`` never
changes the argmax, so accuracy, macro-F1 and the confusion matrix stay exactly the same.

Expected calibration error (ECE) measures what is fixed: faces are put in ``n_bins`` equal-width bins of their
confidence (top probability), and ECE is the mean over faces of ``|accuracy(bin) - mean confidence(bin)|``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import DataError

N_ECE_BINS = 15
"""Equal-width confidence bins of the expected calibration error (the usual choice since Guo et al.)."""
PROBABILITY_FLOOR = 1e-12
"""Probabilities are raised to this before their log, in numpy and in the graph alike (a softmax can underflow
to 0)."""
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 20.0
"""The search range of the fitted temperature (a fit at an edge means the model is degenerate)."""


@dataclass(frozen=True)
class Calibration:
    """A temperature fitted on one labelled set, and what it did to that set.

    Args:
        temperature: ``T``; calibrated probabilities are ``softmax(log p / T)``.
        ece_before: ECE of the model's own probabilities.
        ece_after: ECE of the calibrated probabilities.
        nll_before: Mean negative log-likelihood of the true class before.
        nll_after: The same after (never higher: ``T = 1`` is in the search range).
        n_samples: Faces the temperature was fitted on.
    """

    temperature: float
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    n_samples: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly fields."""
        return asdict(self)


def fit_calibration(probabilities: Any, labels: Any) -> Calibration:
    """Fits the temperature on ``probabilities`` (N, 7) and their integer ``labels`` (N,).

    Raises:
        DataError: Arrays of the wrong shape or type, or probabilities that are not finite.
    """
    log_probs = log_probabilities(probabilities)
    labels = _checked_labels(labels, len(log_probs))
    temperature = fit_temperature(log_probs, labels)
    before = softmax(log_probs)
    after = temperature_scaled(log_probs, temperature)
    return Calibration(
        temperature=temperature,
        ece_before=expected_calibration_error(before, labels),
        ece_after=expected_calibration_error(after, labels),
        nll_before=_nll(log_probs, labels, 1.0),
        nll_after=_nll(log_probs, labels, temperature),
        n_samples=len(labels),
    )


def fit_temperature(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """The ``T`` in [MIN_TEMPERATURE, MAX_TEMPERATURE] minimising the mean NLL of ``softmax(log_probs / T)``.

    A golden-section search on ``log T`` (the loss is smooth and unimodal there: convex in ``1 / T``); ``T = 1``
    wins when it is at least as good, so a calibrated model never fits its set worse than the raw one.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    labels = _checked_labels(labels, len(log_probs))
    log_t = _golden_section(lambda value: _nll(log_probs, labels, float(np.exp(value))),
                            float(np.log(MIN_TEMPERATURE)), float(np.log(MAX_TEMPERATURE)))
    temperature = float(np.exp(log_t))
    return temperature if _nll(log_probs, labels, temperature) < _nll(log_probs, labels, 1.0) else 1.0


def expected_calibration_error(probabilities: Any, labels: Any, n_bins: int = N_ECE_BINS) -> float:
    """ECE with ``n_bins`` equal-width confidence bins ``(k/n, (k+1)/n]`` (confidence = top probability).

    ``sum over bins of |bin| / N * |accuracy(bin) - mean confidence(bin)|``; empty bins count 0.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1 (got {n_bins})")
    probabilities = _checked_probabilities(probabilities)
    labels = _checked_labels(labels, len(probabilities))
    confidence = probabilities.max(axis=1).astype(np.float64)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    # Bin k holds confidences in (k/n, (k+1)/n]; a confidence of exactly 0 cannot occur (rows sum to 1).
    bins = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    error = 0.0
    for index in np.unique(bins):
        members = bins == index
        error += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(error / len(labels))


def log_probabilities(probabilities: Any) -> np.ndarray:
    """``log(max(p, PROBABILITY_FLOOR))`` as float64, the logits temperature scaling divides."""
    probabilities = _checked_probabilities(probabilities)
    return np.log(np.maximum(probabilities.astype(np.float64), PROBABILITY_FLOOR))


def temperature_scaled(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log_probs / temperature)`` row by row."""
    _check_temperature(temperature)
    return softmax(np.asarray(log_probs, dtype=np.float64) / temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large values."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def with_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """A model whose output is ``softmax(log(model(x)) / temperature)``: ``model`` calibrated.

    Built from Keras' own operations and layers (``ops.maximum``, ``ops.log``, ``Rescaling``, ``Softmax``), so
    it saves, logs to MLflow and loads in safe mode like ``model``. ``model`` is shared, not copied; the
    input is the same uint8 faces, the output the same (N, 7) probabilities with the same argmax.

    Raises:
        ValueError: A temperature that is not a positive finite number.
    """
    _check_temperature(temperature)
    image = keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name="image")
    probabilities = model(image)
    floored = keras.ops.maximum(probabilities, PROBABILITY_FLOOR)
    log_probs = keras.ops.log(floored)
    scaled = keras.layers.Rescaling(1.0 / temperature, name="calibration_temperature")(log_probs)
    calibrated = keras.layers.Softmax(name="calibrated_probabilities")(scaled)
    return keras.Model(inputs=image, outputs=calibrated, name=f"{model.name}_calibrated")


def _golden_section(loss: Callable[[float], float], low: float, high: float, tolerance: float = 1e-7) -> float:
    """The minimiser of a unimodal ``loss`` on [low, high], to within ``tolerance``."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    left, right = high - ratio * (high - low), low + ratio * (high - low)
    loss_left, loss_right = loss(left), loss(right)
    while high - low > tolerance:
        if loss_left <= loss_right:
            high, right, loss_right = right, left, loss_left
            left = high - ratio * (high - low)
            loss_left = loss(left)
        else:
            low, left, loss_left = left, right, loss_right
            right = low + ratio * (high - low)
            loss_right = loss(right)
    return (low + high) / 2.0


def _nll(log_probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = log_probs / temperature
    shifted = scaled - scaled.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_norm - shifted[np.arange(len(labels)), labels]))


def _check_temperature(temperature: float) -> None:
    if not (isinstance(temperature, int | float) and np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive finite number (got {temperature!r})")


def _checked_probabilities(probabilities: Any) -> np.ndarray:
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != N_CLASSES or len(probabilities) == 0 \
            or not np.issubdtype(probabilities.dtype, np.floating):
        raise DataError(f"probabilities must be a non-empty float array of shape (N, {N_CLASSES}) "
                        f"(got dtype {probabilities.dtype}, shape {probabilities.shape})")
    if not np.isfinite(probabilities).all():
        raise DataError("probabilities contain NaN or infinite values; the model diverged")
    return probabilities


def _checked_labels(labels: Any, n_samples: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n_samples,) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must be an integer array of shape ({n_samples},), one per probability row "
                        f"(got dtype {labels.dtype}, shape {labels.shape})")
    if n_samples and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DataError(f"labels must lie in 0..{N_CLASSES - 1} (got min {labels.min()}, max {labels.max()})")
    return labels.astype(np.int64, copy=False)
