"""Train / validation / test splits: official (FER2013 ``Usage``) or stratified random, fingerprinted.

A fingerprint hashes a split's member indices and its image and label bytes, so it changes when
either the selection or the data changes; a study records it to prove which data it used.
"""

from __future__ import annotations

import hashlib
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fer_core.data._dataset import FERDataset, Usage
from fer_core.emotions import EMOTIONS, N_CLASSES
from fer_core.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
SPLIT_METHODS: tuple[str, ...] = ("official", "random")
RANDOM_FRACTIONS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}
"""Share of each class in each split of a ``random`` split."""

_USAGE_OF_SPLIT = {"train": Usage.TRAIN, "validation": Usage.VALIDATION, "test": Usage.TEST}
_HASH = "sha256"


def balanced_class_weights(labels: np.ndarray) -> dict[int, float]:
    """Keras ``class_weight`` that gives every class the same total weight: n / (7 * count_c).

    Args:
        labels: Integer labels in 0..6.

    Returns:
        A weight for each of the 7 classes; a class absent from ``labels`` gets 0.0 (it never
        occurs in training, so its weight is never used).

    Raises:
        DataError: ``labels`` is empty.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise DataError("cannot compute class weights of an empty label array; check the training split")
    n_per_class = np.bincount(labels.ravel(), minlength=N_CLASSES)
    return {
        label: (labels.size / (N_CLASSES * int(count)) if count else 0.0)
        for label, count in enumerate(n_per_class)
    }


@dataclass(frozen=True, eq=False)
class Split:
    """One split of a dataset: its images, labels and positions in the dataset.

    Args:
        name: ``"train"``, ``"validation"`` or ``"test"``.
        images: uint8 (n, 48, 48, 1) (a view of the dataset when the members are contiguous).
        labels: int64 (n,).
        indices: int64 (n,), increasing positions of the members in the dataset.
        fingerprint: Hex digest of ``indices``, ``labels`` and ``images`` (see ``Split.of``).
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    fingerprint: str

    def __post_init__(self) -> None:
        if self.name not in SPLIT_NAMES:
            raise ConfigError(f"Split name must be one of {', '.join(SPLIT_NAMES)} (got {self.name!r})")
        n = len(self.indices)
        if len(self.images) != n or len(self.labels) != n:
            raise DataError(
                f"split {self.name!r} has {len(self.images)} images, {len(self.labels)} labels and "
                f"{n} indices; they must be equally many"
            )

    @classmethod
    def of(cls, name: str, images: np.ndarray, labels: np.ndarray, indices: np.ndarray) -> Split:
        """The split made of ``indices`` of a dataset's ``images`` and ``labels`` (fingerprinted)."""
        indices = np.asarray(indices, dtype=np.int64)
        members = _contiguous_slice(indices)
        split_images = images[members]
        split_labels = np.ascontiguousarray(labels[members], dtype=np.int64)
        return cls(
            name=name,
            images=split_images,
            labels=split_labels,
            indices=indices,
            fingerprint=_fingerprint(indices, split_labels, split_images),
        )

    def __len__(self) -> int:
        return len(self.indices)

    def class_counts(self) -> np.ndarray:
        """Number of images per class, shape (7,)."""
        return np.bincount(self.labels, minlength=N_CLASSES)

    def subset(self, fraction_or_n: float | int, *, seed: int) -> Split:
        """A stratified random part of this split (same class shares, within one image per class).

        Args:
            fraction_or_n: A float in (0, 1] (share of the split) or an int in 1..len (image count).
            seed: Random seed; the same seed gives the same subset.

        Returns:
            The subset, with the same name, indices into the dataset and its own fingerprint.
        """
        n_wanted = _subset_size(fraction_or_n, len(self), self.name)
        _check_seed(seed)
        rng = np.random.default_rng(seed)
        quotas = _allocate(self.class_counts() * (n_wanted / len(self)), n_wanted, self.class_counts())
        drawn = [_draw(rng, np.flatnonzero(self.labels == label), n) for label, n in enumerate(quotas)]
        chosen = np.sort(np.concatenate(drawn))
        images, labels, indices = self.images[chosen], self.labels[chosen], self.indices[chosen]
        return Split(self.name, images, labels, indices, _fingerprint(indices, labels, images))


@dataclass(frozen=True, eq=False)
class DataSplits:
    """The train, validation and test splits of one dataset.

    Args:
        train: Training split.
        validation: Split used for model selection.
        test: Split scored once, at the end.
        method: ``"official"`` (FER2013 ``Usage``) or ``"random"`` (stratified 80/10/10).
        seed: Seed of the random split (recorded, unused by ``official``).
    """

    train: Split
    validation: Split
    test: Split
    method: str
    seed: int

    def __post_init__(self) -> None:
        if self.method not in SPLIT_METHODS:
            raise ConfigError(f"split method must be one of {', '.join(SPLIT_METHODS)} (got {self.method!r})")
        for expected, split in zip(SPLIT_NAMES, self.splits):
            if split.name != expected:
                raise ConfigError(
                    f"DataSplits.{expected} must be the split named {expected!r}, got {split.name!r}"
                )

    @property
    def splits(self) -> tuple[Split, Split, Split]:
        """(train, validation, test)."""
        return (self.train, self.validation, self.test)

    @property
    def fingerprint(self) -> str:
        """Hex digest of the three splits' fingerprints."""
        return hashlib.new(_HASH, "|".join(split.fingerprint for split in self.splits).encode()).hexdigest()

    def class_weights(self) -> dict[int, float]:
        """Balanced class weights of the training split (see ``balanced_class_weights``)."""
        return balanced_class_weights(self.train.labels)

    def class_count_table(self) -> pd.DataFrame:
        """Images per emotion and split, with each class's share of its split in percent.

        Returns:
            A DataFrame indexed by emotion (plus a ``total`` row) with the columns ``train``,
            ``train %``, ``validation``, ``validation %``, ``test``, ``test %``.
        """
        import pandas as pd  # imported here: loading data must not pay for pandas

        columns: dict[str, list[float]] = {}
        for split in self.splits:
            n_per_class = split.class_counts()
            columns[split.name] = [*n_per_class.tolist(), int(n_per_class.sum())]
            shares = np.round(100.0 * n_per_class / max(len(split), 1), 2)
            columns[f"{split.name} %"] = [*shares.tolist(), 100.0]
        return pd.DataFrame(columns, index=pd.Index([*EMOTIONS, "total"], name="emotion"))


VALIDATION_SHARE_OF_TRAIN = 0.1
"""Share of the training rows that becomes validation when the data has train and test but no validation."""


def split_dataset(dataset: FERDataset, method: str | None = None, *, seed: int = 0) -> DataSplits:
    """Split a dataset into train, validation and test.

    Args:
        dataset: The loaded dataset.
        method: ``"official"`` (the dataset's usage codes: Training / PublicTest / PrivateTest),
            ``"random"`` (stratified 80/10/10), or None: official when the dataset has usage codes,
            random otherwise.
        seed: Seed of the random split.

    Returns:
        Three disjoint, non-empty splits; the same inputs always give the same splits.

    Raises:
        ConfigError: Unknown ``method``.
        DataError: ``official`` on a dataset without usage codes or with an empty split, or too
            few images (or classes) for three non-empty splits.
    """
    _check_seed(seed)
    if method is None:
        method = "official" if dataset.usage is not None else "random"
    if method not in SPLIT_METHODS:
        raise ConfigError(f"Unknown split method {method!r}; choose one of: {', '.join(SPLIT_METHODS)}")
    members = _official_members(dataset, seed) if method == "official" else _random_members(dataset, seed)
    splits = {
        name: Split.of(name, dataset.images, dataset.labels, indices) for name, indices in members.items()
    }
    return DataSplits(**splits, method=method, seed=seed)


def _official_members(dataset: FERDataset, seed: int) -> dict[str, np.ndarray]:
    """Member positions of each split from the dataset's usage codes.

    Data with train and test but no validation rows (e.g. the FER2013 image-folder release, which has
    only train/ and test/ folders) gets a stratified 10 % of its training rows as validation, so that
    selection never looks at the test rows.
    """
    if dataset.usage is None:
        raise DataError(
            f"{dataset.source} has no usage information (no Usage column or split folders), so the "
            "'official' split is impossible; use method='random' (--split random: stratified 80/10/10)"
        )
    members = {name: np.flatnonzero(dataset.usage == code) for name, code in _USAGE_OF_SPLIT.items()}
    if len(members["validation"]) == 0 and len(members["train"]) > 1 and len(members["test"]) > 0:
        members["train"], members["validation"] = _carve_validation(members["train"], dataset.labels, seed)
    for name, indices in members.items():
        if len(indices) == 0:
            raise DataError(
                f"{dataset.source} has no {_USAGE_OF_SPLIT[name].name} rows, so the official {name} split "
                "would be empty; use method='random' (--split random: stratified 80/10/10)"
            )
    return members


def _carve_validation(train: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Moves a stratified ``VALIDATION_SHARE_OF_TRAIN`` of ``train`` into a validation split."""
    rng = np.random.default_rng(seed)
    keep, carved = [], []
    for label in range(N_CLASSES):
        members = rng.permutation(train[labels[train] == label])
        n_validation = int(round(VALIDATION_SHARE_OF_TRAIN * len(members)))
        carved.append(members[:n_validation])
        keep.append(members[n_validation:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(carved))


def _random_members(dataset: FERDataset, seed: int) -> dict[str, np.ndarray]:
    """Stratified 80/10/10 member positions: each class is split in (nearly) those shares."""
    n_images = len(dataset)
    if n_images < len(SPLIT_NAMES):
        raise DataError(
            f"{dataset.source} has {n_images} images; a random split needs at least {len(SPLIT_NAMES)} "
            "(one per split)"
        )
    n_per_class = dataset.class_counts()
    n_test = max(1, round(RANDOM_FRACTIONS["test"] * n_images))
    n_validation = max(1, round(RANDOM_FRACTIONS["validation"] * n_images))
    test_quota = _allocate(n_per_class * RANDOM_FRACTIONS["test"], n_test, n_per_class)
    validation_quota = _allocate(
        n_per_class * RANDOM_FRACTIONS["validation"], n_validation, n_per_class - test_quota
    )
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLIT_NAMES}
    for label in range(N_CLASSES):
        shuffled = rng.permutation(np.flatnonzero(dataset.labels == label))
        n_test_c, n_validation_c = int(test_quota[label]), int(validation_quota[label])
        parts["test"].append(shuffled[:n_test_c])
        parts["validation"].append(shuffled[n_test_c : n_test_c + n_validation_c])
        parts["train"].append(shuffled[n_test_c + n_validation_c :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def _allocate(targets: np.ndarray, total: int, capacity: np.ndarray) -> np.ndarray:
    """Integer counts per class summing to ``total``, each the floor or ceiling of its target.

    Largest-remainder rounding (ties go to the lower class number), never above ``capacity``; when
    the capacities force it (tiny data), the remaining units go to classes with room left.
    """
    allocated = np.minimum(np.floor(targets).astype(np.int64), capacity)
    order = np.argsort(-(targets - np.floor(targets)), kind="stable")
    for label in order:
        if allocated.sum() >= total:
            break
        if allocated[label] < capacity[label]:
            allocated[label] += 1
    for label in np.argsort(-(capacity - allocated), kind="stable"):
        room = min(int(capacity[label] - allocated[label]), total - int(allocated.sum()))
        allocated[label] += max(room, 0)
    return allocated


def _draw(rng: np.random.Generator, candidates: np.ndarray, n: int) -> np.ndarray:
    """``n`` of ``candidates`` drawn without replacement."""
    return rng.choice(candidates, size=int(n), replace=False) if n else candidates[:0]


def _subset_size(fraction_or_n: float | int, n_available: int, name: str) -> int:
    """Number of images a subset request means; validated."""
    if isinstance(fraction_or_n, bool) or not isinstance(fraction_or_n, numbers.Real):
        raise ConfigError(
            f"subset size must be a fraction in (0, 1] or an image count (got {fraction_or_n!r})"
        )
    if isinstance(fraction_or_n, numbers.Integral):
        if not 1 <= fraction_or_n <= n_available:
            raise ConfigError(
                f"subset image count must be in 1..{n_available} (the {name} split's size), "
                f"got {fraction_or_n}"
            )
        return int(fraction_or_n)
    if not 0.0 < fraction_or_n <= 1.0:
        raise ConfigError(f"subset fraction must be in (0, 1] (got {fraction_or_n}); or pass an image count")
    return max(1, round(float(fraction_or_n) * n_available))


def _check_seed(seed: int) -> None:
    """Seeds are non-negative integers (numpy's rule), checked here to name the argument."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer (got {seed!r})")


def _contiguous_slice(indices: np.ndarray) -> slice | np.ndarray:
    """A slice when ``indices`` are consecutive (so the split is a view, not a copy), else the indices."""
    if len(indices) and indices[-1] - indices[0] == len(indices) - 1 and np.all(np.diff(indices) == 1):
        return slice(int(indices[0]), int(indices[-1]) + 1)
    return indices


def _fingerprint(indices: np.ndarray, labels: np.ndarray, images: np.ndarray) -> str:
    """Hex digest of the member indices, labels and image bytes."""
    digest = hashlib.new(_HASH)
    for array in (indices.astype(np.int64, copy=False), labels.astype(np.int64, copy=False), images):
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()
