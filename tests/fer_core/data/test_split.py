"""Splits: official and stratified random, determinism, disjointness, fingerprints, weights, table."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.data import DataSplits, FERDataset, LoadReport, Split, balanced_class_weights, split_dataset
from fer_core.emotions import EMOTIONS
from fer_core.errors import ConfigError, DataError

CLASS_SIZES = (53, 9, 40, 101, 67, 31, 48)


def make_dataset(class_sizes=CLASS_SIZES, *, usage=True, seed=0) -> FERDataset:
    """Imbalanced random faces; usage codes in FER2013 order (train rows, then val, then test)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(7), class_sizes)).astype(np.int64)
    n = len(labels)
    codes = np.zeros(n, np.uint8)
    codes[int(0.8 * n) : int(0.9 * n)] = 1
    codes[int(0.9 * n) :] = 2
    return FERDataset(
        images=rng.integers(0, 256, size=(n, 48, 48, 1), dtype=np.uint8),
        labels=labels,
        usage=codes if usage else None,
        source="test data",
        content_hash="0" * 64,
        report=LoadReport(n_rows=n),
    )


def assert_partition(splits: DataSplits, n: int) -> None:
    members = [set(s.indices.tolist()) for s in splits.splits]
    assert all(members), "every split is non-empty"
    assert sum(map(len, members)) == n and set.union(*members) == set(range(n))


def test_official_follows_usage_and_is_the_default():
    ds = make_dataset()
    splits = split_dataset(ds)
    assert splits.method == "official"
    for split, code in zip(splits.splits, (0, 1, 2)):
        np.testing.assert_array_equal(split.indices, np.flatnonzero(ds.usage == code))
        np.testing.assert_array_equal(split.images, ds.images[split.indices])
        np.testing.assert_array_equal(split.labels, ds.labels[split.indices])
        assert split.images.base is not None  # contiguous members: a view, not a copy
    assert_partition(splits, len(ds))


def test_random_is_the_default_without_usage_and_is_stratified():
    ds = make_dataset(usage=False)
    splits = split_dataset(ds, seed=3)
    assert splits.method == "random" and splits.seed == 3
    assert_partition(splits, len(ds))
    counts = ds.class_counts()
    for split, share in zip(splits.splits, (0.8, 0.1, 0.1)):
        assert np.all(np.abs(split.class_counts() - share * counts) <= 1 + 1e-9), split.name
    assert len(splits.validation) == round(0.1 * len(ds)) == len(splits.test)


def test_random_split_is_deterministic_per_seed_and_differs_across_seeds():
    ds = make_dataset()
    a, b = split_dataset(ds, "random", seed=7), split_dataset(ds, "random", seed=7)
    for x, y in zip(a.splits, b.splits):
        np.testing.assert_array_equal(x.indices, y.indices)
        assert x.fingerprint == y.fingerprint
    c = split_dataset(ds, "random", seed=8)
    assert not np.array_equal(a.train.indices, c.train.indices)
    assert a.fingerprint != c.fingerprint


def test_tiny_dataset_still_gets_three_non_empty_splits():
    splits = split_dataset(make_dataset((1, 1, 1, 0, 0, 0, 0), usage=False), seed=0)
    assert [len(s) for s in splits.splits] == [1, 1, 1]
    with pytest.raises(DataError, match=r"has 2 images; a random split needs at least 3"):
        split_dataset(make_dataset((1, 1, 0, 0, 0, 0, 0), usage=False))


def test_official_without_usage_says_to_use_random():
    with pytest.raises(DataError, match=r"no usage information .* use method='random'"):
        split_dataset(make_dataset(usage=False), "official")


def test_official_with_an_empty_split_is_an_error():
    ds = make_dataset()
    no_test = FERDataset(ds.images, ds.labels, np.minimum(ds.usage, 1), ds.source, ds.content_hash, ds.report)
    with pytest.raises(DataError, match=r"no TEST rows, so the official test split would be empty"):
        split_dataset(no_test, "official")


def test_train_and_test_without_validation_carve_a_stratified_validation_from_train():
    """The FER2013 image-folder release has only train/ and test/: selection must not use test."""
    ds = make_dataset()
    usage = np.where(ds.usage == 1, 0, ds.usage).astype(np.uint8)  # validation rows become training rows
    no_validation = FERDataset(ds.images, ds.labels, usage, ds.source, ds.content_hash, ds.report)
    splits = split_dataset(no_validation, seed=3)
    assert_partition(splits, len(ds))
    np.testing.assert_array_equal(splits.test.indices, np.flatnonzero(usage == 2))
    train_rows = np.flatnonzero(usage == 0)
    assert set(splits.validation.indices) <= set(train_rows)
    per_class_train = np.bincount(ds.labels[train_rows], minlength=7)
    assert np.all(np.abs(splits.validation.class_counts() - 0.1 * per_class_train) <= 1)  # stratified
    again = split_dataset(no_validation, seed=3)
    np.testing.assert_array_equal(again.validation.indices, splits.validation.indices)


@pytest.mark.parametrize(("method", "seed", "message"), [
    ("stratified", 0, r"Unknown split method 'stratified'; choose one of: official, random"),
    ("random", -1, r"seed must be a non-negative integer \(got -1\)"),
])
def test_bad_arguments(method, seed, message):
    with pytest.raises(ConfigError, match=message):
        split_dataset(make_dataset(), method, seed=seed)


def test_fingerprints_change_with_data_and_membership():
    ds = make_dataset()
    base = split_dataset(ds)
    assert split_dataset(ds).fingerprint == base.fingerprint
    assert len({s.fingerprint for s in base.splits}) == 3
    changed_images = ds.images.copy()
    changed_images[base.test.indices[0], 0, 0, 0] ^= 1
    other = split_dataset(FERDataset(changed_images, ds.labels, ds.usage, "x", "y", ds.report))
    assert other.train.fingerprint == base.train.fingerprint
    assert other.test.fingerprint != base.test.fingerprint and other.fingerprint != base.fingerprint
    changed_labels = ds.labels.copy()
    changed_labels[base.train.indices[0]] = (changed_labels[base.train.indices[0]] + 1) % 7
    relabelled = split_dataset(FERDataset(ds.images, changed_labels, ds.usage, "x", "y", ds.report))
    assert relabelled.train.fingerprint != base.train.fingerprint


def test_subset_is_stratified_deterministic_and_points_into_the_dataset():
    ds = make_dataset()
    train = split_dataset(ds).train
    subset = train.subset(0.25, seed=1)
    assert len(subset) == round(0.25 * len(train)) and subset.name == "train"
    assert np.all(np.abs(subset.class_counts() - 0.25 * train.class_counts()) <= 1 + 1e-9)
    assert set(subset.indices.tolist()) <= set(train.indices.tolist())
    np.testing.assert_array_equal(subset.images, ds.images[subset.indices])
    np.testing.assert_array_equal(subset.labels, ds.labels[subset.indices])
    assert subset.fingerprint != train.fingerprint
    assert train.subset(0.25, seed=1).fingerprint == subset.fingerprint
    assert train.subset(0.25, seed=2).fingerprint != subset.fingerprint
    assert len(train.subset(17, seed=0)) == 17
    assert train.subset(1.0, seed=0).fingerprint == train.fingerprint


@pytest.mark.parametrize(("size", "message"), [
    (0.0, r"subset fraction must be in \(0, 1\] \(got 0.0\)"),
    (1.5, r"subset fraction must be in \(0, 1\] \(got 1.5\)"),
    (0, r"subset image count must be in 1\.\.\d+ \(the train split's size\), got 0"),
    (10_000, r"subset image count must be in 1\.\.\d+ .* got 10000"),
    (True, r"subset size must be a fraction in \(0, 1\] or an image count \(got True\)"),
    ("half", r"subset size must be a fraction .*\(got 'half'\)"),
])
def test_subset_rejects_bad_sizes(size, message):
    with pytest.raises(ConfigError, match=message):
        split_dataset(make_dataset()).train.subset(size, seed=0)


def test_balanced_class_weights():
    labels = np.array([0, 0, 0, 1, 2, 2])
    weights = balanced_class_weights(labels)
    assert weights == pytest.approx({0: 6 / 21, 1: 6 / 7, 2: 6 / 14, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0})
    balanced = np.repeat(np.arange(7), 5)
    assert balanced_class_weights(balanced) == pytest.approx({c: 1.0 for c in range(7)})
    with pytest.raises(DataError, match=r"empty label array"):
        balanced_class_weights(np.array([], dtype=np.int64))


def test_split_class_weights_come_from_train():
    splits = split_dataset(make_dataset())
    assert splits.class_weights() == balanced_class_weights(splits.train.labels)
    counts = splits.train.class_counts()
    total_weight = sum(w * c for w, c in zip(splits.class_weights().values(), counts))
    assert total_weight == pytest.approx(len(splits.train))


def test_class_count_table():
    splits = split_dataset(make_dataset())
    table = splits.class_count_table()
    assert list(table.index) == [*EMOTIONS, "total"]
    assert list(table.columns) == ["train", "train %", "validation", "validation %", "test", "test %"]
    for split in splits.splits:
        assert table[split.name].tolist() == [*split.class_counts().tolist(), len(split)]
        assert table[f"{split.name} %"].iloc[:-1].sum() == pytest.approx(100.0, abs=0.05)
        assert table.loc["total", f"{split.name} %"] == 100.0
    disgust_share = 100 * splits.train.class_counts()[1] / len(splits.train)
    assert table.loc["disgust", "train %"] == pytest.approx(disgust_share, abs=0.005)


def test_split_validates_itself():
    with pytest.raises(ConfigError, match=r"Split name must be one of train, validation, test \(got 'dev'\)"):
        Split("dev", np.zeros((1, 48, 48, 1), np.uint8), np.zeros(1, np.int64), np.zeros(1, np.int64), "f")
    with pytest.raises(DataError, match=r"they must be equally many"):
        Split("train", np.zeros((2, 48, 48, 1), np.uint8), np.zeros(1, np.int64), np.zeros(1, np.int64), "f")
