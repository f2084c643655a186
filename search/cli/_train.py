"""``python -m search train``: train one fixed architecture preset the way a trial trains (a tracked study of one)."""

from __future__ import annotations

import argparse

from search.cli._flags import add_data_flags, add_storage_flag
from search.cli._run import run_and_report, study_settings

NAME = "train"
HELP = "train one fixed architecture the same way (tracked)"
DESCRIPTION = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    parser.add_argument("--config", default="seed", help="architecture preset (fer_core.model.PRESETS)")
    add_data_flags(parser)
    parser.add_argument("--study", help="study name (default: train-<config>-<data>)")
    add_storage_flag(parser)
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size")
    parser.add_argument("--optimizer", default="adam", help="adam, adamw or sgd (nesterov)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="initial learning rate")
    parser.add_argument("--subset", type=float, default=1.0, help="fraction of the training split")
    parser.add_argument("--seed", type=int, default=0, help="seeds the split and training")


def run(args: argparse.Namespace) -> int:
    """Trains the preset as a one-trial study and prints its summary."""
    from search.study import default_data, default_study_name, fixed_candidate_for_preset, resolve_candidate

    training = {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer,
                "learning_rate": args.learning_rate, "seed": args.seed}
    source = fixed_candidate_for_preset(args.config, training)
    resolve_candidate(source.candidate, max_epochs=args.epochs)  # bad flags fail here, before any study
    data = args.data or default_data()
    study = args.study or f"train-{default_study_name(args.config, data)}"
    settings = study_settings(args, space_name=source.name, n_trials=1, sampler="random", pruner="none",
                              max_epochs=args.epochs, timeout_s=None, keep_top=1, study=study)
    return run_and_report(settings, source)
