"""Shared fixtures: the real FER2013 file (skipped when absent) and quiet TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.services_fixtures"]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FER2013 = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def fer2013_path() -> Path | None:
    """The FER2013 CSV used by integration tests: $FER2013_CSV, else ../shared/data/fer2013/."""
    candidate = Path(os.environ.get("FER2013_CSV", DEFAULT_FER2013))
    return candidate if candidate.is_file() else None


@pytest.fixture(scope="session")
def fer2013_csv() -> Path:
    path = fer2013_path()
    if path is None:
        pytest.skip(
            f"FER2013 not found at {DEFAULT_FER2013} (set FER2013_CSV to its path to run this test)"
        )
    return path
