"""The audit on the real FER2013 file: the exact-duplicate counts quoted in issue 25."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_fer2013_audit_finds_the_known_duplicates(fer2013_csv: Path) -> None:
    from fer_core.audit import NEAR_THRESHOLD, audit_splits
    from fer_core.data import load_csv, split_dataset

    splits = split_dataset(load_csv(fer2013_csv), "official")
    started = time.perf_counter()
    report = audit_splits({split.name: (split.images, split.labels) for split in splits.splits})
    seconds = time.perf_counter() - started

    assert report.exact["test"]["train"] == 288  # PrivateTest rows whose pixels equal a Training row
    assert report.exact["validation"]["train"] == 280  # PublicTest rows in Training
    assert report.exact["test"]["validation"] == 44  # PrivateTest rows in PublicTest
    assert report.n_conflicting_groups == 57  # groups of identical faces with more than one label
    assert report.n_blank == {"train": 11, "validation": 1, "test": 0}  # pixel std < 3: 12 in all
    assert report.threshold == NEAR_THRESHOLD == 6
    # Near-duplicates beyond the exact ones (DCT pHash <= 6 of 63 bits, or <= 4 after undoing a shift of up to
    # 2 px), measured: 454 validation and 474 test faces.
    assert report.near["validation"]["train"] == 454
    assert report.near["test"]["train"] == 474
    assert seconds < 30
