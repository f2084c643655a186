"""On real FER2013: a small network trained briefly on a 3,000-image subset beats the majority class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

SMALL_NET = {
    "blocks": [
        {"n_convs": 1, "filters": 16, "padding": "same", "pooling": "max"},
        {"n_convs": 1, "filters": 32, "padding": "same", "pooling": "max"},
        {"n_convs": 1, "filters": 64, "padding": "same", "pooling": "max"},
    ],
    "batch_norm": "none",
    "head": "flatten",
    "dense": [{"units": 64, "dropout": 0.3}],
}


def test_small_net_on_a_fer2013_subset_beats_the_majority_class(fer2013_csv: Path, tmp_path: Path) -> None:
    from fer_core.data import load_dataset, split_dataset
    from fer_core.evaluate import evaluate
    from fer_core.model import ArchitectureConfig, build_model
    from fer_core.train import TrainConfig, TrainOutcome, train

    splits = split_dataset(load_dataset(fer2013_csv, cache_dir=tmp_path))
    train_split = splits.train.subset(3000, seed=0)
    validation = splits.validation.subset(1000, seed=0)
    majority_rate = np.bincount(validation.labels).max() / len(validation)

    model = build_model(ArchitectureConfig.from_dict(SMALL_NET))
    config = TrainConfig(epochs=6, batch_size=32, learning_rate=1e-3, schedule="none",
                         early_stopping_patience=None, seed=0)
    result = train(model, train_split.images, train_split.labels,
                   validation=(validation.images, validation.labels), config=config, verbose=0)

    assert result.outcome == TrainOutcome.COMPLETED
    accuracy = evaluate(result.model, validation.images, validation.labels).accuracy
    assert accuracy > majority_rate + 0.05, f"accuracy {accuracy:.3f} vs majority rate {majority_rate:.3f}"
