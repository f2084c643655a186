"""Benchmark: search efficiency of the default engine against its peers at an equal wall-clock budget.

Every method searches the same space on the same FER2013 training subset with the same epoch cap, the
same seed and the same wall-clock budget (``--budget`` seconds: no trial starts after it; the one running
then finishes). Methods: Optuna TPE + Hyperband (the default), Optuna TPE without pruning, Optuna random,
Keras Tuner Hyperband, Keras Tuner random, and Keras Tuner Bayesian (``--with-bayesian``). The whole set
is repeated for each ``--seeds`` value; the spread across seeds is reported.

For each method: trials finished, epochs trained, best validation accuracy (PublicTest), time to reach
95 % of that final best, and the test accuracy (PrivateTest, scored once) of the model it selected.
Exit status 1 when the default's mean best validation accuracy is below the best peer's.

Usage: ``python bench/search_efficiency.py [--csv PATH] [--space compact] [--budget 240] [--epochs 8]
[--subset 0.05] [--seeds 0 1] [--with-bayesian] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study_bench import parse_and_start, study_bench_parser  # noqa: E402

MAX_TRIALS = 10_000
"""Trial count no method reaches inside the budget: the wall clock ends every study."""


@dataclass(frozen=True)
class Method:
    """One way of searching: an engine and its sampler/pruner or tuner."""

    name: str
    engine: str
    sampler: str = "tpe"
    pruner: str = "none"
    tuner: str = "hyperband"


DEFAULT = Method("optuna tpe+hyperband (default)", "optuna", "tpe", "hyperband")
PEERS = (
    Method("optuna tpe, no pruning", "optuna", "tpe", "none"),
    Method("optuna random", "optuna", "random", "none"),
    Method("keras-tuner hyperband", "keras-tuner", tuner="hyperband"),
    Method("keras-tuner random", "keras-tuner", tuner="random"),
)
BAYESIAN = Method("keras-tuner bayesian", "keras-tuner", tuner="bayesian")


def run_method(method: Method, seed: int, args: argparse.Namespace, csv: Path) -> dict:
    """Runs one method's study in a fresh working directory under the wall-clock budget."""
    from search.engines import run_study
    from search.selection import score_selected_model
    from search.study import StudySettings, state_counts
    from spaces import load_space

    workdir = Path(tempfile.mkdtemp(prefix="fer-efficiency-"))
    os.chdir(workdir)
    settings = StudySettings(
        study_name="efficiency", space=args.space, data=str(csv), storage=f"sqlite:///{workdir}/optuna.db",
        split="official", n_trials=MAX_TRIALS, sampler=method.sampler, pruner=method.pruner,
        max_epochs=args.epochs, timeout_s=args.budget, subset=args.subset, seed=seed, keep_top=1,
        engine=method.engine, tuner=method.tuner,
    )
    started = time.time()
    with open(os.devnull, "w") as quiet:
        outcome = run_study(settings, load_space(args.space), progress_stream=quiet)
    wall_s = time.time() - started
    study = outcome.study
    trials = study.get_trials(deepcopy=False)
    score = score_selected_model(study, outcome.data, outcome.tracker, outcome.parent_run_id)
    best = study.best_value
    return {
        "method": method.name, "seed": seed, "wall_s": wall_s,
        "trials": sum(t.state.is_finished() for t in trials),
        "epochs": sum(len(t.intermediate_values) for t in trials),
        "best_val_accuracy": best,
        "time_to_95pct_s": _time_to_reach(trials, 0.95 * best, started),
        "test_accuracy": score.accuracy,
        "states": state_counts(study),
        "store": str(workdir),
    }


def _time_to_reach(trials: list, target: float, started: float) -> float | None:
    """Seconds from the study's start until a completed trial first reached ``target``."""
    reached = [t.datetime_complete.timestamp() - started for t in trials
               if t.value is not None and t.datetime_complete is not None and t.value >= target]
    return min(reached) if reached else None


def summarize(rows: list[dict], methods: list[Method]) -> list[dict]:
    """Mean and spread (min..max) over seeds per method."""
    summary = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method.name]
        best = [r["best_val_accuracy"] for r in mine]
        summary.append({
            "method": method.name,
            "trials": statistics.mean(r["trials"] for r in mine),
            "epochs": statistics.mean(r["epochs"] for r in mine),
            "best_val_mean": statistics.mean(best), "best_val_min": min(best), "best_val_max": max(best),
            "time_to_95pct_s": statistics.mean(r["time_to_95pct_s"] or float("nan") for r in mine),
            "test_mean": statistics.mean(r["test_accuracy"] for r in mine),
        })
    return summary


def print_table(rows: list[dict], summary: list[dict], args: argparse.Namespace) -> None:
    print(f"\n{args.space}, {args.subset:.0%} of the FER2013 training split, <= {args.epochs} epochs per trial, "
          f"{args.budget:g}s per method, seeds {args.seeds}")
    print(f"{'method':<32} {'seed':>4} {'trials':>6} {'epochs':>6} {'best val':>9} {'t95 (s)':>8} {'test':>7}")
    for r in rows:
        t95 = f"{r['time_to_95pct_s']:.0f}" if r["time_to_95pct_s"] is not None else "-"
        print(f"{r['method']:<32} {r['seed']:>4} {r['trials']:>6} {r['epochs']:>6} "
              f"{r['best_val_accuracy']:>9.4f} {t95:>8} {r['test_accuracy']:>7.4f}")
    print(f"\n{'method (mean over seeds)':<32} {'trials':>6} {'epochs':>6} {'best val (min..max)':>26} "
          f"{'t95 (s)':>8} {'test':>7}")
    for s in summary:
        spread = f"{s['best_val_mean']:.4f} ({s['best_val_min']:.4f}..{s['best_val_max']:.4f})"
        print(f"{s['method']:<32} {s['trials']:>6.1f} {s['epochs']:>6.0f} {spread:>26} "
              f"{s['time_to_95pct_s']:>8.0f} {s['test_mean']:>7.4f}")


def main() -> int:
    parser = study_bench_parser(__doc__)
    parser.add_argument("--budget", type=float, default=240.0, help="wall-clock seconds per method and seed")
    parser.add_argument("--epochs", type=int, default=8, help="epoch cap per trial (Hyperband's max)")
    parser.add_argument("--subset", type=float, default=0.05, help="fraction of the training split")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--with-bayesian", action="store_true", help="also run Keras Tuner's Bayesian tuner")
    args, csv = parse_and_start(parser)

    methods = [DEFAULT, *PEERS, *([BAYESIAN] if args.with_bayesian else [])]
    rows = []
    for seed in args.seeds:
        for method in methods:
            rows.append(run_method(method, seed, args, csv))
            print(f"{method.name} seed {seed}: best val {rows[-1]['best_val_accuracy']:.4f}", flush=True)
    summary = summarize(rows, methods)
    print_table(rows, summary, args)
    default_best = summary[0]["best_val_mean"]
    best_peer = max(summary[1:], key=lambda s: s["best_val_mean"])
    verdict = default_best >= best_peer["best_val_mean"]
    print(f"\ndefault {default_best:.4f} vs best peer ({best_peer['method']}) {best_peer['best_val_mean']:.4f}: "
          f"{'at least as good' if verdict else 'WORSE'}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary, "args": {
            k: v for k, v in vars(args).items() if k != "json"}}, indent=2, default=str))
    return 0 if verdict else 1


if __name__ == "__main__":
    raise SystemExit(main())
