"""``python -m search refit``: stage 2 — refit the top-K trials fully, select (ensembles, TTA) on validation.

Also what ``run --refit-top K`` chains after stage 1: the run's test score waits until the refit has
selected, then the selection is scored once.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from search.refit import DEFAULT_ENSEMBLE_MAX, DEFAULT_EPOCHS, DEFAULT_PATIENCE, DEFAULT_TOP, DEFAULT_TTA
from search.refit import RefitOptions

if TYPE_CHECKING:
    import optuna

    from search.study import StudySettings

DESCRIPTION = (
    "Stage 2 of a search: train the study's top-K configurations again with the full recipe (the full "
    "training split, the candidate's optimizer and schedule, up to --epochs with early stopping on "
    "validation, best weights kept), each as its own MLflow run nested under the study's run. Then choose "
    "on validation only, with the same --tta for every model, among the refit models and the averages of "
    "the top M of them (M = 1..--ensemble-max; ties go to fewer models), and record the choice on the "
    "study: `test` scores it once, `promote` registers it. Interrupted refits continue from their last "
    "finished epoch when the same command runs again; finished ones are not redone. Checkpoints live in "
    "./mlruns/refit/<study>/trial_<n>/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    parser.description = DESCRIPTION
    parser.add_argument("--study", help="study name (default: the latest study in the storage)")
    parser.add_argument("--storage", help="Optuna storage URL (default: sqlite:///mlruns/optuna.db)")
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


def run(args: argparse.Namespace) -> int:
    """Refits, selects, prints the table and the choice; the test split is not touched."""
    from search.paths import default_study_storage
    from search.study import load_existing_study, open_storage

    options = RefitOptions(top=args.top, epochs=args.epochs, patience=args.patience, tta=args.tta,
                           ensemble_max=args.ensemble_max, timeout_s=args.timeout)
    study = load_existing_study(open_storage(args.storage or default_study_storage()), args.study)
    _refit_and_print(study, options)
    from search.selection import recorded_test_score

    if recorded_test_score(study) is None:
        print(f"Test once:  python -m search test --study {study.study_name}")
    return 0


def run_then_refit(stage1: Callable[[], int], settings: StudySettings, *, refit_top: int,
                   refit_epochs: int | None, refit_timeout: float | None = None) -> int:
    """``run --refit-top``: stage 1 with its test score deferred, then the refit, then the test score once.

    Inside a ``--workers`` worker only stage 1 runs; the parent process refits after all workers end.
    Stage 1 interrupted or unfinished (``--timeout``): no refit, no test score; the same command resumes.
    """
    from search.study import load_existing_study, n_counted, open_storage
    from search.selection import recorded_test_score
    from search.study import worker_label

    # Bad flags fail here, before stage 1; the --refit-timeout clock starts when stage 2 does.
    options = RefitOptions(top=refit_top, epochs=refit_epochs or DEFAULT_EPOCHS, timeout_s=refit_timeout)
    status = stage1()  # its settings defer the test score (defer_test): the refit's selection is scored
    if status != 0 or worker_label():
        return status
    study = load_existing_study(open_storage(settings.storage), settings.study_name)
    if n_counted(study) < settings.n_trials:
        print(f"Stage 1 has {n_counted(study)} of {settings.n_trials} trials: the refit waits until it is complete "
              "(run the same command again).")
        return status
    print()
    _refit_and_print(study, options)
    if recorded_test_score(study) is None:
        _score_once(study)
    return 0


def _refit_and_print(study: optuna.Study, options: RefitOptions) -> None:
    from search.refit import format_refit_summary, refit_study

    outcome = refit_study(study, options)
    print(format_refit_summary(outcome))


def _score_once(study: optuna.Study) -> None:
    from search.study import open_scored_context
    from search.selection import score_selected_model

    study, data, tracker, parent_run_id = open_scored_context(study)
    score = score_selected_model(study, data, tracker, parent_run_id)
    if score is not None:
        print(f"Test accuracy of the {score.describe()}: {score.accuracy:.4f} (macro-F1 {score.macro_f1:.4f}), "
              "scored once.")
