"""Benchmark: what tracking and study bookkeeping cost per trial (target <= 3 % of a trial's wall time).

The same short trials (fixed candidates sampled once from a space, a stratified FER2013 training subset,
the full validation split) run twice in one process, interleaved trial by trial:

- bare: build -> ``fer_core.train.train`` -> validation evaluation, nothing else;
- tracked: the same candidate through the search's ``TrialExecutor`` (Optuna RDB storage, an MLflow run
  per trial with per-epoch metrics, params, the candidate, pruning reports, model logging).

Overhead = (tracked - bare) / tracked wall time, summed over the trials. Exit status 1 if above 3 %.

Usage: ``python bench/overhead.py [--csv PATH] [--space compact] [--n-trials 4] [--epochs 3]
[--train-images 4000]``
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study_bench import CandidateList, parse_and_start, study_bench_parser  # noqa: E402

MAX_OVERHEAD = 0.03


def bare_trial(candidate: dict, data, epochs: int, seed: int) -> float:
    """One trial with no tracking at all; returns its wall time."""
    from fer_core.evaluate import evaluate
    from fer_core.train import train
    from search.study import release_memory, resolve_candidate

    started = time.perf_counter()
    resolved = resolve_candidate(candidate, max_epochs=epochs)
    model = resolved.build_model()
    validation = data.splits.validation
    training = dataclasses.replace(resolved.training, seed=seed)
    result = train(model, data.train.images, data.train.labels, validation=(validation.images, validation.labels),
                   config=training, verbose=0,
                   class_weight=data.train_class_weights() if training.class_weighting else None)
    evaluate(result.model, validation.images, validation.labels)
    release_memory()
    return time.perf_counter() - started


def main() -> int:
    parser = study_bench_parser(__doc__)
    parser.add_argument("--n-trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=4000)
    args, csv = parse_and_start(parser)

    import optuna

    from search.study import StudyProgress, TrialExecutor, load_study_data, make_pruner, make_sampler, open_storage
    from search.tracking import StudyTracker
    from spaces import RandomSuggester, load_space

    space = load_space(args.space)
    candidates = [space.sample(RandomSuggester(seed=i)) for i in range(args.n_trials)]
    data = load_study_data(str(csv), split="official", subset=1.0, seed=0)
    data = dataclasses.replace(data, train=data.splits.train.subset(args.train_images, seed=0))

    workdir = Path(tempfile.mkdtemp(prefix="fer-overhead-"))
    import os

    os.chdir(workdir)
    storage = open_storage(f"sqlite:///{workdir / 'optuna.db'}")
    study = optuna.create_study(storage=storage, study_name="overhead", direction="maximize",
                                sampler=make_sampler("random", 0), pruner=make_pruner("none", args.epochs))
    tracker = StudyTracker("overhead", f"sqlite:///{workdir / 'mlflow.db'}")
    parent, _ = tracker.open_parent_run()
    # Trial 0 of the tracked study is a warm-up: it pays the one-time imports of model logging.
    executor = TrialExecutor(study, CandidateList(args.space, [candidates[0], *candidates]), data, tracker, parent,
                             max_epochs=args.epochs, keep_top=args.n_trials + 1, seed=0,
                             progress=StudyProgress(args.n_trials, stream=open(os.devnull, "w")))  # noqa: SIM115
    # Warm-up: first-time graph building and imports are paid once per process, by neither side.
    bare_warmup = bare_trial(candidates[0], data, args.epochs, seed=0)
    started = time.perf_counter()
    executor.run_one()
    tracked_warmup = time.perf_counter() - started
    print(f"warm-up (once per process): bare {bare_warmup:.2f}s, tracked {tracked_warmup:.2f}s", flush=True)

    rows = []
    for number, candidate in enumerate(candidates):
        bare = bare_trial(candidate, data, args.epochs, seed=number + 1)
        started = time.perf_counter()
        outcome = executor.run_one()
        tracked = time.perf_counter() - started
        rows.append({"trial": number, "bare_s": bare, "tracked_s": tracked, "state": outcome.state.value})
        print(f"trial {number}: bare {bare:6.2f}s  tracked {tracked:6.2f}s  ({outcome.state.value})", flush=True)

    bare_total = sum(r["bare_s"] for r in rows)
    tracked_total = sum(r["tracked_s"] for r in rows)
    overhead = (tracked_total - bare_total) / tracked_total
    print(f"\n{args.n_trials} trials x {args.epochs} epochs on {len(data.train)} train / "
          f"{len(data.splits.validation)} validation images ({args.space}):")
    print(f"  bare total    {bare_total:8.2f} s")
    print(f"  tracked total {tracked_total:8.2f} s")
    print(f"  overhead      {overhead * 100:8.2f} % of a tracked trial's wall time (target <= {MAX_OVERHEAD:.0%})")
    print(f"  one-time start-up of tracking in a process: {tracked_warmup - bare_warmup:.2f} s (not per trial)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "overhead": overhead,
                                         "warmup": {"bare_s": bare_warmup, "tracked_s": tracked_warmup}}, indent=2))
    return 0 if overhead <= MAX_OVERHEAD else 1


if __name__ == "__main__":
    raise SystemExit(main())
