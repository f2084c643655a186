"""``python -m search refit``: stage 2 — refit the top-K trials fully, select (ensembles, TTA) on validation.

``run --refit-top K`` chains the same refit after stage 1 (``search.cli._run``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from search.cli._exit import EXIT_OK
from search.cli._flags import add_study_flags, open_study
from search.cli._tables import format_refit_summary
from search.defaults import (
    DEFAULT_DISTILL_WEIGHT,
    DEFAULT_ENSEMBLE_MAX,
    DEFAULT_EPOCHS,
    DEFAULT_PATIENCE,
    DEFAULT_TOP,
    DEFAULT_TTA,
)

if TYPE_CHECKING:
    import optuna

    from search.refit import RefitOptions

NAME = "refit"
HELP = "stage 2: refit the top trials fully, select ensembles/TTA on validation"
DESCRIPTION = (
    "Stage 2 of a search: train the study's top-K configurations again with the full recipe (the full "
    "training split, the candidate's optimizer and schedule, up to --epochs with early stopping on "
    "validation, best weights kept), each as its own MLflow run nested under the study's run. Then choose "
    "on validation only, with the same --tta for every model, among the refit models and the averages of "
    "the top M of them (M = 1..--ensemble-max; ties go to fewer models) and, with --distill, one network "
    "trained on the top refits' ensemble, and record the choice on the study: `test` scores it once, "
    "`promote` registers it. Interrupted refits continue from their last finished epoch when the same "
    "command runs again; finished ones are not redone. Checkpoints live in ./mlruns/refit/<study>/trial_<n>/ "
    "(the distilled network's in ./mlruns/refit/<study>/distilled/)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_study_flags(parser)
    parser.add_argument("--top", type=int, metavar="K", default=DEFAULT_TOP, help="refit the K best completed trials")
    parser.add_argument("--epochs", type=int, metavar="N", default=DEFAULT_EPOCHS, help="maximum epochs of each refit")
    parser.add_argument("--patience", type=int, metavar="P", default=DEFAULT_PATIENCE,
                        help="epochs without a validation-accuracy gain before a refit stops")
    parser.add_argument("--tta", default=DEFAULT_TTA, metavar="{none,flip,ten_crop}",
                        help="test-time augmentation for selection and the test score")
    parser.add_argument("--ensemble-max", type=int, metavar="M", default=DEFAULT_ENSEMBLE_MAX,
                        help="largest ensemble (top-M average) tried; 1 = single models only")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="wall-clock budget of stage 2 (refits, selection, the one test score after it): "
                        "each refit not started yet is timed for a few seconds and gets as many epochs (at most "
                        "--epochs) as fit its equal share of the time left; a refit stops after the epoch that "
                        "ends its share")
    add_distill_flags(parser)


def add_distill_flags(parser: argparse.ArgumentParser) -> None:
    """``--distill`` and ``--distill-weight`` (also on ``run``, for ``run --refit-top``)."""
    parser.add_argument("--distill", action="store_true",
                        help="also train one network on the soft predictions of the top --ensemble-max refits' "
                        "ensemble (the best refit's architecture, fine-tuned from its weights, on the training "
                        "split); it competes with the refits and ensembles on validation and serves at the cost "
                        "of one network")
    # None when not given, so that `run` can refuse it without --refit-top
    parser.add_argument("--distill-weight", type=float, metavar="W",
                        help="the teacher's share of each training target, in [0, 1]; the rest is the one-hot "
                        f"label (default: {DEFAULT_DISTILL_WEIGHT})")


def distill_options(args: argparse.Namespace) -> dict[str, Any]:
    """RefitOptions' ``distill`` and ``distill_weight`` from the flags."""
    weight = DEFAULT_DISTILL_WEIGHT if args.distill_weight is None else args.distill_weight
    return {"distill": args.distill, "distill_weight": weight}


def run(args: argparse.Namespace) -> int:
    """Refits, selects, prints the table and the choice; the test split is not touched."""
    from search.refit import RefitOptions
    from search.selection import recorded_test_score

    options = RefitOptions(top=args.top, epochs=args.epochs, patience=args.patience, tta=args.tta,
                           ensemble_max=args.ensemble_max, timeout_s=args.timeout, **distill_options(args))
    study = open_study(args)
    refit_and_print(study, options)
    if recorded_test_score(study) is None:
        print(f"Test once:  python -m search test --study {study.study_name}")
    return EXIT_OK


def refit_and_print(study: optuna.Study, options: RefitOptions) -> None:
    """Runs stage 2 on ``study`` and prints the refit table, the distilled student and the selection."""
    from search.refit import describe_student, refit_study

    outcome = refit_study(study, options)
    print(format_refit_summary(outcome))
    if outcome.student is not None:
        print(describe_student(outcome.student))
