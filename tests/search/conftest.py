"""Fixtures for the search tests: an isolated working directory, and a copy of the shared stage-1 study in it.

Where a test lives: ``tests/search/<package>/`` holds the tests of ``search/<package>/`` (cli, engines,
refit, report, selection, study, tracking), whether they call the package or drive it through a command
(``search.main([...])`` or ``python -m search``): a test goes with the package whose behaviour it checks.
``tests/search/test_*.py`` at the top hold the tests of the top-level modules (``search/signals.py``, ...)
and the end-to-end tests that cross every package (``test_end_to_end.py``, ``test_legacy_store.py``).
Helpers shared by several folders (``_polling.py``, ``_interrupt.py``) stay here; studies built once per
session and the store-copying helper are in ``tests/fixtures/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.data import write_fer_csv  # noqa: F401 - imported from here by tests/bench
from tests.fixtures.studies import BuiltStudy, without_tracking_uri


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory, so ./mlruns is private to the test."""
    monkeypatch.chdir(tmp_path)
    without_tracking_uri(monkeypatch)
    monkeypatch.setenv("FER_SEARCH_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def workdir_with_store(workdir: Path, empty_store: BuiltStudy) -> Path:
    """``workdir`` whose ./mlruns already holds an empty MLflow tracking database (``empty_store``, copied).

    For tests about what a command does with a store, not about creating one: a new MLflow database costs
    1-3 s of CPU to create and migrate (and alembic keeps its engine alive for the rest of the process).
    Creating the store is left to the end-to-end tests, the worker processes and the session's studies.
    """
    empty_store.copy_to(workdir)
    return workdir


@pytest.fixture
def stage1(workdir: Path, stage1_study: BuiltStudy) -> str:
    """A private copy of the session's stage-1 study (``stage1_study``) in ``workdir``; its name."""
    return stage1_study.copy_to(workdir)
