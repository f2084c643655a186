"""The dataset cache: hit/miss by content, corrupt entries, atomic writes, no partial entries."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from fer_core.data import CACHE_FORMAT_VERSION, default_cache_dir, load_dataset
from fer_core.data._cache import cache_file, read_cache
from fer_core.errors import DataError

N_PIXELS = 48 * 48


def write_csv(path: Path, n_rows: int = 6, seed: int = 0, bad_line: int | None = None) -> Path:
    """A small valid CSV (gzip when the name ends with .gz); optionally one short row at ``bad_line``."""
    rng = np.random.default_rng(seed)
    lines = ["emotion,pixels,Usage"]
    for index in range(n_rows):
        n_values = 10 if index + 2 == bad_line else N_PIXELS
        pixels = " ".join(map(str, rng.integers(0, 256, n_values).tolist()))
        lines.append(f"{index % 7},{pixels},{('Training', 'PublicTest', 'PrivateTest')[index % 3]}")
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def entries(cache_dir: Path) -> list[str]:
    """Every file in the cache folder (temporary files included)."""
    return sorted(p.name for p in cache_dir.iterdir()) if cache_dir.exists() else []


def assert_same_data(a, b) -> None:
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.usage, b.usage)
    assert a.content_hash == b.content_hash


@pytest.mark.parametrize("name", ["faces.csv", "faces.csv.gz"])
def test_miss_then_hit(tmp_path, name):
    source, cache_dir = write_csv(tmp_path / name), tmp_path / "cache"
    first = load_dataset(source, cache_dir=cache_dir)
    assert not first.report.from_cache
    assert entries(cache_dir) == [cache_file(cache_dir, first.content_hash).name]
    assert f"-v{CACHE_FORMAT_VERSION}.npz" in entries(cache_dir)[0]
    second = load_dataset(source, cache_dir=cache_dir)
    assert second.report.from_cache and second.report.n_rows == 6
    assert second.source == str(source)
    assert second.images.dtype == np.uint8 and second.labels.dtype == np.int64
    assert_same_data(first, second)


def test_cache_is_keyed_by_content_not_path(tmp_path):
    cache_dir = tmp_path / "cache"
    original = write_csv(tmp_path / "a.csv")
    load_dataset(original, cache_dir=cache_dir)
    copy = tmp_path / "b.csv"
    shutil.copy(original, copy)
    hit = load_dataset(copy, cache_dir=cache_dir)
    assert hit.report.from_cache and hit.source == str(copy)
    write_csv(original, seed=1)  # same name, new content
    miss = load_dataset(original, cache_dir=cache_dir)
    assert not miss.report.from_cache
    assert len(entries(cache_dir)) == 2


def test_corrupt_entry_is_ignored_and_rewritten(tmp_path):
    source, cache_dir = write_csv(tmp_path / "f.csv"), tmp_path / "cache"
    fresh = load_dataset(source, cache_dir=cache_dir)
    entry = cache_file(cache_dir, fresh.content_hash)
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated zip
    assert read_cache(entry, source="x") is None
    reloaded = load_dataset(source, cache_dir=cache_dir)
    assert not reloaded.report.from_cache
    assert read_cache(entry, source="x") is not None
    assert load_dataset(source, cache_dir=cache_dir).report.from_cache


def test_foreign_npz_is_not_a_cache_entry(tmp_path):
    source, cache_dir = write_csv(tmp_path / "f.csv"), tmp_path / "cache"
    entry = cache_file(cache_dir, load_dataset(source, use_cache=False).content_hash)
    cache_dir.mkdir()
    floats = np.zeros((2, 48, 48, 1), np.float32)
    np.savez(entry, images=floats, labels=np.zeros(2, np.int64), meta=np.array("{}"))
    assert read_cache(entry, source="x") is None
    assert not load_dataset(source, cache_dir=cache_dir).report.from_cache
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(DataError, match=r"not a fer-search dataset cache: expected arrays images, labels"):
        load_dataset(tmp_path / "other.npz")


def test_failed_load_leaves_no_partial_cache(tmp_path):
    source, cache_dir = write_csv(tmp_path / "bad.csv.gz", bad_line=5), tmp_path / "cache"
    with pytest.raises(DataError, match=r"line 5: 10 pixels, expected 2304"):
        load_dataset(source, cache_dir=cache_dir)
    assert entries(cache_dir) == []


def test_entry_made_while_skipping_does_not_hide_bad_rows(tmp_path):
    source, cache_dir = write_csv(tmp_path / "bad.csv", bad_line=3), tmp_path / "cache"
    skipped = load_dataset(source, cache_dir=cache_dir, skip_bad_rows=True)
    assert skipped.report.n_skipped == 1 and len(skipped) == 5
    cached = load_dataset(source, cache_dir=cache_dir, skip_bad_rows=True)
    assert cached.report.from_cache
    assert cached.report.skipped_reasons == {"wrong pixel count": 1}
    assert cached.report.skipped_examples == ("line 3: 10 pixels, expected 2304 (48x48)",)
    with pytest.raises(DataError, match=r"line 3: 10 pixels"):
        load_dataset(source, cache_dir=cache_dir)


def test_use_cache_false_neither_reads_nor_writes(tmp_path):
    source, cache_dir = write_csv(tmp_path / "f.csv"), tmp_path / "cache"
    assert not load_dataset(source, cache_dir=cache_dir, use_cache=False).report.from_cache
    assert entries(cache_dir) == []


def test_unwritable_cache_only_warns(tmp_path):
    source = write_csv(tmp_path / "f.csv")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match=r"could not write the dataset cache"):
        ds = load_dataset(source, cache_dir=blocker / "cache")
    assert len(ds) == 6


def test_cache_entry_loads_directly(tmp_path):
    source, cache_dir = write_csv(tmp_path / "f.csv"), tmp_path / "cache"
    fresh = load_dataset(source, cache_dir=cache_dir)
    entry = cache_file(cache_dir, fresh.content_hash)
    direct = load_dataset(entry)
    assert direct.report.from_cache and direct.source == str(entry)
    assert_same_data(fresh, direct)


def test_default_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_SEARCH_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.setenv("FER_SEARCH_CACHE", "")
    assert default_cache_dir() == tmp_path / "xdg" / "fer-search"
    monkeypatch.delenv("FER_SEARCH_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "fer-search"


def test_default_cache_dir_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_SEARCH_CACHE", str(tmp_path / "cache"))
    load_dataset(write_csv(tmp_path / "f.csv"))
    assert len(entries(tmp_path / "cache")) == 1


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_leaves_no_partial_entry(tmp_path, monkeypatch, error):
    from fer_core.data import _cache

    def half_written(handle, **arrays):
        handle.write(b"PK\x03\x04 partial")
        raise error

    monkeypatch.setattr(_cache.np, "savez", half_written)
    source, cache_dir = write_csv(tmp_path / "f.csv"), tmp_path / "cache"
    if isinstance(error, OSError):
        with pytest.warns(UserWarning, match=r"disk full"):
            load_dataset(source, cache_dir=cache_dir)
    else:
        with pytest.raises(KeyboardInterrupt):
            load_dataset(source, cache_dir=cache_dir)
    assert entries(cache_dir) == []
