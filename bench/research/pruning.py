"""Benchmark: Hyperband pruning vs no pruning over the same budget of trials.

Two studies over the same 20 trials: the unpruned study samples its trials with TPE (seeded); the
pruned study replays the same configurations in the same order (enqueued, same trial numbers, so the
same training seeds) and prunes them with Hyperband. What differs is only what pruning stops, not the
sampler's luck. Each study runs in a fresh process of its own, so nothing of one study's process carries
into the other. Training on the CPU is not bit-reproducible (the same trial can end a few tenths of a point
apart), so the benchmark counts the replayed trials that followed their unpruned curve up to where they
stopped; the offline replay below uses the recorded curves exactly and so measures pruning alone.

Targets (exit status 1 when missed): the pruned study spends <= 40 % of the epochs of the unpruned one,
and its best validation accuracy is within 1 point of it.

A single run is one Hyperband bracket draw (brackets are assigned by a hash of the study name and the
trial number). The recorded unpruned curves are therefore also replayed offline through the same pruner
under ``--draws`` other study names (``bench/research/_pruning_replay.py``): the mean epoch share and accuracy gap
over draws, and how many draws meet both targets.

The default subset is 10 % of the training split (2,871 faces, about 410 per class). Earlier runs on 5 %
(1,435 faces) showed that after an epoch or two on so few faces validation accuracy is mostly noise, which
decides what Hyperband keeps; 30 %, what stage 1 of the CPU recipe trains on, costs about 3 hours here.

Usage: ``python bench/research/pruning.py [--csv PATH] [--space compact] [--trials 20] [--epochs 12]
[--subset 0.1] [--seed 0] [--draws 50] [--signal accuracy] [--json OUT]``;
``python bench/research/pruning.py --replay-only STORAGE [--draws 50] [--signal accuracy] [--first N]`` replays an
earlier run's unpruned study (with its epochs; ``--first``: only its first N trials) without training. The
two halves can run at different times: ``--unpruned-only`` runs the unpruned study (and its replays) and
prints its storage; ``--unpruned-from STORAGE`` runs only the pruned study against it (taking its space,
trials, epochs, subset and seed). Each trial's raw per-epoch validation accuracy and loss are read back
from the study's MLflow store, so the replays can feed the pruner another signal than the one the study
reported (``--signal``, ``SIGNALS``).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

# The research scripts run as files (``python bench/research/pruning.py``): their helpers sit beside them
# and the shared benchmark helpers (``_study_bench``) one folder up.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _pruning_replay import RecordedTrial, replay_draws, replay_pruner  # noqa: E402
from _study_bench import parse_and_start, quiet_start, study_bench_parser  # noqa: E402

MAX_EPOCH_SHARE = 0.40
MAX_ACCURACY_GAP = 0.01
PRUNER = "hyperband"
SIGNALS = ("accuracy", "tiebreak")
"""What the offline replays feed the pruner: ``accuracy``, what ``search run`` reports (the best validation
accuracy so far), or ``tiebreak``, the candidate of ``_pruning_signal`` (ties broken by validation loss)."""


def run_variant(pruner: str, args: argparse.Namespace, csv: Path, replay: list[dict] | None = None) -> dict:
    """Runs one study in a fresh working directory; returns its epochs, best value, time and trials.

    ``replay``: parameters of the trials to run, in order (enqueued before the study starts).
    """
    import optuna

    from search.engines import run_study
    from search.study import StudySettings
    from spaces import load_space

    quiet_start()
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
    return variant_record(outcome.study, pruner=pruner, wall_s=elapsed, store=workdir)


def variant_record(study: optuna.Study, *, pruner: str, wall_s: float, store: Path) -> dict:
    """What the benchmark keeps of a finished study: epochs, best value, time, states, parameters, curves."""
    from search.study import state_counts

    trials = study.get_trials(deepcopy=False)
    return {
        "pruner": pruner,
        "study_name": study.study_name,
        "epochs": sum(len(t.intermediate_values) for t in trials),
        "best_val_accuracy": study.best_value,
        "best_trial": study.best_trial.number,
        "states": state_counts(study),
        "wall_s": wall_s,
        "store": str(store),
        "params": [t.params for t in sorted(trials, key=lambda t: t.number)],
        **trial_records(trials),
        **validation_curves(trials, store),
    }


def validation_curves(trials: list, store: Path) -> dict:
    """Per trial, in number order, its raw per-epoch validation accuracy and loss, from the study's MLflow store.

    From these the replays rebuild any pruner signal, whatever signal the recorded study reported. Empty when
    the store is not beside the study (a study copied without its ``mlruns``).
    """
    from mlflow import MlflowClient

    from search.paths import MLRUNS_DIRNAME, TRACKING_DB_NAME
    from search.study import RUN_ID_ATTR
    from search.tracking import PARENT_TAG

    database = store / MLRUNS_DIRNAME / TRACKING_DB_NAME
    if not database.exists():
        return {}
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    accuracy, loss, n_validation = [], [], None
    for trial in sorted(trials, key=lambda t: t.number):
        run_id = trial.user_attrs.get(RUN_ID_ATTR)
        history = {name: _metric_by_step(client, run_id, name) if run_id else {}
                   for name in ("val_accuracy", "val_loss")}
        steps = sorted(history["val_accuracy"])
        accuracy.append([history["val_accuracy"][step] for step in steps])
        loss.append([history["val_loss"].get(step, math.inf) for step in steps])
        if n_validation is None and run_id:
            parent = client.get_run(client.get_run(run_id).data.tags[PARENT_TAG])
            n_validation = int(parent.data.params["data.n_validation"])
    return {"val_accuracy": accuracy, "val_loss": loss, "n_validation": n_validation}


def _metric_by_step(client: Any, run_id: str, name: str) -> dict[int, float]:
    return {metric.step: metric.value for metric in client.get_metric_history(run_id, name)}


def recorded_unpruned(storage: str, args: argparse.Namespace | None = None) -> dict:
    """The unpruned study an earlier run left in ``storage``, with the settings it ran with (``"settings"``).

    Given ``args``, those settings also replace its study flags (space, trials, epochs, subset, seed). Wall
    time is measured from the first trial's start to the last trial's end (start-up not included).
    """
    import optuna

    try:
        study = optuna.load_study(study_name="pruning-none", storage=storage)
    except KeyError:
        raise SystemExit(f"--unpruned-from {storage}: no study 'pruning-none' there; pass the storage of an "
                         "earlier bench/research/pruning.py run (sqlite:////tmp/fer-pruning-none-XXXX/optuna.db)"
                         ) from None
    settings = study.user_attrs["fer.settings"]
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    if len(finished) < settings["n_trials"]:
        raise SystemExit(f"--unpruned-from {storage}: the unpruned study finished {len(finished)} of its "
                         f"{settings['n_trials']} trials; finish it first (or run the whole benchmark)")
    if args is not None:
        for flag, key in (("space", "space"), ("trials", "n_trials"), ("epochs", "max_epochs"),
                          ("subset", "subset"), ("seed", "seed")):
            setattr(args, flag, settings[key])
    wall_s = (max(t.datetime_complete for t in finished) - min(t.datetime_start for t in finished)).total_seconds()
    return {**variant_record(study, pruner="none", wall_s=wall_s, store=_store_of(storage)), "settings": settings}


def run_in_fresh_process(*variant_args) -> dict:
    """``run_variant`` in a new interpreter (spawned), so no state of an earlier study carries over."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_variant, *variant_args).result()


def unreproduced_trials(unpruned: dict, pruned: dict) -> list[int]:
    """Trials whose pruned-study validation accuracy differs from the unpruned one over the epochs both ran.

    Compares the raw per-epoch accuracies when both studies have them (the two may have reported different
    signals), else the reported curves.
    """
    key = "val_accuracy" if "val_accuracy" in unpruned and "val_accuracy" in pruned else "curves"
    return [number for number, (full, cut) in enumerate(zip(unpruned[key], pruned[key]))
            if len(cut) > len(full) or not all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(full, cut))]


def recorded_trials(variant: dict, signal: str = "accuracy") -> list[RecordedTrial]:
    """The variant's trials as the pruner sees them under ``signal`` (one of ``SIGNALS``).

    Rebuilt from the raw validation curves when the variant has them; a record without them (an older
    ``--json`` file) replays the curves it reported.
    """
    if "val_accuracy" not in variant:
        return [RecordedTrial(curve, value) for curve, value in zip(variant["curves"], variant["values"])]
    return [RecordedTrial(signal_curve(accuracy, loss, variant["n_validation"], signal), value)
            for accuracy, loss, value in zip(variant["val_accuracy"], variant["val_loss"], variant["values"])]


def signal_curve(accuracy: list[float], loss: list[float], n_validation: int, signal: str) -> list[float]:
    """What the pruner is told after each epoch of one trial under ``signal``."""
    from _pruning_signal import PruningSignal

    from search.study import BestSoFar

    if signal not in SIGNALS:
        raise ValueError(f"signal must be one of {', '.join(SIGNALS)} (got {signal!r})")
    if signal == "accuracy":
        best = BestSoFar()
        return [best.update(value) for value in accuracy]
    tiebreak = PruningSignal(n_validation)
    return [tiebreak.update(value, epoch_loss) for value, epoch_loss in zip(accuracy, loss)]


def _store_of(storage: str) -> Path:
    """The benchmark's working directory that holds ``storage`` (``sqlite:///<dir>/optuna.db``)."""
    return Path(storage.removeprefix("sqlite:///")).parent


def trial_records(trials: list) -> dict:
    """Per trial, in number order: its reported curve (one value per epoch) and its final value."""
    trials = sorted(trials, key=lambda t: t.number)
    return {"curves": [[t.intermediate_values[step] for step in sorted(t.intermediate_values)] for t in trials],
            "values": [t.value for t in trials]}


def summarise_draws(recorded: list[RecordedTrial], args: argparse.Namespace) -> dict:
    """Replays ``recorded`` over ``--draws`` bracket draws; prints and returns share, gap and hit rate."""
    draws = replay_draws(recorded, pruner=PRUNER, max_epochs=args.epochs, n_draws=args.draws)
    summary = draws.describe(MAX_EPOCH_SHARE, MAX_ACCURACY_GAP)
    print(f"offline replay ({args.signal} signal) of {len(recorded)} recorded trials over {args.draws} bracket "
          "draws: mean "
          f"{summary['mean_share']:.1%} of the epochs ({summary['share_min']:.1%}..{summary['share_max']:.1%}), "
          f"mean gap {summary['mean_gap_points']:+.2f} points (max {summary['gap_max_points']:+.2f}); both "
          f"targets met in {summary['fraction_meeting']:.0%} of the draws")
    return {"signal": args.signal, "shares": list(draws.shares), "gaps": list(draws.gaps),
            "fraction_meeting": summary["fraction_meeting"]}


def run_unpruned_only(args: argparse.Namespace, csv: Path) -> int:
    """The first half of the benchmark: the unpruned study, its offline replays, and where it is stored."""
    unpruned = run_in_fresh_process("none", args, csv)
    print(f"\nunpruned study: {unpruned['epochs']} epochs, best {unpruned['best_val_accuracy']:.4f} (trial "
          f"#{unpruned['best_trial']}), {unpruned['wall_s'] / 60:.1f} min, {unpruned['states']}; the pruned half: "
          f"python bench/research/pruning.py --unpruned-from sqlite:///{unpruned['store']}/optuna.db")
    write_results({"unpruned": unpruned}, recorded_trials(unpruned, args.signal), args)
    return 0


def first_needs_replay(args: argparse.Namespace) -> str | None:
    """``--first`` only chooses which recorded trials a replay uses; anything else it would silently ignore."""
    if args.first is not None and not args.replay_only:
        return f"--first needs --replay-only (got --first {args.first} without it)"
    return None


def first_trials(recorded: list[RecordedTrial], args: argparse.Namespace) -> list[RecordedTrial]:
    """The first ``--first`` trials of ``recorded`` (all of them without it).

    An unpruned TPE study's first N trials are the ones a study of N trials with the same seed samples (up to
    CPU nondeterminism in the values TPE conditions on), so a longer recorded study also answers for it.
    """
    if args.first is None:
        return recorded
    if not 1 <= args.first <= len(recorded):
        raise SystemExit(f"--first must be between 1 and the recorded study's {len(recorded)} trials "
                         f"(got {args.first}); pass a smaller N or omit --first")
    return recorded[:args.first]


def print_recorded_study(storage: str, args: argparse.Namespace) -> None:
    """One line saying which recorded unpruned study is used, with the settings it was run with."""
    first = f" (replaying its first {args.first})" if args.first is not None else ""
    print(f"unpruned study from {storage}: {args.space}, {args.trials} trials{first}, <= {args.epochs} epochs, "
          f"{args.subset:.0%} of the training split, seed {args.seed}")


def write_results(results: dict, recorded: list[RecordedTrial], args: argparse.Namespace) -> None:
    """Adds the replays over ``--draws`` bracket draws to ``results`` and writes them to ``--json`` if given."""
    if args.draws:
        results["draws"] = summarise_draws(recorded, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def main() -> int:
    parser = study_bench_parser(__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--subset", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=50, help="bracket draws replayed offline (0: none)")
    parser.add_argument("--signal", choices=SIGNALS, default="accuracy",
                        help="what the offline replays tell the pruner: accuracy (what search run reports: the best "
                        "validation accuracy so far) or tiebreak (a candidate, not adopted: ties in that accuracy "
                        "broken by validation loss)")
    halves = parser.add_mutually_exclusive_group()
    halves.add_argument("--replay-only", metavar="STORAGE",
                        help="train nothing: replay the unpruned study of an earlier run (its Optuna storage URL, "
                        "e.g. sqlite:////tmp/fer-pruning-none-XXXX/optuna.db) over --draws bracket draws, with that "
                        "study's epochs")
    halves.add_argument("--unpruned-only", action="store_true",
                        help="run only the unpruned study and replay it over --draws bracket draws; pass its storage "
                        "to --unpruned-from later for the pruned study")
    halves.add_argument("--unpruned-from", metavar="STORAGE",
                        help="run only the pruned study, against the unpruned study of an earlier run (its storage "
                        "URL); that study's space, trials, epochs, subset and seed replace those flags")
    parser.add_argument("--first", type=int, metavar="N",
                        help="with --replay-only: replay only the recorded study's first N trials, the trials a study "
                        "of N trials with the same seed samples (TPE's draws do not depend on --trials, up to CPU "
                        "nondeterminism in the values it conditions on)")
    args, csv = parse_and_start(parser, data_free=lambda flags: bool(flags.replay_only), check=first_needs_replay)
    if args.replay_only:
        unpruned = recorded_unpruned(args.replay_only, args)
        recorded = first_trials(recorded_trials(unpruned, args.signal), args)
        print_recorded_study(args.replay_only, args)
        summarise_draws(recorded, args)
        return 0
    if args.unpruned_only:
        return run_unpruned_only(args, csv)

    if args.unpruned_from:
        unpruned = recorded_unpruned(args.unpruned_from, args)
        print_recorded_study(args.unpruned_from, args)
    else:
        unpruned = run_in_fresh_process("none", args, csv)
    pruned = run_in_fresh_process(PRUNER, args, csv, unpruned["params"])
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

    unreproduced = unreproduced_trials(unpruned, pruned)
    print(f"trials that followed their unpruned curve until they stopped: {args.trials - len(unreproduced)} of "
          f"{args.trials}" + (f" (not: {unreproduced})" if unreproduced else ""))
    recorded = recorded_trials(unpruned, args.signal)
    same_draw = replay_pruner(recorded, pruner=PRUNER, max_epochs=args.epochs, study_name=pruned["study_name"])
    print(f"offline replay of this run's bracket draw: {same_draw.epochs} epochs (measured {pruned['epochs']})")
    results = {"unpruned": unpruned, "pruned": pruned, "epoch_share": share, "accuracy_gap": gap,
               "unreproduced_trials": unreproduced, "same_draw_replay_epochs": same_draw.epochs}
    write_results(results, recorded, args)
    return 0 if share <= MAX_EPOCH_SHARE and gap <= MAX_ACCURACY_GAP else 1


if __name__ == "__main__":
    raise SystemExit(main())
