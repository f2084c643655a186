"""``python -m search run``: run or resume a study (stage 1), on ``--workers`` processes, then ``--refit-top``.

``--refit-top K`` chains stage 2 after stage 1: the run's test score waits until the refit has selected,
then the selection is scored once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from search.cli._exit import EXIT_INTERRUPTED, EXIT_OK
from search.cli._flags import add_data_flags, add_storage_flag
from search.cli._refit import add_distill_flags, distill_options, refit_and_print
from search.defaults import DEFAULT_EPOCHS, DEFAULT_RETRY_S, ENGINES, PRUNER_NAMES, SAMPLER_NAMES, TUNERS
from search.errors import UsageError

if TYPE_CHECKING:
    import optuna

    from search.study import StudySettings

NAME = "run"
HELP = "run or resume a search"
DESCRIPTION = ("Run a study until it has --trials finished trials (complete, pruned or failed); re-running the same "
               "command resumes it.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    parser.add_argument("--trials", type=int, default=20, help="finished trials the study must end with")
    parser.add_argument("--space", default="compact", help="shipped space name (see `spaces`) or YAML path")
    add_data_flags(parser)
    parser.add_argument("--study", help="study name (default: <space>-<data>, so a re-run resumes it)")
    add_storage_flag(parser)
    parser.add_argument("--engine", choices=ENGINES, default="optuna",
                        help="who proposes the trials: Optuna's sampler and pruner, or a Keras Tuner oracle (the "
                        "study, MLflow runs, selection, test score and promotion are the same)")
    parser.add_argument("--tuner", choices=TUNERS,
                        help="Keras Tuner oracle, with --engine keras-tuner only (default: hyperband; "
                        "--epochs is its max_epochs)")
    parser.add_argument("--sampler", choices=sorted(SAMPLER_NAMES),
                        help="Optuna sampler, seeded (default: tpe; not with --engine keras-tuner)")
    parser.add_argument("--pruner", choices=sorted(PRUNER_NAMES),
                        help="pruner of bad trials (default: hyperband; not with --engine keras-tuner)")
    parser.add_argument("--epochs", type=int, help="maximum epochs per trial (default: the space's value)")
    parser.add_argument("--timeout", type=float, help="seconds after which no new trial is started")
    parser.add_argument("--subset", type=float, default=1.0, help="fraction of the training split per trial")
    parser.add_argument("--seed", type=int, default=0, help="seeds the sampler, the split and training")
    parser.add_argument("--dedupe", action="store_true",
                        help="drop validation and test faces whose pixels equal a training face (exact hash; see "
                        "`audit`), recorded in the split fingerprints; default: the official split, comparable to "
                        "the literature")
    parser.add_argument("--keep-top", type=int, default=5, help="trials that keep their logged model")
    parser.add_argument("--max-crashes", type=int, default=3, metavar="N",
                        help="a parameter set whose trial killed its worker process N times (out of host memory, a "
                        "native crash) ends as failed instead of being run again on every resume (default: "
                        "%(default)s)")
    parser.add_argument("--max-latency-ms", type=float, metavar="MS",
                        help="a candidate slower than MS milliseconds per face on this machine fails before "
                        "training (its untrained network is timed); default: no limit")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes on this machine sharing the study (one per GPU on a GPU machine)")
    parser.add_argument("--heartbeat", type=int, default=30,
                        help="seconds between a running trial's heartbeats; silent for twice as long = dead")
    parser.add_argument("--retry-for", type=float, default=DEFAULT_RETRY_S, metavar="SECONDS",
                        help="seconds a worker waits, with backoff, for a tracking store, storage or disk that fails "
                        "before it stops with exit status 75 (the trial is left to run again, not counted; "
                        "default: %(default)g)")
    parser.add_argument("--refit-top", type=int, metavar="K",
                        help="then stage 2: `refit --top K` (full data, long training, ensembles, TTA; see `refit "
                        "--help`); the test split is scored once, after it")
    parser.add_argument("--refit-epochs", type=int, metavar="N", help="`refit --epochs N` (default: refit's)")
    parser.add_argument("--refit-timeout", type=float, metavar="SECONDS",
                        help="`refit --timeout SECONDS`: stage 2's wall-clock budget (epochs planned from measured "
                        "speed)")
    add_distill_flags(parser)  # `refit --distill` after stage 1 (with --refit-top)


def run(args: argparse.Namespace) -> int:
    """Runs stage 1 (here or on ``--workers`` processes), then stage 2 with ``--refit-top``."""
    from search.study import worker_label
    from spaces import load_space

    space = load_space(args.space)
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1 (got {args.workers})")
    if not args.retry_for >= 0:
        raise UsageError(f"--retry-for must be >= 0 seconds (got {args.retry_for:g})")
    settings = study_settings(args, space_name=args.space, n_trials=args.trials, max_epochs=args.epochs,
                              timeout_s=args.timeout, keep_top=args.keep_top, heartbeat_s=args.heartbeat,
                              defer_test=args.refit_top is not None, max_latency_ms=args.max_latency_ms,
                              dedupe=args.dedupe, max_crashes=args.max_crashes, **_engine_values(args))
    if settings.engine == "keras-tuner":
        from search.engines import check_keras_tuner_run

        check_keras_tuner_run(settings, space)  # an unmappable space fails here, before any study exists

    def stage1() -> int:
        if args.workers > 1 and not worker_label():  # a worker never starts workers of its own
            return _run_workers_and_report(args, settings)
        return run_and_report(settings, space, retry_s=args.retry_for)

    if args.refit_top is None:
        for flag, value in (("--refit-epochs", args.refit_epochs), ("--refit-timeout", args.refit_timeout),
                            ("--distill-weight", args.distill_weight)):
            if value is not None:
                raise UsageError(f"{flag} {value:g} needs --refit-top K (how many trials to refit)")
        if args.distill:
            raise UsageError("--distill needs --refit-top K (the student is taught by the refits' ensemble)")
        return stage1()
    return _run_then_refit(stage1, settings, refit_top=args.refit_top, refit_epochs=args.refit_epochs,
                           refit_timeout=args.refit_timeout, distill=distill_options(args))


def _engine_values(args: argparse.Namespace) -> dict[str, str]:
    """engine, tuner, sampler and pruner of ``run``; flags of the other engine are usage errors."""
    if args.engine != "keras-tuner":
        if args.tuner is not None:
            raise UsageError(f"--tuner {args.tuner} needs --engine keras-tuner (the Optuna engine uses --sampler "
                             "and --pruner)")
        return {"engine": args.engine, "sampler": args.sampler or "tpe", "pruner": args.pruner or "hyperband"}
    given = [f"--{name} {value}" for name, value in (("sampler", args.sampler), ("pruner", args.pruner)) if value]
    if given:
        raise UsageError(f"{' and '.join(given)} cannot be used with --engine keras-tuner: its oracle (--tuner) "
                         "proposes the trials and decides their epochs")
    if args.workers > 1:
        raise UsageError(f"--workers {args.workers} cannot be used with --engine keras-tuner: a Keras Tuner oracle "
                         "serves one process here (its distributed mode needs a gRPC chief); use --workers 1 "
                         "or --engine optuna")
    # The Optuna study only records Keras Tuner's trials: a random sampler is never asked, nothing is pruned.
    return {"engine": args.engine, "tuner": args.tuner or "hyperband", "sampler": "random", "pruner": "none"}


def study_settings(args: argparse.Namespace, *, space_name: str, study: str | None = None,
                   **values: Any) -> StudySettings:
    """The settings of the study ``run`` or ``train`` makes, from the shared flags and ``values``.

    Says so on stderr when the synthetic demo set stands in for missing ``--data``.
    """
    from search.paths import default_study_storage
    from search.study import DEMO_DATA, StudySettings, default_data, default_study_name

    data = args.data or default_data()
    if args.data is None and data == DEMO_DATA:
        print("No --data given and data/fer2013.csv not found: using the synthetic demo set "
              "(pass --data PATH for real faces).", file=sys.stderr)
    return StudySettings(
        study_name=study or args.study or default_study_name(space_name, data), space=space_name, data=data,
        storage=args.storage or default_study_storage(), split=args.split, subset=args.subset, seed=args.seed,
        **values,
    )


def run_and_report(settings: StudySettings, source: Any, *, retry_s: float = DEFAULT_RETRY_S) -> int:
    """Runs the study in this process and prints its summary (a ``--workers`` worker leaves that to its parent).

    ``retry_s``: how long infrastructure failures are ridden out before the worker stops (``--retry-for``).
    """
    from search.cli._summary import study_summary
    from search.engines import run_study
    from search.study import worker_label

    outcome = run_study(settings, source, retry_s=retry_s)
    if not worker_label():  # inside `--workers`, the parent prints the summary
        print(study_summary(outcome.study, settings.n_trials))
    return EXIT_INTERRUPTED if outcome.interrupted else EXIT_OK


def _run_workers_and_report(args: argparse.Namespace, settings: StudySettings) -> int:
    from search.cli._summary import study_summary
    from search.study import load_existing_study, open_storage, run_workers

    open_storage(settings.storage).remove_session()  # fail early, once, if it cannot be reached
    status = run_workers(args.argv, args.workers, on_start=_workers_started)
    study = load_existing_study(open_storage(settings.storage), settings.study_name)
    print(study_summary(study, settings.n_trials))
    return status


def _workers_started(pids: list[int]) -> None:
    print(f"Started {len(pids)} workers on one study (pids {', '.join(map(str, pids))}).", file=sys.stderr)


def _run_then_refit(stage1: Callable[[], int], settings: StudySettings, *, refit_top: int,
                    refit_epochs: int | None, refit_timeout: float | None,
                    distill: dict[str, Any] | None = None) -> int:
    """``run --refit-top``: stage 1 with its test score deferred, then the refit, then the test score once.

    Inside a ``--workers`` worker only stage 1 runs; the parent process refits after all workers end.
    Stage 1 interrupted or unfinished (``--timeout``): no refit, no test score; the same command resumes.
    """
    from search.refit import RefitOptions
    from search.selection import recorded_test_score
    from search.study import load_existing_study, n_counted, open_storage, worker_label

    # Bad flags fail here, before stage 1; the --refit-timeout clock starts when stage 2 does.
    options = RefitOptions(top=refit_top, epochs=refit_epochs or DEFAULT_EPOCHS, timeout_s=refit_timeout,
                           **(distill or {}))
    status = stage1()  # its settings defer the test score (defer_test): the refit's selection is scored
    if status != EXIT_OK or worker_label():
        return status
    study = load_existing_study(open_storage(settings.storage), settings.study_name)
    if n_counted(study) < settings.n_trials:
        print(f"Stage 1 has {n_counted(study)} of {settings.n_trials} trials: the refit waits until it is complete "
              "(run the same command again).")
        return status
    print()
    refit_and_print(study, options)
    if recorded_test_score(study) is None:
        _score_once(study)
    return EXIT_OK


def _score_once(study: optuna.Study) -> None:
    from search.selection import score_selected_model
    from search.study import open_scored_context

    study, data, tracker, parent_run_id = open_scored_context(study)
    score = score_selected_model(study, data, tracker, parent_run_id)
    print(f"Test accuracy of the {score.describe()}: {score.accuracy:.4f} (macro-F1 {score.macro_f1:.4f}), "
          "scored once.")
