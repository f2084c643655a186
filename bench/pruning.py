"""Benchmark: Hyperband pruning vs no pruning over the same budget of trials.

Two studies over the same 20 trials: the unpruned study samples its trials with TPE (seeded); the
pruned study replays the same configurations in the same order (enqueued, same trial numbers, so the
same training seeds) and prunes them with Hyperband. What differs is only what pruning stops, not the
sampler's luck. Targets (exit status 1 when missed): the pruned study spends <= 40 % of the epochs of the
unpruned one, and its best validation accuracy is within 1 point of it.

Usage: ``python bench/pruning.py [--csv PATH] [--space compact] [--trials 20] [--epochs 12]
[--subset 0.05] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study_bench import parse_and_start, study_bench_parser  # noqa: E402

MAX_EPOCH_SHARE = 0.40
MAX_ACCURACY_GAP = 0.01


def run_variant(pruner: str, args: argparse.Namespace, csv: Path, replay: list[dict] | None = None) -> dict:
    """Runs one study in a fresh working directory; returns its epochs, best value, time and trials.

    ``replay``: parameters of the trials to run, in order (enqueued before the study starts).
    """
    import optuna

    from search._runner import run_study
    from search._selection import state_counts
    from search._settings import StudySettings
    from spaces import load_space

    workdir = Path(tempfile.mkdtemp(prefix=f"fer-pruning-{pruner}-"))
    os.chdir(workdir)
    settings = StudySettings(
        study_name=f"pruning-{pruner}", space=args.space, data=str(csv), storage=f"sqlite:///{workdir}/optuna.db",
        split="official", n_trials=args.trials, sampler="tpe", pruner=pruner, max_epochs=args.epochs,
        subset=args.subset, seed=args.seed, keep_top=1,
    )
    if replay:
        study = optuna.create_study(storage=settings.storage, study_name=settings.study_name, direction="maximize")
        for params in replay:
            study.enqueue_trial(params, skip_if_exists=False)
    started = time.perf_counter()
    outcome = run_study(settings, load_space(args.space), progress_stream=sys.stdout)
    elapsed = time.perf_counter() - started
    trials = outcome.study.get_trials(deepcopy=False)
    return {
        "pruner": pruner,
        "epochs": sum(len(t.intermediate_values) for t in trials),
        "best_val_accuracy": outcome.study.best_value,
        "best_trial": outcome.study.best_trial.number,
        "states": state_counts(outcome.study),
        "wall_s": elapsed,
        "store": str(workdir),
        "params": [t.params for t in sorted(trials, key=lambda t: t.number)],
    }


def main() -> int:
    parser = study_bench_parser(__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--subset", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args, csv = parse_and_start(parser)

    unpruned = run_variant("none", args, csv)
    pruned = run_variant("hyperband", args, csv, replay=unpruned["params"])
    share = pruned["epochs"] / unpruned["epochs"]
    gap = unpruned["best_val_accuracy"] - pruned["best_val_accuracy"]
    print(f"\nthe same {args.trials} trials of {args.space}, <= {args.epochs} epochs, {args.subset:.0%} of the "
          f"FER2013 training split, TPE seed {args.seed}:")
    print(f"{'pruner':<10} {'epochs':>7} {'best val acc':>13} {'wall':>8}  states")
    for row in (unpruned, pruned):
        print(f"{row['pruner']:<10} {row['epochs']:>7} {row['best_val_accuracy']:>13.4f} "
              f"{row['wall_s']:>7.0f}s  {row['states']}")
    print(f"epochs spent by the pruned study: {share:.1%} of the unpruned (target <= {MAX_EPOCH_SHARE:.0%})")
    print(f"best validation accuracy gap: {gap * 100:+.2f} points (target <= {MAX_ACCURACY_GAP * 100:.0f})")
    if args.json:
        args.json.write_text(json.dumps({"unpruned": unpruned, "pruned": pruned, "epoch_share": share,
                                         "accuracy_gap": gap}, indent=2))
    return 0 if share <= MAX_EPOCH_SHARE and gap <= MAX_ACCURACY_GAP else 1


if __name__ == "__main__":
    raise SystemExit(main())
