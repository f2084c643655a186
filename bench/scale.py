"""Benchmark: trials per hour with 1, 2 and 4 local workers on smoke-sized trials, and storage waits.

Each configuration runs ``python -m search run --workers W`` on a fresh study in its own working
directory (default SQLite storage, local MLflow store), on the synthetic demo set with the ``smoke``
space, and reports: wall time, trials per hour, the speed-up over one worker, and the share of worker time
spent on the study's shared bookkeeping between trials (the lock, recovering, queuing and claiming a
trial: the ``queue_wait_s`` each trial records) — i.e. waiting on the storage — and, as an upper bound,
the share of worker time spent outside trials at all (start-up, data loading, the final test score, idle
waiting for the last trials). Storage calls inside a trial (per-epoch reports, heartbeats) count as trial
time.

Usage: ``python bench/scale.py [--workers 1 2 4] [--trials 8] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_config(n_workers: int, n_trials: int) -> dict:
    """One study with ``n_workers`` workers; returns its throughput and waiting share."""
    import optuna

    workdir = Path(tempfile.mkdtemp(prefix=f"fer-scale-{n_workers}-"))
    command = [sys.executable, "-m", "search", "run", "--workers", str(n_workers), "--space", "smoke",
               "--study", "scale", "--trials", str(n_trials), "--pruner", "none"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                            env={**os.environ, "FER_SEARCH_CACHE": str(workdir / "cache")})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{n_workers} workers failed:\n{result.stdout}\n{result.stderr}")
    study = optuna.load_study(study_name="scale", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    trials = [t for t in study.trials if t.state.is_finished()]
    waits = sum(float(t.user_attrs.get("queue_wait_s", 0.0)) for t in trials)
    trial_time = sum(t.duration.total_seconds() for t in trials if t.duration)
    return {
        "workers": n_workers, "trials": len(trials), "wall_s": wall, "trials_per_hour": len(trials) / wall * 3600,
        "trial_time_s": trial_time, "storage_wait_s": waits,
        "storage_wait_share": waits / (waits + trial_time) if trial_time else 0.0,
        # Upper bound: every second of worker time not inside a trial (start-up, imports, data loading,
        # the final test score, idle waiting for the last trials) counted as waiting.
        "non_trial_share": 1.0 - trial_time / (wall * n_workers),
        "locked_errors": ("database is locked" in result.stdout + result.stderr),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [run_config(n, args.trials) for n in args.workers]
    base = rows[0]["trials_per_hour"]
    print(f"{os.cpu_count()} CPU cores; {args.trials} smoke trials per configuration (demo data)")
    print(f"{'workers':>7} {'wall':>7} {'trials/h':>9} {'speed-up':>9} {'storage wait':>13} {'outside trials':>15}")
    for row in rows:
        print(f"{row['workers']:>7} {row['wall_s']:>6.0f}s {row['trials_per_hour']:>9.0f} "
              f"{row['trials_per_hour'] / base:>8.2f}x {row['storage_wait_share']:>12.2%} "
              f"{row['non_trial_share']:>14.2%}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if any(row["locked_errors"] for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
