"""``load_dataset`` dispatch (CSV, gzip CSV, image folder, cache file) and the real FER2013."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fer_core.data as data
from fer_core.data import load_dataset, make_demo_dataset, split_dataset
from fer_core.data._cache import cache_file
from fer_core.errors import DataError

FER2013_TRAIN_CLASS_COUNTS = [3995, 436, 4097, 7215, 4830, 3171, 4965]


def write_csv(path: Path, n_rows: int = 4) -> Path:
    rng = np.random.default_rng(0)
    lines = ["emotion,pixels"] + [
        f"{i % 7}," + " ".join(map(str, rng.integers(0, 256, 2304).tolist())) for i in range(n_rows)
    ]
    data_bytes = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data_bytes) if path.name.endswith(".gz") else data_bytes)
    return path


def test_public_api_is_exported():
    for name in ("FERDataset", "LoadReport", "Usage", "Split", "DataSplits", "load_dataset", "load_csv",
                 "load_image_folder", "make_demo_dataset", "split_dataset", "balanced_class_weights",
                 "default_cache_dir"):
        assert name in data.__all__ and hasattr(data, name)


@pytest.mark.parametrize("name", ["faces.csv", "faces.CSV", "faces.csv.gz"])
def test_csv_files_are_parsed_and_cached(tmp_path, name):
    source = write_csv(tmp_path / name)
    ds = load_dataset(source, cache_dir=tmp_path / "cache")
    assert len(ds) == 4 and ds.usage is None and not ds.report.from_cache
    assert cache_file(tmp_path / "cache", ds.content_hash).is_file()
    assert load_dataset(source, cache_dir=tmp_path / "cache").report.from_cache


def test_cache_file_is_loaded_directly(tmp_path):
    ds = load_dataset(write_csv(tmp_path / "f.csv"), cache_dir=tmp_path / "cache")
    direct = load_dataset(cache_file(tmp_path / "cache", ds.content_hash))
    np.testing.assert_array_equal(direct.images, ds.images)


def test_directories_go_to_the_image_folder_loader(tmp_path):
    root = tmp_path / "faces"
    for split in ("train", "val", "test"):
        for emotion in ("happy", "sad"):
            folder = root / split / emotion
            folder.mkdir(parents=True)
            Image.new("L", (48, 48), color=100).save(folder / "a.png")
    ds = load_dataset(root, cache_dir=tmp_path / "cache")
    assert len(ds) == 6 and sorted(set(ds.labels.tolist())) == [3, 4]
    assert sorted(ds.usage.tolist()) == [0, 0, 1, 1, 2, 2]
    assert not (tmp_path / "cache").exists()  # folders are not cached


@pytest.mark.parametrize(("name", "message"), [
    ("missing.csv", r"missing.csv does not exist; pass a .csv/.csv.gz file, an image folder or a .npz"),
    ("faces.json", r"faces.json is not a supported data source; pass one of: a .csv or .csv.gz file"),
])
def test_unsupported_or_missing_paths(tmp_path, name, message):
    if name.endswith(".json"):
        (tmp_path / name).write_text("{}")
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path / name, cache_dir=tmp_path / "cache")


def test_demo_set_is_deterministic_and_shaped_like_fer():
    a, b = make_demo_dataset(5, seed=1), make_demo_dataset(5, seed=1)
    assert a.images.shape == (35, 48, 48, 1) and a.images.dtype == np.uint8
    assert a.class_counts().tolist() == [5] * 7
    np.testing.assert_array_equal(a.images, b.images)
    assert a.content_hash == b.content_hash != make_demo_dataset(5, seed=2).content_hash
    assert split_dataset(a).method == "official"


@pytest.mark.integration
def test_real_fer2013(fer2013_csv, tmp_path):
    ds = load_dataset(fer2013_csv, cache_dir=tmp_path)
    assert len(ds) == 35_887 and ds.report.n_skipped == 0
    splits = split_dataset(ds)
    assert [len(s) for s in splits.splits] == [28_709, 3_589, 3_589]
    assert splits.train.class_counts().tolist() == FER2013_TRAIN_CLASS_COUNTS
    cached = load_dataset(fer2013_csv, cache_dir=tmp_path)
    assert cached.report.from_cache
    np.testing.assert_array_equal(cached.images, ds.images)
    assert split_dataset(cached).fingerprint == splits.fingerprint
