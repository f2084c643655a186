"""Watching a running search's SQLite study from a test without ever writing to it.

Opening the file through Optuna creates its tables when they are missing, which races with the search
process creating them; these helpers open it read-only and treat a missing table as "not yet".
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

from search.paths import STUDY_DB_NAME, mlruns_dir

T = TypeVar("T")

_RUNNING_WITH_EPOCHS = (
    "SELECT t.trial_id, t.number FROM trials t JOIN studies s ON t.study_id = s.study_id "
    "WHERE s.study_name = ? AND t.state = 'RUNNING' AND EXISTS "
    "(SELECT 1 FROM trial_intermediate_values v WHERE v.trial_id = t.trial_id)"
)


def running_trials_with_epochs(study_name: str) -> dict[int, dict[str, object]]:
    """Trial number -> user attributes of the RUNNING trials that reported an epoch ({} when none yet)."""
    database = mlruns_dir() / STUDY_DB_NAME
    if not database.exists():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)) as db:
            running = db.execute(_RUNNING_WITH_EPOCHS, (study_name,)).fetchall()
            return {number: _user_attrs(db, trial_id) for trial_id, number in running}
    except sqlite3.OperationalError:  # tables not created yet, or the file is locked for a write
        return {}


def _user_attrs(db: sqlite3.Connection, trial_id: int) -> dict[str, object]:
    rows = db.execute("SELECT key, value_json FROM trial_user_attributes WHERE trial_id = ?", (trial_id,))
    return {key: json.loads(value) for key, value in rows}


def wait_while_running(process: subprocess.Popen, ready: Callable[[], T], *, what: str, timeout: float = 240) -> T:
    """Polls ``ready()`` until it returns something truthy, and returns that.

    Fails with the process's output if it ends first (it cannot be interrupted any more), or when
    ``timeout`` seconds pass without ``what`` happening.
    """
    def ready_while_running() -> T:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the process ended before {what}: {process.returncode}\n{output}")
        return ready()

    value = poll_until(ready_while_running, timeout=timeout)
    if not value:
        raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
    return value


def poll_until(ready: Callable[[], T], *, timeout: float = 240) -> T | None:
    """Polls ``ready()`` every 50 ms until it returns something truthy, and returns that; None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.05)
    return None
