"""``python -m search``: run studies, list spaces, show the leaderboard, test once, promote, train one net."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from search.errors import SearchError, UsageError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Hyperparameter search and model selection for facial-emotion recognition.

Optuna samples CNN architectures from a YAML search space, Keras trains each candidate, MLflow records
every trial (./mlruns by default), the best model is chosen on the validation split, scored ONCE on the
test split, and can be promoted in the MLflow Model Registry.

  python -m search run --trials 100          search (resumes when run again)
  python -m search best                      leaderboard of the latest study
  python -m search promote                   register the selected model as fer-emotion@champion
"""



class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends "(default: ...)" to a flag's help when it has a default worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def _parser() -> argparse.ArgumentParser:
    from search.selection import DEFAULT_ALIAS, DEFAULT_MODEL_NAME
    from search.study import PRUNERS, SAMPLERS
    from search.study import ENGINES, TUNERS

    parser = argparse.ArgumentParser(
        prog="python -m search", description=DESCRIPTION, formatter_class=_HelpFormatter, allow_abbrev=False
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = _HelpFormatter
    _no_abbreviations(commands)

    run = commands.add_parser("run", help="run or resume a search", formatter_class=fmt,
                              description="Run a study until it has --trials finished trials (complete, "
                              "pruned or failed); re-running the same command resumes it.")
    run.add_argument("--trials", type=int, default=20, help="finished trials the study must end with")
    run.add_argument("--space", default="compact", help="shipped space name (see `spaces`) or YAML path")
    _add_data_flags(run)
    run.add_argument("--study", help="study name (default: <space>-<data>, so a re-run resumes it)")
    _add_storage_flag(run)
    run.add_argument("--engine", choices=ENGINES, default="optuna",
                     help="who proposes the trials: Optuna's sampler and pruner, or a Keras Tuner oracle (the "
                     "study, MLflow runs, selection, test score and promotion are the same)")
    run.add_argument("--tuner", choices=TUNERS,
                     help="Keras Tuner oracle, with --engine keras-tuner only (default: hyperband; "
                     "--epochs is its max_epochs)")
    run.add_argument("--sampler", choices=sorted(SAMPLERS),
                     help="Optuna sampler, seeded (default: tpe; not with --engine keras-tuner)")
    run.add_argument("--pruner", choices=sorted(PRUNERS),
                     help="pruner of bad trials (default: hyperband; not with --engine keras-tuner)")
    run.add_argument("--epochs", type=int, help="maximum epochs per trial (default: the space's value)")
    run.add_argument("--timeout", type=float, help="seconds after which no new trial is started")
    run.add_argument("--subset", type=float, default=1.0, help="fraction of the training split per trial")
    run.add_argument("--seed", type=int, default=0, help="seeds the sampler, the split and training")
    run.add_argument("--keep-top", type=int, default=5, help="trials that keep their logged model")
    run.add_argument("--workers", type=int, default=1,
                     help="worker processes on this machine sharing the study (one per GPU on a GPU machine)")
    run.add_argument("--heartbeat", type=int, default=30,
                     help="seconds between a running trial's heartbeats; silent for twice as long = dead")
    run.add_argument("--refit-top", type=int, metavar="K",
                     help="then stage 2: `refit --top K` (full data, long training, ensembles, TTA; see `refit "
                     "--help`); the test split is scored once, after it")
    run.add_argument("--refit-epochs", type=int, metavar="N", help="`refit --epochs N` (default: refit's)")
    run.add_argument("--refit-timeout", type=float, metavar="SECONDS",
                     help="`refit --timeout SECONDS`: stage 2's wall-clock budget (epochs planned from measured speed)")

    spaces = commands.add_parser("spaces", help="list the shipped search spaces", formatter_class=fmt)
    _add_format_flag(spaces)

    best = commands.add_parser("best", help="leaderboard of a study", formatter_class=fmt)
    _add_study_flags(best)
    best.add_argument("--top", type=int, default=10, help="rows to show")
    _add_format_flag(best)

    test = commands.add_parser("test", help="score the selected model on the test split (once)",
                               formatter_class=fmt,
                               description="Score the study's selected model on the test split. The test split "
                               "is used once per study: a second score is refused unless --force.")
    _add_study_flags(test)
    test.add_argument("--force", action="store_true", help="re-score; recorded as a re-score")

    promote = commands.add_parser("promote", help="register the selected model and move an alias",
                                  formatter_class=fmt)
    _add_study_flags(promote)
    promote.add_argument("--name", default=DEFAULT_MODEL_NAME, help="registered model name")
    promote.add_argument("--alias", default=DEFAULT_ALIAS, help="alias to point at the new version")
    promote.add_argument("--force", action="store_true", help="promote even over a better champion")

    train = commands.add_parser("train", help="train one fixed architecture the same way (tracked)",
                                formatter_class=fmt)
    train.add_argument("--config", default="seed", help="architecture preset (fer_core.model.PRESETS)")
    _add_data_flags(train)
    train.add_argument("--study", help="study name (default: train-<config>-<data>)")
    _add_storage_flag(train)
    train.add_argument("--epochs", type=int, default=30, help="maximum epochs")
    train.add_argument("--batch-size", type=int, default=64, help="batch size")
    train.add_argument("--optimizer", default="adam", help="adam, adamw or sgd (nesterov)")
    train.add_argument("--learning-rate", type=float, default=1e-3, help="initial learning rate")
    train.add_argument("--subset", type=float, default=1.0, help="fraction of the training split")
    train.add_argument("--seed", type=int, default=0, help="seeds the split and training")

    for name, (module, summary) in PLUGGED_COMMANDS.items():
        sub = commands.add_parser(name, help=summary, formatter_class=fmt, description=summary)
        importlib.import_module(module).add_arguments(sub)
    return parser


def _no_abbreviations(commands: argparse._SubParsersAction) -> None:
    """Subcommands take only full flag names: `--worker 4` must not pass for `--workers 4`."""
    add_parser = commands.add_parser

    def strict_add_parser(name: str, **kwargs: object) -> argparse.ArgumentParser:
        return add_parser(name, allow_abbrev=False, **kwargs)

    commands.add_parser = strict_add_parser  # type: ignore[method-assign]


def _add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="FER2013 CSV (.csv/.csv.gz) or image-folder tree "
                        "(default: data/fer2013.csv if present, else the synthetic demo set)")
    parser.add_argument("--split", choices=("official", "random"),
                        help="official = FER2013 Usage column; random = stratified 80/10/10 "
                        "(default: official when the data has a Usage column)")


def _add_storage_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storage", help="Optuna storage URL (default: sqlite:///mlruns/optuna.db)")


def _add_study_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--study", help="study name (default: the latest study in the storage)")
    _add_storage_flag(parser)


def _add_format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")


# --- commands ------------------------------------------------------------------------------------------
def _cmd_run(args: argparse.Namespace) -> int:
    from search.study import worker_label
    from spaces import load_space

    space = load_space(args.space)
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1 (got {args.workers})")
    settings = _settings(args, space_name=args.space, n_trials=args.trials, max_epochs=args.epochs,
                         timeout_s=args.timeout, keep_top=args.keep_top, heartbeat_s=args.heartbeat,
                         defer_test=args.refit_top is not None, **_engine_values(args))
    if settings.engine == "keras-tuner":
        from search.engines import check_keras_tuner_run

        check_keras_tuner_run(settings, space)  # an unmappable space fails here, before any study exists

    def stage1() -> int:
        if args.workers > 1 and not worker_label():  # a worker never starts workers of its own
            return _run_workers_and_report(args, settings)
        return _run_and_report(settings, space)

    if args.refit_top is None:
        for flag, value in (("--refit-epochs", args.refit_epochs), ("--refit-timeout", args.refit_timeout)):
            if value is not None:
                raise UsageError(f"{flag} {value:g} needs --refit-top K (how many trials to refit)")
        return stage1()
    from search.cli._refit import run_then_refit

    return run_then_refit(stage1, settings, refit_top=args.refit_top, refit_epochs=args.refit_epochs,
                          refit_timeout=args.refit_timeout)


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


def _run_workers_and_report(args: argparse.Namespace, settings) -> int:
    from search.study import load_existing_study, open_storage
    from search.cli._summary import study_summary
    from search.study import run_workers

    open_storage(settings.storage).remove_session()  # fail early, once, if it cannot be reached
    status = run_workers(args.argv, args.workers)
    study = load_existing_study(open_storage(settings.storage), settings.study_name)
    print(study_summary(study, settings.n_trials))
    return status


def _cmd_train(args: argparse.Namespace) -> int:
    from search.study import fixed_candidate_for_preset
    from search.study import default_data

    training = {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer,
                "learning_rate": args.learning_rate, "seed": args.seed}
    source = fixed_candidate_for_preset(args.config, training)
    from search.study import resolve_candidate

    resolve_candidate(source.candidate, max_epochs=args.epochs)  # bad flags fail here, before any study
    data = args.data or default_data()
    from search.study import default_study_name

    study = args.study or f"train-{default_study_name(args.config, data)}"
    settings = _settings(args, space_name=source.name, n_trials=1, sampler="random", pruner="none",
                         max_epochs=args.epochs, timeout_s=None, keep_top=1, study=study)
    return _run_and_report(settings, source)


def _settings(args: argparse.Namespace, *, space_name: str, study: str | None = None, **values: object):
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


def _run_and_report(settings, source) -> int:
    from search.engines import run_study
    from search.cli._summary import study_summary
    from search.study import worker_label

    outcome = run_study(settings, source)
    if not worker_label():  # inside `--workers`, the parent prints the summary
        print(study_summary(outcome.study, settings.n_trials))
    return EXIT_INTERRUPTED if outcome.interrupted else EXIT_OK


def _cmd_spaces(args: argparse.Namespace) -> int:
    from search.selection import format_table
    from spaces import list_spaces

    rows = [{"name": s.name, "parameters": s.n_parameters, "max_macs": s.max_macs,
             "description": _first_sentence(s.description)} for s in list_spaces()]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    table = [["name", "parameters", "MACs budget", "description"]] + [
        [r["name"], str(r["parameters"]), f"{r['max_macs']:.3g}" if r["max_macs"] else "-", r["description"]]
        for r in rows
    ]
    print(format_table(table))
    return EXIT_OK


def _first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of a space's description, cut to ``limit`` characters for a table."""
    sentence = text.split(". ")[0].strip() if text else ""
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _cmd_best(args: argparse.Namespace) -> int:
    from search.selection import format_leaderboard, leaderboard

    study = _load_study(args)
    print(format_leaderboard(leaderboard(study, args.top), args.format))
    from search.selection import format_selection

    selected = format_selection(study) if args.format == "table" else None
    if selected:
        print(f"\n{selected}")
    return EXIT_OK


def _cmd_test(args: argparse.Namespace) -> int:
    from search.study import open_scored_context
    from search.selection import score_selected_model

    study, data, tracker, parent_run_id = open_scored_context(_load_study(args))
    score = score_selected_model(study, data, tracker, parent_run_id, force=args.force)
    note = " (re-score, recorded as such)" if score.n_scores > 1 else ""
    print(f"Test accuracy of {score.describe()}: {score.accuracy:.4f} (macro-F1 {score.macro_f1:.4f}){note}")
    return EXIT_OK


def _cmd_promote(args: argparse.Namespace) -> int:
    from search.selection import promote_study
    from search.tracking import StudyTracker

    study = _load_study(args)
    promotion = promote_study(study, StudyTracker(study.study_name), name=args.name, alias=args.alias,
                              force=args.force)
    print(f"Registered {promotion.name} version {promotion.version} (test accuracy "
          f"{promotion.test_accuracy:.4f}); {promotion.uri} now points at it.")
    return EXIT_OK


def _load_study(args: argparse.Namespace):
    from search.paths import default_study_storage
    from search.study import load_existing_study, open_storage

    return load_existing_study(open_storage(args.storage or default_study_storage()), args.study)


PLUGGED_COMMANDS: dict[str, tuple[str, str]] = {
    "predict": ("search.cli._predict", "classify the faces in photos with a trained or promoted model"),
    "report": ("search.cli._report", "write a study's self-contained plotly HTML report"),
    "ui": ("search.cli._ui", "start the MLflow UI on the project's store (127.0.0.1)"),
    "refit": ("search.cli._refit", "stage 2: refit the top trials fully, select ensembles/TTA on validation"),
}
"""Commands that live in their own module: ``add_arguments(parser)`` and ``run(args) -> int``."""

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _cmd_run,
    "spaces": _cmd_spaces,
    "best": _cmd_best,
    "test": _cmd_test,
    "promote": _cmd_promote,
    "train": _cmd_train,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # An unreachable tracking server should fail in seconds, not after MLflow's minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    _quiet_libraries()
    try:
        if args.command in PLUGGED_COMMANDS:
            return importlib.import_module(PLUGGED_COMMANDS[args.command][0]).run(args)
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - user-facing errors become one line
        status = _exit_status(error)
        if status is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return status


def _exit_status(error: Exception) -> int | None:
    """The exit status of an error that is the user's to fix (printed as one line); None for a bug."""
    from fer_core.errors import FerError

    if isinstance(error, SearchError):
        return error.exit_status
    if isinstance(error, (FerError, FileNotFoundError)):
        return EXIT_ERROR
    return None


def _quiet_libraries() -> None:
    import logging
    import warnings

    import optuna

    _import_tensorflow_quietly()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    warnings.filterwarnings("ignore", category=FutureWarning)


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow and probes for GPUs with stderr silenced.

    TensorFlow's C++ start-up lines (oneDNN, "could not find cuda drivers", cuInit) are printed before
    TF_CPP_MIN_LOG_LEVEL takes effect; they would bury the progress lines users read.
    """
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    except ImportError:
        pass  # another Keras backend: nothing to silence
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
