"""End to end: `python -m search run --data <hostile>` fails at once with one line and creates nothing.

The data is loaded and validated before any store, study, run or cache entry exists, so a refused input
leaves the working directory as it was. The FIFO is the case that used to hang (after the study had been
created); the other hostile inputs are tried against the loaders in tests/fer_core/data/test_hostile_inputs.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI_TIMEOUT_S = 180.0
"""A run that takes this long is hanging (importing TensorFlow alone takes a few seconds): the test fails."""


def test_run_with_a_fifo_as_data_fails_with_one_line_and_leaves_nothing(workdir: Path) -> None:
    fifo = workdir / "data.csv"
    os.mkfifo(fifo)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    completed = subprocess.run(
        [sys.executable, "-m", "search", "run", "--data", "data.csv", "--study", "hostile", "--trials", "1"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False,
    )

    assert completed.returncode != 0
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert "data.csv is a FIFO (named pipe), not a regular file" in lines[0]
    assert completed.stdout == ""
    assert sorted(path.name for path in workdir.iterdir()) == ["data.csv"], "a study, store or cache was created"
