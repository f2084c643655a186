"""Loads a study's data once (never per trial) and fixes its splits and training subset."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.study._settings import DEMO_DATA
from search.tracking import (
    TEST_CONTEXT,
    TRAINING_CONTEXT,
    VALIDATION_CONTEXT,
    SplitDataset,
    dataset_name,
)

if TYPE_CHECKING:
    import numpy as np

    from fer_core.data import DataSplits, FERDataset, Split

DEMO_IMAGES_PER_CLASS = 400
DEMO_SOURCE = f"fer_core.data.make_demo_dataset({DEMO_IMAGES_PER_CLASS}, seed=0)"
"""What made the demo set (its source as an MLflow dataset)."""
_CONTEXTS = {"train": TRAINING_CONTEXT, "validation": VALIDATION_CONTEXT, "test": TEST_CONTEXT}
_DATA_SUFFIXES = (".csv.gz", ".csv", ".npz")


@dataclass(frozen=True)
class StudyData:
    """The splits a study trains, selects and tests on, and how to prove which data they were.

    Args:
        dataset: The loaded dataset.
        splits: Train / validation / test splits.
        train: The training split each trial uses (a stratified subset when ``--subset`` < 1).
        location: The data as given to ``--data``: a path, or ``"demo"``.
        dedupe: True when validation and test faces that duplicate a training face were dropped (``--dedupe``).
        n_dropped: Faces dropped by ``dedupe`` per split (``validation``, ``test``).
    """

    dataset: FERDataset
    splits: DataSplits
    train: Split
    location: str = DEMO_DATA
    dedupe: bool = False
    n_dropped: Mapping[str, int] = field(default_factory=dict)

    @functools.cached_property
    def _train_hashes(self) -> np.ndarray:
        from fer_core.audit import exact_hashes

        return exact_hashes(self.splits.train.images)

    def clean_mask(self, name: str) -> np.ndarray:
        """Faces of split ``name`` (``validation`` or ``test``) whose pixels equal no training face (exact hash).

        The reference is the whole training split (not only a ``--subset`` of it): a face seen by any trial's
        data pool is not "unseen".
        """
        from fer_core.audit import overlap_with

        split = self.splits.validation if name == "validation" else self.splits.test
        return ~overlap_with(self._train_hashes, split.images)

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

    def split_datasets(self, names: Sequence[str] = ("train", "validation", "test")) -> list[SplitDataset]:
        """The splits ``names`` (``train`` is the one trials use) as MLflow datasets, for a run's inputs.

        A trial's run records ``train`` and ``validation`` (it never sees the test split); the study's run all three.
        """
        from fer_core import EMOTIONS

        by_name = {"train": self.train, "validation": self.splits.validation, "test": self.splits.test}
        generated = self.location == DEMO_DATA
        records = []
        for name in names:
            split = by_name[name]
            counts = {emotion: int(count) for emotion, count in zip(EMOTIONS, split.class_counts())}
            records.append(SplitDataset(
                name=dataset_name(self.data_name, name), fingerprint=split.fingerprint,
                source=DEMO_SOURCE if generated else self.location, context=_CONTEXTS[name], n_rows=len(split),
                profile={"split": self.splits.method, **counts}, generated=generated,
            ))
        return records

    @property
    def data_name(self) -> str:
        """A short name of the data: its file or folder name without extension (``fer2013``), or ``demo``."""
        if self.location == DEMO_DATA:
            return DEMO_DATA
        path = Path(self.location)
        name = path.resolve().name if path.name in ("", ".", "..") else path.name
        for suffix in _DATA_SUFFIXES:
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return name

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
            "dedupe": self.dedupe,
        }


def load_study_data(data: str, *, split: str | None, subset: float, seed: int, dedupe: bool = False) -> StudyData:
    """Loads ``data`` (a path or ``"demo"``), splits it and draws the training subset.

    ``dedupe``: drop the validation and test faces whose pixels equal a training face (exact content hash), so
    that selection and the test score are about unseen faces; the split fingerprints record the smaller splits.
    """
    from fer_core.data import load_dataset, make_demo_dataset, split_dataset

    if data == DEMO_DATA:
        dataset = make_demo_dataset(DEMO_IMAGES_PER_CLASS, seed=0)
    else:
        dataset = load_dataset(data)
    splits = split_dataset(dataset, split, seed=seed)
    dropped: dict[str, int] = {}
    if dedupe:
        splits, dropped = _deduplicated(dataset, splits)
    train = splits.train if subset >= 1.0 else splits.train.subset(subset, seed=seed)
    return StudyData(dataset=dataset, splits=splits, train=train, location=data, dedupe=dedupe, n_dropped=dropped)


def _deduplicated(dataset: FERDataset, splits: DataSplits) -> tuple[DataSplits, dict[str, int]]:
    """``splits`` without the validation and test faces that duplicate a training face; how many were dropped."""
    from fer_core.audit import exact_hashes, overlap_with
    from fer_core.data import DataSplits, Split

    train_hashes = exact_hashes(splits.train.images)
    kept, dropped = {}, {}
    for split in (splits.validation, splits.test):
        seen = overlap_with(train_hashes, split.images)
        dropped[split.name] = int(seen.sum())
        kept[split.name] = Split.of(split.name, dataset.images, dataset.labels, split.indices[~seen])
    return DataSplits(splits.train, kept["validation"], kept["test"], splits.method, splits.seed), dropped
