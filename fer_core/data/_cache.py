"""The dataset cache: one uncompressed ``.npz`` per source content hash, written atomically.

A cache entry holds ``images``, ``labels``, optionally ``usage``, and ``meta`` (a JSON string with
the format version, the source hash and the load report). It is found by the source file's content
hash, so a renamed or copied file still hits and an edited one misses. Unreadable or foreign entries
are treated as absent (and rewritten by the caller).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from fer_core.data._dataset import FERDataset, LoadReport
from fer_core.data._files import open_regular_file
from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import DataError

CACHE_FORMAT_VERSION: int = 1
"""Bump when the parsing rules or the file layout change: older entries are then never read."""

MAX_CACHE_FILE_BYTES: int = 4 << 30
"""Largest cache entry read (FER2013's is 83 MB): a guard against hostile or mistaken files."""

CACHE_PREFIX = "fer-dataset"
_ARRAY_KEYS = frozenset({"images", "labels", "usage", "meta"})
_META_KEYS = frozenset(
    {
        "format_version",
        "content_hash",
        "n_rows",
        "n_skipped",
        "skipped_reasons",
        "skipped_examples",
        "n_converted",
    }
)


def cache_file(cache_dir: Path, content_hash: str) -> Path:
    """Where the entry for a source with this content hash lives."""
    return cache_dir / f"{CACHE_PREFIX}-{content_hash}-v{CACHE_FORMAT_VERSION}.npz"


def read_cache(path: Path, source: str) -> FERDataset | None:
    """The cached dataset at ``path``, or None when it is missing, corrupt or of another format.

    Args:
        path: The entry (see ``cache_file``).
        source: What to report as the dataset's source (the file the caller was asked to load).
    """
    if not path.is_file():
        return None
    try:
        return _read_entry(path, source)
    except DataError:
        return None


def load_cache_file(path: str | PathLike[str]) -> FERDataset:
    """Load a cache entry given directly (``load_dataset("....npz")``).

    Raises:
        DataError: The file is not a readable fer-search cache entry of the current format, is not
            a regular file, or is larger than ``MAX_CACHE_FILE_BYTES``.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise DataError(f"{path} does not exist; check the path of the cached dataset")
    return _read_entry(path, str(path))


def write_cache(path: Path, dataset: FERDataset) -> None:
    """Store ``dataset`` at ``path`` atomically (temp file in the same folder, then ``os.replace``).

    A failure (read-only folder, full disk) only warns: the cache is an optimisation, and no
    partial file is ever left behind.
    """
    arrays: dict[str, Any] = {"images": dataset.images, "labels": dataset.labels, "meta": np.array(_meta_json(dataset))}
    if dataset.usage is not None:
        arrays["usage"] = dataset.usage
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp", delete=False
        ) as handle:
            temporary = handle.name
            np.savez(handle, **arrays)
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        warnings.warn(
            f"could not write the dataset cache {path} ({exc}); loading works without it", stacklevel=3
        )
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _meta_json(dataset: FERDataset) -> str:
    """The entry's metadata: format version, content hash and load report."""
    report = dataset.report
    return json.dumps(
        {
            "format_version": CACHE_FORMAT_VERSION,
            "content_hash": dataset.content_hash,
            "n_rows": report.n_rows,
            "n_skipped": report.n_skipped,
            "skipped_reasons": dict(report.skipped_reasons),
            "skipped_examples": list(report.skipped_examples),
            "n_converted": report.n_converted,
        }
    )


def _read_entry(path: Path, source: str) -> FERDataset:
    """Read and validate an entry; every failure becomes a DataError naming the file and the rule.

    Only a regular file of at most ``MAX_CACHE_FILE_BYTES`` whose members are all stored is read.
    """
    with open_regular_file(path, max_bytes=MAX_CACHE_FILE_BYTES, what="dataset cache (.npz)") as handle:
        _check_members_stored(path, handle)
        return _read_open_entry(path, handle, source)


def _check_members_stored(path: Path, handle: BinaryIO) -> None:
    """Refuse an archive with compressed members: cache entries are stored, so their arrays can never
    take more memory than the file's size (a deflated member could expand without bound)."""
    try:
        with zipfile.ZipFile(handle) as archive:
            compressed = [info.filename for info in archive.infolist() if info.compress_type != zipfile.ZIP_STORED]
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise DataError(f"{path} is not a readable fer-search dataset cache ({exc}); delete it") from None
    if compressed:
        raise DataError(
            f"{path} has compressed member(s) {', '.join(compressed[:3])}; a fer-search dataset cache "
            "stores its arrays uncompressed (np.savez), so their size is bounded by the file's size"
        )
    handle.seek(0)


def _read_open_entry(path: Path, handle: BinaryIO, source: str) -> FERDataset:
    """Read and validate the entry open in ``handle``."""
    try:
        with np.load(handle, allow_pickle=False) as entry:
            keys = set(entry.files)
            if not {"images", "labels", "meta"} <= keys or not keys <= _ARRAY_KEYS:
                raise DataError(
                    f"{path} is not a fer-search dataset cache: expected arrays images, labels, meta "
                    f"[, usage], found {', '.join(sorted(keys)) or 'none'}"
                )
            meta = json.loads(str(entry["meta"]))
            images, labels = entry["images"], entry["labels"]
            usage = entry["usage"] if "usage" in keys else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a readable fer-search dataset cache ({exc}); delete it") from None
    _check_entry(path, meta, images, labels, usage)
    try:
        report = LoadReport(
            n_rows=int(meta["n_rows"]),
            n_skipped=int(meta["n_skipped"]),
            skipped_reasons={str(k): int(v) for k, v in meta["skipped_reasons"].items()},
            skipped_examples=tuple(str(example) for example in meta["skipped_examples"]),
            n_converted=int(meta["n_converted"]),
            from_cache=True,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path} has unreadable metadata ({exc}); delete it") from None
    return FERDataset(
        images=images,
        labels=labels,
        usage=usage,
        source=source,
        content_hash=str(meta["content_hash"]),
        report=report,
    )


def _check_entry(
    path: Path, meta: object, images: np.ndarray, labels: np.ndarray, usage: np.ndarray | None
) -> None:
    """Reject entries of another format version or with arrays of the wrong type or shape."""
    if not isinstance(meta, dict) or set(meta) != _META_KEYS:
        raise DataError(f"{path} has unreadable metadata; delete it (it is rebuilt from the source)")
    if meta["format_version"] != CACHE_FORMAT_VERSION:
        raise DataError(
            f"{path} is cache format version {meta['format_version']}, this fer-search reads version "
            f"{CACHE_FORMAT_VERSION}; delete it (it is rebuilt from the source)"
        )
    n_images = len(images)
    problems = []
    if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE:
        problems.append(f"images must be uint8 (N, 48, 48, 1), got {images.dtype} {images.shape}")
    if labels.dtype != np.int64 or labels.shape != (n_images,):
        problems.append(f"labels must be int64 ({n_images},), got {labels.dtype} {labels.shape}")
    elif n_images and (labels.min() < 0 or labels.max() >= N_CLASSES):
        problems.append(f"labels must lie in 0..{N_CLASSES - 1}")
    if usage is not None and (
        usage.dtype != np.uint8 or usage.shape != (n_images,) or (n_images and usage.max() > 2)
    ):
        problems.append(
            f"usage must be uint8 codes 0..2 of shape ({n_images},), got {usage.dtype} {usage.shape}"
        )
    if problems:
        raise DataError(f"{path} is not a valid dataset cache: {'; '.join(problems)}; delete it")
