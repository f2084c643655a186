"""What trials and refits share around a Keras fit: MLflow names of the epoch logs, freeing memory after."""

from __future__ import annotations

import gc

EPOCH_METRICS = {"loss": "train_loss", "accuracy": "train_accuracy", "val_loss": "val_loss",
                 "val_accuracy": "val_accuracy", "learning_rate": "learning_rate"}
"""Keras log key -> MLflow metric name (per epoch, step = epoch number, 1-based)."""


def epoch_metrics(logs: dict[str, float]) -> dict[str, float]:
    """The epoch's Keras logs under their MLflow names (other keys dropped)."""
    return {EPOCH_METRICS[key]: float(value) for key, value in logs.items() if key in EPOCH_METRICS}


def release_memory() -> None:
    """Drops Keras' global graph state and collects garbage, so one process can train model after model."""
    try:
        import keras

        keras.backend.clear_session()
    except Exception:  # noqa: BLE001 - best effort
        pass
    gc.collect()
