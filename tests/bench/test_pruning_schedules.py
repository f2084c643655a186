"""bench/pruning_schedules.py end to end on synthetic studies (real Optuna pruners, no training)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "research" / "pruning_schedules.py"


def _run(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *flags], capture_output=True, text=True, timeout=120)


def test_every_schedule_is_replayed_and_summarised(tmp_path: Path) -> None:
    out = tmp_path / "schedules.json"
    done = _run("--synthetic", "2", "--draws", "3", "--json", str(out))
    assert done.returncode == 0, done.stderr
    (source, rows), = json.loads(out.read_text()).items()
    assert source == "synthetic (2 studies)"
    assert {"hyperband, factor 4 (product)", "hyperband, factor 6", "successive halving, factor 4"} <= rows.keys()
    for label, row in rows.items():
        assert row["draws"] == 6, label
        assert 0 < row["share_p10"] <= row["share_p90"] < 1 and 0 < row["mean_share"] < 1, label
        assert 0.0 <= row["fraction_meeting"] <= 1.0, label
        assert label in done.stdout


def test_nothing_to_replay_is_refused_with_the_fix() -> None:
    done = _run("--synthetic", "0")
    assert done.returncode == 2
    assert "pass --storage URL, --results JSON or --synthetic N" in done.stderr


def _results_file(path: Path) -> Path:
    """A ``bench/pruning.py --json`` results file whose unpruned study has 4 trials of 3 epochs."""
    curves = [[0.20, 0.30, 0.35], [0.25, 0.26, 0.27], [0.15, 0.32, 0.40], [0.22, 0.24, 0.25]]
    path.write_text(json.dumps({"unpruned": {"curves": curves, "values": [c[-1] for c in curves]}, "pruned": {}}))
    return path


def test_a_results_file_is_replayed_like_a_storage(tmp_path: Path) -> None:
    results, out = _results_file(tmp_path / "seed.json"), tmp_path / "schedules.json"
    done = _run("--results", str(results), "--synthetic", "0", "--epochs", "3", "--draws", "2", "--json", str(out))
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())[str(results)]
    assert rows["hyperband, factor 4 (product)"]["draws"] == 2
    assert all(0 < row["mean_share"] <= 1 for row in rows.values())


def test_a_file_that_is_not_a_results_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"best": 0.4}))
    done = _run("--results", str(bad), "--synthetic", "0")
    assert done.returncode == 1
    assert f"--results {bad}: not a bench/research/pruning.py --json results file" in done.stderr
    assert "python bench/research/pruning.py --json OUT" in done.stderr


def test_a_recorded_study_with_other_epochs_is_refused_with_the_fix(tmp_path: Path) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path}/optuna.db"
    study = optuna.create_study(storage=storage, study_name="pruning-none", direction="maximize")
    study.set_user_attr("fer.settings", {"space": "compact", "n_trials": 1, "max_epochs": 3, "subset": 0.1, "seed": 0})
    trial = study.ask()
    for epoch, value in enumerate([0.2, 0.3, 0.35], start=1):
        trial.report(value, epoch)
    study.tell(trial, 0.35)

    done = _run("--storage", storage, "--synthetic", "0", "--epochs", "12", "--draws", "2")
    assert done.returncode == 1
    assert f"--storage {storage}: that study ran up to 3 epochs per trial, not --epochs 12" in done.stderr
    assert "pass --epochs 3" in done.stderr
    assert _run("--storage", storage, "--synthetic", "0", "--epochs", "3", "--draws", "2").returncode == 0
