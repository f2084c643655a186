"""Benchmark: which pruning schedule meets the pruning targets, replayed offline (no training).

``bench/research/pruning.py`` measures the product's pruner (Optuna's Hyperband, min resource 1, reduction factor 4)
on one seed. This benchmark asks whether another schedule would meet its targets (the pruned study spends
<= 40 % of the unpruned study's epochs, and its best validation accuracy is within 1 point) more reliably.
It replays learning curves through each schedule over many bracket draws (``bench/research/_pruning_replay.py``):

* recorded studies: the unpruned study (``pruning-none``) that ``bench/research/pruning.py`` left in an Optuna
  storage, one ``--storage`` each, or the curves its ``--json`` results file keeps, one ``--results`` each
  (the storage is a temporary directory; the results file is what outlives it);
* data-free studies: ``--synthetic`` sets of synthetic curves (``synthetic_trials``; by-hand ranges, not
  fitted to any recorded curve), so a schedule is not chosen for the quirks of the few recorded studies.

Schedules: Hyperband with reduction factor 3, 4 (the product's), 5, 6 and 8 (with 12 epochs, 3 brackets
for 3 and 2 for the others), Hyperband with factor 4 whose first rung is epoch 2 instead of 1 (a later,
less noisy first decision), and successive halving with reduction factor 4, Hyperband's most aggressive
bracket alone (no hedging). Per source and schedule it prints the mean epoch share and its 10th..90th
percentile over draws, the mean and 90th-percentile accuracy gap (points), and the fraction of draws that
meet both targets.

Each schedule replays under study names derived from its own name (Optuna's Hyperband draws a trial's
bracket from a hash of the study name and trial number), so a row's figures do not depend on which row is
the product's. The product's row (``PRODUCT_SCHEDULE``, marked "(product)") is a factory like the others;
a test checks that it replays exactly like the product's registered pruner, so it fails when the product's
settings change and the row does not.

Usage: ``python bench/research/pruning_schedules.py [--storage URL ...] [--results JSON ...] [--synthetic 10]
[--trials 20] [--epochs 12] [--draws 50] [--seed 0] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _pruning_replay import DrawSummary, RecordedTrial, replay_draws, synthetic_trials  # noqa: E402
from pruning import MAX_ACCURACY_GAP, MAX_EPOCH_SHARE, recorded_trials, recorded_unpruned  # noqa: E402

if TYPE_CHECKING:
    from _pruning_replay import PrunerSpec


PRODUCT_SCHEDULE = "hyperband, factor 4"
"""The row with the settings of the product's registered pruner (``tests/bench`` checks they replay alike)."""


def schedules() -> dict[str, PrunerSpec]:
    """Pruners by name, as factories of the maximum epochs; the name also seeds the row's bracket draws."""
    import optuna

    def hyperband(factor: int, min_epochs: int = 1) -> Callable[[int], optuna.pruners.BasePruner]:
        return lambda max_epochs: optuna.pruners.HyperbandPruner(min_epochs, max_epochs, factor)

    table: dict[str, PrunerSpec] = {f"hyperband, factor {f}": hyperband(f) for f in (3, 4, 5, 6, 8)}
    table["hyperband, factor 4, from epoch 2"] = hyperband(4, min_epochs=2)
    table["successive halving, factor 4"] = lambda max_epochs: optuna.pruners.SuccessiveHalvingPruner(1, 4)
    return table


def label(name: str) -> str:
    """A schedule's name as printed and written, the product's marked."""
    return f"{name} (product)" if name == PRODUCT_SCHEDULE else name


def replay_sets(studies: list[list[RecordedTrial]], pruner: PrunerSpec, args: argparse.Namespace,
                name: str) -> dict:
    """Replays every study of a source over ``--draws`` bracket draws each and pools the draws."""
    shares, gaps = [], []
    for index, trials in enumerate(studies):
        draws = replay_draws(trials, pruner=pruner, max_epochs=args.epochs, n_draws=args.draws,
                             name_prefix=f"{name}-{index}")
        shares += draws.shares
        gaps += draws.gaps
    return DrawSummary(shares, gaps).describe(MAX_EPOCH_SHARE, MAX_ACCURACY_GAP)


def load_results(path: Path) -> dict:
    """The unpruned study's curves and values from a ``bench/research/pruning.py --json`` results file."""
    try:
        unpruned = json.loads(path.read_text())["unpruned"]
        return {"curves": unpruned["curves"], "values": unpruned["values"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SystemExit(f"--results {path}: not a bench/research/pruning.py --json results file ({error!r}); "
                         "pass the file that `python bench/research/pruning.py --json OUT` wrote") from error


def recorded_study(storage: str, epochs: int) -> list[RecordedTrial]:
    """The unpruned study an earlier ``bench/research/pruning.py`` run left in ``storage``.

    Refused unless it ran ``epochs``.
    """
    recorded = recorded_unpruned(storage)
    ran = recorded["settings"]["max_epochs"]
    if ran != epochs:
        raise SystemExit(f"--storage {storage}: that study ran up to {ran} epochs per trial, not "
                         f"--epochs {epochs}; pass --epochs {ran} (each run replays one epoch budget)")
    return recorded_trials(recorded)


def sources(args: argparse.Namespace) -> dict[str, list[list[RecordedTrial]]]:
    """Studies to replay, by source label: each recorded storage, then the synthetic sets pooled."""
    import numpy as np

    found = {url: [recorded_study(url, args.epochs)] for url in args.storage}
    found.update({str(path): [recorded_trials(load_results(path))] for path in args.results})
    if args.synthetic:
        rng = np.random.default_rng(args.seed)
        found[f"synthetic ({args.synthetic} studies)"] = [
            synthetic_trials(rng, n_trials=args.trials, epochs=args.epochs) for _ in range(args.synthetic)]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storage", action="append", default=[], metavar="URL",
                        help="Optuna storage of an earlier bench/research/pruning.py run (its pruning-none study); "
                             "repeatable")
    parser.add_argument("--results", action="append", default=[], type=Path, metavar="JSON",
                        help="results file of an earlier bench/research/pruning.py --json run (its unpruned "
                             "curves); repeatable")
    parser.add_argument("--synthetic", type=int, default=10, help="synthetic studies to replay (0: none)")
    parser.add_argument("--trials", type=int, default=20, help="trials per synthetic study")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--draws", type=int, default=50, help="bracket draws per study")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic studies")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not args.storage and not args.results and not args.synthetic:
        parser.error("nothing to replay: pass --storage URL, --results JSON or --synthetic N (N >= 1)")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    results: dict[str, dict[str, dict]] = {}
    print(f"targets: <= {MAX_EPOCH_SHARE:.0%} of the epochs, gap <= {MAX_ACCURACY_GAP * 100:.0f} point; "
          f"{args.epochs} epochs per trial")
    table = schedules()
    for source, studies in sources(args).items():
        print(f"\n{source}: {len(studies)} x {len(studies[0])} trials, {args.draws} bracket draws each")
        print(f"{'schedule':<34} {'share mean':>10} {'p10..p90':>15} {'gap mean':>9} {'gap p90':>8} {'both met':>9}")
        results[source] = {}
        for name, pruner in table.items():
            row = results[source][label(name)] = replay_sets(studies, pruner, args, name)
            print(f"{label(name):<34} {row['mean_share']:>10.1%} {row['share_p10']:>7.1%}..{row['share_p90']:<6.1%} "
                  f"{row['mean_gap_points']:>+9.2f} {row['gap_p90_points']:>+8.2f} {row['fraction_meeting']:>9.0%}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
