"""Shared fixtures: the real FER2013 file (skipped when absent), quiet TensorFlow, and (plugins) real
services and the studies built once per session (``tests/fixtures/studies.py``)."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.services_fixtures", "tests.fixtures.studies"]

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


@pytest.fixture(autouse=True)
def _settle_the_heap() -> Iterator[None]:
    """After each test: forget the MLflow stores it opened, collect its garbage, freeze what is left.

    Every trial and refit ends with a full ``gc.collect()`` (``search.study._epochs.release_memory``). In
    one long pytest process that collection walks over everything still alive: the imported libraries
    (about half a million objects) and what the libraries never let go of (TensorFlow keeps each traced
    custom gradient in a global registry; alembic's listeners keep every freshly migrated MLflow database's
    engine; MLflow caches up to 100 stores and every run's artifact location). That grows by tens of
    thousands of objects per trial, so late trials in the suite paid seconds per collection that the same
    test alone does not. Here, after the test's own garbage is collected, the survivors are frozen
    (``gc.freeze``): later collections skip them, as they would in a fresh process. Frozen objects are
    still freed by reference counting; only cyclic garbage among them would be kept (small next to what
    those libraries hold anyway). MLflow's caches are emptied first: a test's store is never used again,
    and the next command just reconnects, as a new ``python -m search`` process would.
    """
    yield
    if "mlflow" in sys.modules:  # not imported by the tests of fer_core and spaces
        from tests.fixtures.stores import forget_cached_stores

        forget_cached_stores()
    gc.collect()
    gc.freeze()
