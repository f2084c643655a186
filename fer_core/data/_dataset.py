"""The in-memory dataset every loader returns: uint8 images, int labels, optional usage codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES


class Usage(IntEnum):
    """Split codes stored per row (FER2013 `Usage`: Training, PublicTest, PrivateTest)."""

    TRAIN = 0
    VALIDATION = 1
    TEST = 2


@dataclass(frozen=True)
class LoadReport:
    """What a load did: rows read, rows skipped (and why), images converted, cache use.

    Args:
        n_rows: Rows (CSV) or image files (folders) read, skipped ones included.
        n_skipped: Rows or files left out because they broke a rule (only with ``skip_bad_rows``).
        skipped_reasons: Reason -> number of rows skipped for it.
        skipped_examples: The first few skipped rows, e.g. ``"line 12: 2303 pixels, expected 2304"``.
        n_converted: Images that were not already 48x48 grey and were converted.
        from_cache: True when the arrays came from the project's cache.
    """

    n_rows: int
    n_skipped: int = 0
    skipped_reasons: Mapping[str, int] = field(default_factory=dict)
    skipped_examples: tuple[str, ...] = ()
    n_converted: int = 0
    from_cache: bool = False


@dataclass(frozen=True, eq=False)
class FERDataset:
    """A labelled set of 48x48 grey faces held as uint8.

    Args:
        images: uint8 array of shape (N, 48, 48, 1).
        labels: int64 array of shape (N,) with values in 0..6 (see ``fer_core.emotions.EMOTIONS``).
        usage: uint8 array of ``Usage`` codes per row, or None when the source has no split info.
        source: Where the data came from (a path, or a description of the synthetic set).
        content_hash: Hex digest identifying the source content (file bytes or generator settings).
        report: What the load did.
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray | None
    source: str
    content_hash: str
    report: LoadReport

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"images must be uint8 of shape (N, 48, 48, 1), got {self.images.dtype} {self.images.shape}"
            )
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"labels must have shape ({len(self.images)},), got {self.labels.shape}")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= N_CLASSES):
            raise ValueError(f"labels must lie in 0..{N_CLASSES - 1}")
        if self.usage is not None and self.usage.shape != (len(self.images),):
            raise ValueError(f"usage must have shape ({len(self.images)},), got {self.usage.shape}")

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        """Number of images per class, shape (7,)."""
        return np.bincount(self.labels, minlength=N_CLASSES)
