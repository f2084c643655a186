"""Benchmark: is the synthetic demo set hard enough that model choice matters?

Trains three models on ``make_demo_dataset(n_per_class, seed)`` with its official 80/10/10 split
and prints their validation and test accuracy:

- ``logreg``: logistic regression on standardised raw pixels (scikit-learn, C=0.003);
- ``tiny``: one Conv2D(4, 3x3) + 4x4 max-pool, flatten head, no batch norm (4 k weights);
- ``good``: a small CNN a ``compact``-space candidate could be (3 blocks of 16/32/64 filters,
  batch norm per conv, max-pool, dropout, global average pooling, Dense(64); ~16 M MACs) trained
  with horizontal flips.

Both nets are built, trained and scored with the project's own ``fer_core.model``,
``fer_core.train`` and ``fer_core.evaluate`` (Adam, plateau schedule, early stopping on validation
accuracy with patience 8, best weights restored) at batch size 32. At batch size 64 (35 steps an
epoch) the batch-norm moving variances, initialised at 1 with momentum 0.99, take ~8 epochs to reach
the small real variances: validation accuracy then sits at chance while training accuracy climbs,
and patience 8 can stop the good net at chance (it did in one of three runs at batch 64).

Targets (test accuracy): good >= tiny + 0.15, good <= 0.90 (the task stays hard), logreg < 0.45.
Exit status 1 when one is missed.

Usage:
    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \\
        python bench/demo_difficulty.py [--n-per-class 400] [--seed 0] [--epochs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from fer_core.data import DataSplits, make_demo_dataset, split_dataset  # noqa: E402

MIN_GAP = 0.15
"""The good net must beat the tiny net by at least this much test accuracy."""
MAX_GOOD_ACCURACY = 0.90
"""Above this the demo task would be too easy to tell good candidates apart."""
MAX_LOGREG_ACCURACY = 0.45
"""Raw pixels must separate the classes poorly."""

TINY_NET: dict[str, Any] = {
    "blocks": [{"n_convs": 1, "filters": 4, "pooling": "max", "pool_size": 4}],
    "batch_norm": "none",
    "head": "flatten",
}
GOOD_NET: dict[str, Any] = {
    "blocks": [
        {"n_convs": 1, "filters": 16, "pooling": "max", "dropout": 0.1},
        {"n_convs": 2, "filters": 32, "pooling": "max", "dropout": 0.1},
        {"n_convs": 2, "filters": 64, "pooling": "max", "dropout": 0.2},
    ],
    "batch_norm": "conv",
    "head": "gap",
    "dense": [{"units": 64, "dropout": 0.2}],
}
TRAINING: dict[str, Any] = {
    "optimizer": "adam",
    "learning_rate": 3e-3,
    "batch_size": 32,  # 70 steps an epoch: with 35, BN moving variances lag ~8 epochs (see the docstring)
    "schedule": "plateau",
    "plateau_factor": 0.5,
    "plateau_patience": 3,
    "early_stopping_patience": 8,
}


@dataclass(frozen=True)
class Score:
    """Validation and test accuracy of one model, with its training time."""

    name: str
    val_accuracy: float
    test_accuracy: float
    n_epochs: int
    duration_s: float


def logreg_score(splits: DataSplits) -> Score:
    """Logistic regression on standardised raw pixels: the pixel-level baseline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    train, validation, test = (_flat_pixels(split.images) for split in splits.splits)
    scaler = StandardScaler().fit(train)
    with threadpool_limits(1):  # one BLAS thread is ~30x faster than several fighting over busy cores
        model = LogisticRegression(C=0.003, max_iter=1000).fit(scaler.transform(train), splits.train.labels)
    return Score(
        name="logreg",
        val_accuracy=float(model.score(scaler.transform(validation), splits.validation.labels)),
        test_accuracy=float(model.score(scaler.transform(test), splits.test.labels)),
        n_epochs=0,
        duration_s=time.perf_counter() - started,
    )


def net_score(
    name: str, architecture: Mapping[str, Any], splits: DataSplits, *, epochs: int, flip: bool, seed: int
) -> Score:
    """Build, train (best validation epoch kept) and score one net with the project's own code."""
    from fer_core.evaluate import evaluate
    from fer_core.model import ArchitectureConfig, build_model
    from fer_core.train import AugmentationConfig, TrainConfig, build_augmentation, train

    augmentation = build_augmentation(AugmentationConfig(horizontal_flip=flip), seed=seed)
    model = build_model(ArchitectureConfig.from_dict(architecture), augmentation=augmentation, name=name)
    config = TrainConfig.from_dict({**TRAINING, "epochs": epochs, "seed": seed})
    result = train(
        model, splits.train.images, splits.train.labels,
        validation=(splits.validation.images, splits.validation.labels), config=config, verbose=0,
    )
    return Score(
        name=name,
        val_accuracy=evaluate(result.model, splits.validation.images, splits.validation.labels).accuracy,
        test_accuracy=evaluate(result.model, splits.test.images, splits.test.labels).accuracy,
        n_epochs=result.n_epochs,
        duration_s=result.duration_s,
    )


def missed_targets(scores: Mapping[str, Score]) -> list[str]:
    """The targets the scores miss, each as a sentence with the figures."""
    good, tiny, logreg = scores["good"].test_accuracy, scores["tiny"].test_accuracy, scores["logreg"].test_accuracy
    missed = []
    if good - tiny < MIN_GAP:
        missed.append(f"good - tiny = {good - tiny:+.3f} test accuracy, target >= {MIN_GAP:+.2f}")
    if good > MAX_GOOD_ACCURACY:
        missed.append(f"good = {good:.3f} test accuracy, target <= {MAX_GOOD_ACCURACY:.2f}")
    if logreg >= MAX_LOGREG_ACCURACY:
        missed.append(f"logreg = {logreg:.3f} test accuracy, target < {MAX_LOGREG_ACCURACY:.2f}")
    return missed


def _flat_pixels(images: np.ndarray) -> np.ndarray:
    """(N, 2304) float32 pixels in [0, 1] (small splits only: 2,240 images are 20 MB)."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def _print_table(scores: Mapping[str, Score]) -> None:
    print(f"{'model':<8} {'val_acc':>8} {'test_acc':>9} {'epochs':>7} {'train_s':>8}")
    for score in scores.values():
        print(f"{score.name:<8} {score.val_accuracy:>8.3f} {score.test_accuracy:>9.3f} "
              f"{score.n_epochs:>7d} {score.duration_s:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    """Train the three models, print the table and return 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=400, help="demo images per emotion (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="demo set seed, also the training seed (default 0)")
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs per net (default 30)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1 (got {args.epochs})")

    splits = split_dataset(make_demo_dataset(args.n_per_class, seed=args.seed))
    print(f"demo set n_per_class={args.n_per_class} seed={args.seed}: "
          f"{len(splits.train)} train / {len(splits.validation)} validation / {len(splits.test)} test; "
          f"chance 0.143")
    scores = {"logreg": logreg_score(splits)}
    scores["tiny"] = net_score("tiny", TINY_NET, splits, epochs=args.epochs, flip=False, seed=args.seed)
    scores["good"] = net_score("good", GOOD_NET, splits, epochs=args.epochs, flip=True, seed=args.seed)
    _print_table(scores)
    missed = missed_targets(scores)
    for reason in missed:
        print(f"MISSED: {reason}")
    if not missed:
        print(f"OK: good - tiny = {scores['good'].test_accuracy - scores['tiny'].test_accuracy:+.3f} test accuracy")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
