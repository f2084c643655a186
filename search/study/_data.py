"""Loads a study's data once (never per trial) and fixes its splits and training subset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from search.study._settings import DEMO_DATA

if TYPE_CHECKING:
    from fer_core.data import DataSplits, FERDataset, Split

DEMO_IMAGES_PER_CLASS = 400


@dataclass(frozen=True)
class StudyData:
    """The splits a study trains, selects and tests on, and how to prove which data they were.

    Args:
        dataset: The loaded dataset.
        splits: Train / validation / test splits.
        train: The training split each trial uses (a stratified subset when ``--subset`` < 1).
    """

    dataset: FERDataset
    splits: DataSplits
    train: Split

    @property
    def fingerprints(self) -> dict[str, str]:
        """Data and split fingerprints logged with the study."""
        return {
            "data": self.dataset.content_hash,
            "splits": self.splits.fingerprint,
            "train": self.train.fingerprint,
            "validation": self.splits.validation.fingerprint,
            "test": self.splits.test.fingerprint,
        }

    def train_class_weights(self) -> dict[int, float]:
        """Balanced class weights of the training data trials actually use."""
        from fer_core.data import balanced_class_weights

        return balanced_class_weights(self.train.labels)

    def describe(self) -> dict[str, Any]:
        """Source, split method and sizes, for logs and summaries."""
        return {
            "source": self.dataset.source,
            "split": self.splits.method,
            "n_train": len(self.train),
            "n_validation": len(self.splits.validation),
            "n_test": len(self.splits.test),
        }


def load_study_data(data: str, *, split: str | None, subset: float, seed: int) -> StudyData:
    """Loads ``data`` (a path or ``"demo"``), splits it and draws the training subset."""
    from fer_core.data import load_dataset, make_demo_dataset, split_dataset

    if data == DEMO_DATA:
        dataset = make_demo_dataset(DEMO_IMAGES_PER_CLASS, seed=0)
    else:
        dataset = load_dataset(data)
    splits = split_dataset(dataset, split, seed=seed)
    train = splits.train if subset >= 1.0 else splits.train.subset(subset, seed=seed)
    return StudyData(dataset=dataset, splits=splits, train=train)
