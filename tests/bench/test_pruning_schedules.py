"""bench/pruning_schedules.py end to end on synthetic studies (real Optuna pruners, no training)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pruning_schedules.py"


def _run(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *flags], capture_output=True, text=True, timeout=120)


def test_every_schedule_is_replayed_and_summarised(tmp_path: Path) -> None:
    out = tmp_path / "schedules.json"
    done = _run("--synthetic", "2", "--draws", "3", "--json", str(out))
    assert done.returncode == 0, done.stderr
    (source, rows), = json.loads(out.read_text()).items()
    assert source == "synthetic (2 studies)"
    assert "hyperband, factor 6 (product)" in rows and "hyperband, factor 4" in rows and "successive halving, factor 4" in rows
    for label, row in rows.items():
        assert row["draws"] == 6, label
        assert 0 < row["share_p10"] <= row["share_p90"] < 1 and 0 < row["mean_share"] < 1, label
        assert 0.0 <= row["fraction_meeting"] <= 1.0, label
        assert label in done.stdout


def test_nothing_to_replay_is_refused_with_the_fix() -> None:
    done = _run("--synthetic", "0")
    assert done.returncode == 2
    assert "pass --storage URL or --synthetic N" in done.stderr
