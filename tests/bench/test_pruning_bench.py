"""bench/pruning.py: the pruned half against an earlier unpruned study; the signals its replays feed the pruner."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "research"))

from _pruning_replay import RecordedTrial  # noqa: E402
from pruning import first_trials, recorded_trials, recorded_unpruned  # noqa: E402

SETTINGS = {"space": "compact", "n_trials": 2, "max_epochs": 3, "subset": 0.1, "seed": 5}


def _unpruned_study(storage: str, curves: list[list[float]], n_trials: int = 2) -> None:
    study = optuna.create_study(storage=storage, study_name="pruning-none", direction="maximize")
    study.set_user_attr("fer.settings", {**SETTINGS, "n_trials": n_trials})
    for number, curve in enumerate(curves):
        trial = study.ask({"width": optuna.distributions.IntDistribution(8, 16)})
        for epoch, value in enumerate(curve):
            trial.report(value, epoch)
        study.tell(trial, max(curve))
        assert trial.number == number


def _bench_without_data(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    """``bench/pruning.py *flags`` where FER2013 is absent (a replay trains nothing; a bad flag fails first)."""
    bench = Path(__file__).resolve().parents[2] / "bench" / "research" / "pruning.py"
    no_data = {**os.environ, "FER2013_CSV": str(tmp_path / "absent.csv")}
    return subprocess.run([sys.executable, str(bench), *flags], capture_output=True, text=True, timeout=120,
                          env=no_data)


def test_the_recorded_study_gives_its_curves_and_settings(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/optuna.db"
    _unpruned_study(storage, [[0.2, 0.3, 0.35], [0.25, 0.4, 0.38]])
    args = argparse.Namespace(space="vgg", trials=20, epochs=12, subset=0.5, seed=0)

    unpruned = recorded_unpruned(storage, args)

    assert (args.space, args.trials, args.epochs, args.subset, args.seed) == ("compact", 2, 3, 0.1, 5)
    assert unpruned["epochs"] == 6
    assert unpruned["best_val_accuracy"] == 0.4
    assert unpruned["best_trial"] == 1
    assert unpruned["curves"] == [[0.2, 0.3, 0.35], [0.25, 0.4, 0.38]]
    assert [set(p) for p in unpruned["params"]] == [{"width"}, {"width"}]
    assert unpruned["store"] == str(tmp_path)
    assert unpruned["wall_s"] >= 0
    assert recorded_unpruned(storage)["settings"] == SETTINGS  # without flags to replace: the settings alone


def test_an_unfinished_or_missing_study_is_refused_with_the_fix(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/optuna.db"
    _unpruned_study(storage, [[0.2, 0.3]], n_trials=3)
    args = argparse.Namespace(space="compact", trials=20, epochs=12, subset=0.1, seed=0)
    with pytest.raises(SystemExit, match="finished 1 of its 3 trials; finish it first"):
        recorded_unpruned(storage, args)

    other = f"sqlite:///{tmp_path}/other.db"
    with pytest.raises(SystemExit, match="no study 'pruning-none' there"):
        recorded_unpruned(other, args)


def test_replays_rebuild_either_signal_from_the_raw_validation_curves() -> None:
    majority = 895 / 3589
    variant = {"curves": [[0.0]], "values": [0.30, 0.31], "n_validation": 3589,
               "val_accuracy": [[majority, majority, 0.30], [majority, 0.20, 0.31]],
               "val_loss": [[1.9, 1.7, 1.6], [1.8, 1.5, 1.4]]}

    accuracy_only = recorded_trials(variant, "accuracy")
    assert [t.curve for t in accuracy_only] == [[majority, majority, 0.30], [majority, majority, 0.31]]
    assert [t.value for t in accuracy_only] == [0.30, 0.31]

    tiebreak = recorded_trials(variant, "tiebreak")
    assert tiebreak[0].curve[1] > tiebreak[0].curve[0]  # same accuracy, lower loss
    assert tiebreak[1].curve[0] > tiebreak[0].curve[0]  # trial 1 ties trial 0 at epoch 1 with a lower loss
    assert tiebreak[1].curve[1] == tiebreak[1].curve[0]  # a worse epoch changes nothing
    assert all(0 < a - b < 0.5 / 3589 for t, u in zip(accuracy_only, tiebreak) for a, b in zip(t.curve, u.curve))

    older = {"curves": [[0.2, 0.3]], "values": [0.3]}  # a --json file from before the raw curves were kept
    assert [t.curve for t in recorded_trials(older, "tiebreak")] == [[0.2, 0.3]]
    with pytest.raises(ValueError, match="signal must be one of accuracy, tiebreak"):
        recorded_trials(variant, "loss")


def test_replay_only_takes_the_epochs_of_the_recorded_study(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/optuna.db"
    _unpruned_study(storage, [[0.2, 0.3, 0.35], [0.25, 0.4, 0.38]])
    done = _bench_without_data(tmp_path, "--replay-only", storage, "--epochs", "12", "--draws", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"unpruned study from {storage}: compact, 2 trials, <= 3 epochs" in done.stdout
    assert "offline replay (accuracy signal) of 2 recorded trials over 2 bracket draws" in done.stdout


def test_replay_only_can_replay_the_first_trials_alone(tmp_path: Path) -> None:
    """--first N replays the study a seed's first N trials make: its epochs and its best are theirs alone."""
    storage = f"sqlite:///{tmp_path}/optuna.db"
    _unpruned_study(storage, [[0.2, 0.3, 0.35], [0.25, 0.4, 0.45], [0.3, 0.5, 0.6]], n_trials=3)

    first_two = _bench_without_data(tmp_path, "--replay-only", storage, "--draws", "3", "--first", "2")
    assert first_two.returncode == 0, first_two.stderr[-3000:]
    assert "compact, 3 trials (replaying its first 2), <= 3 epochs" in first_two.stdout
    assert "of 2 recorded trials over 3 bracket draws" in first_two.stdout

    too_many = _bench_without_data(tmp_path, "--replay-only", storage, "--draws", "3", "--first", "4")
    assert too_many.returncode != 0
    assert "--first must be between 1 and the recorded study's 3 trials (got 4)" in too_many.stderr
    alone = _bench_without_data(tmp_path, "--first", "2", "--unpruned-only")
    assert alone.returncode == 2 and "--first needs --replay-only" in alone.stderr


def test_first_trials_keeps_the_prefix_in_order() -> None:
    recorded = [RecordedTrial([0.1 * n], 0.1 * n) for n in range(5)]
    assert first_trials(recorded, argparse.Namespace(first=None)) == recorded
    assert first_trials(recorded, argparse.Namespace(first=3)) == recorded[:3]
    with pytest.raises(SystemExit, match="got 0"):
        first_trials(recorded, argparse.Namespace(first=0))


@pytest.mark.slow
def test_the_two_halves_run_apart_and_meet(tmp_path: Path) -> None:
    """--unpruned-only records a study that --unpruned-from later prunes (real training, spawned processes)."""
    import json

    from fer_core.data import make_demo_dataset
    from tests.search.conftest import write_fer_csv

    faces = make_demo_dataset(20, seed=3)
    csv = write_fer_csv(tmp_path / "small.csv", faces.images, faces.labels, faces.usage)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the bench's study folders go here, not in /tmp
    script = Path(__file__).resolve().parents[2] / "bench" / "research" / "pruning.py"
    bench = [sys.executable, str(script), "--csv", str(csv)]
    first = subprocess.run([*bench, "--unpruned-only", "--space", "smoke", "--trials", "3", "--epochs", "2",
                            "--subset", "1", "--seed", "2", "--draws", "2", "--json", str(tmp_path / "a.json")],
                           capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    unpruned = json.loads((tmp_path / "a.json").read_text())["unpruned"]
    assert len(unpruned["curves"]) == 3 and "pruned" not in json.loads((tmp_path / "a.json").read_text())
    # The raw validation curves come back from the MLflow store, and rebuild what the study reported.
    assert [len(c) for c in unpruned["val_accuracy"]] == [len(c) for c in unpruned["curves"]]
    rebuilt = [t.curve for t in recorded_trials(unpruned, "accuracy")]
    assert rebuilt == [pytest.approx(curve) for curve in unpruned["curves"]]
    assert Path(unpruned["store"]).parent == tmp_path
    storage = f"sqlite:///{unpruned['store']}/optuna.db"
    assert f"--unpruned-from {storage}" in first.stdout

    second = subprocess.run([*bench, "--unpruned-from", storage, "--draws", "2", "--json", str(tmp_path / "b.json")],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert second.returncode in (0, 1), second.stderr[-3000:]  # 1: a target missed, which tiny studies may
    both = json.loads((tmp_path / "b.json").read_text())
    assert both["unpruned"]["curves"] == unpruned["curves"]
    assert both["pruned"]["params"] == unpruned["params"]  # the same trials, replayed in order
    assert "smoke, 3 trials, <= 2 epochs, 100% of the training split, seed 2" in second.stdout
