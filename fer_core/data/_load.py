"""``load_dataset``: one entry point for a CSV (cached), an image-folder tree or a cache file."""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from fer_core.data._cache import cache_file, load_cache_file, read_cache, write_cache
from fer_core.data._csv import load_csv
from fer_core.data._dataset import FERDataset
from fer_core.data._folder import load_image_folder
from fer_core.data._stream import file_hash
from fer_core.errors import DataError

CACHE_DIR_VARIABLE = "FER_SEARCH_CACHE"
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz")
CACHE_SUFFIX = ".npz"


def default_cache_dir() -> Path:
    """Where parsed datasets are cached: ``$FER_SEARCH_CACHE``, else ``$XDG_CACHE_HOME/fer-search``,
    else ``~/.cache/fer-search`` (empty variables count as unset)."""
    explicit = os.environ.get(CACHE_DIR_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "fer-search"


def load_dataset(
    path: str | PathLike[str],
    *,
    skip_bad_rows: bool = False,
    cache_dir: str | PathLike[str] | None = None,
    use_cache: bool = True,
) -> FERDataset:
    """Load FER data from a challenge CSV, an image-folder tree or a fer-search cache file.

    A ``.csv`` / ``.csv.gz`` file is parsed once and then cached by its content hash (a changed
    file is parsed again; a corrupt cache entry is ignored and rewritten). Folders are read
    directly, without cache.

    Args:
        path: ``.csv``, ``.csv.gz``, a folder (``<root>/[<split>/]<emotion>/*.png|jpg``) or a
            cache entry ``.npz``.
        skip_bad_rows: Skip bad rows / images (counted in ``report``) instead of raising.
        cache_dir: Cache folder; default ``default_cache_dir()``.
        use_cache: False to neither read nor write the cache.

    Returns:
        The dataset; ``report.from_cache`` tells whether the cache served it.

    Raises:
        DataError: A missing path, an unsupported file type, or bad content (see ``load_csv``,
            ``load_image_folder``).
    """
    path = Path(path)
    if path.is_dir():
        return load_image_folder(path, skip_bad_rows=skip_bad_rows)
    if not path.exists():
        raise DataError(
            f"{path} does not exist; pass a .csv/.csv.gz file, an image folder or a .npz cache file"
        )
    name = path.name.lower()
    if name.endswith(CACHE_SUFFIX):
        return load_cache_file(path)
    if not name.endswith(CSV_SUFFIXES):
        raise DataError(
            f"{path} is not a supported data source; pass one of: a .csv or .csv.gz file "
            "(emotion,pixels[,Usage]), an image folder, a .npz cache file"
        )
    if not use_cache:
        return load_csv(path, skip_bad_rows=skip_bad_rows)
    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return _load_csv_cached(path, skip_bad_rows, cache_root)


def _load_csv_cached(path: Path, skip_bad_rows: bool, cache_dir: Path) -> FERDataset:
    """Serve a CSV from the cache, or parse it and store the result."""
    entry = cache_file(cache_dir, file_hash(path))
    cached = read_cache(entry, source=str(path))
    # An entry made with skip_bad_rows=True hides bad rows: without skipping, parse to raise the error.
    if cached is not None and (skip_bad_rows or cached.report.n_skipped == 0):
        return cached
    dataset = load_csv(path, skip_bad_rows=skip_bad_rows)
    write_cache(cache_file(cache_dir, dataset.content_hash), dataset)
    return dataset
