"""``python -m search promote``: register the study's test-scored selection and move an alias to it."""

from __future__ import annotations

import argparse

from search.cli._evaluate import format_study_evaluations
from search.cli._exit import EXIT_OK
from search.cli._flags import add_study_flags, open_study
from search.defaults import DEFAULT_ALIAS, DEFAULT_MODEL_NAME

NAME = "promote"
HELP = "register the selected model and move an alias"
DESCRIPTION = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_study_flags(parser)
    parser.add_argument("--name", default=DEFAULT_MODEL_NAME, help="registered model name")
    parser.add_argument("--alias", default=DEFAULT_ALIAS, help="alias to point at the new version")
    parser.add_argument("--force", action="store_true", help="promote even over a better champion")
    parser.add_argument("--max-latency-ms", type=float, metavar="MS",
                        help="refuse the selected model (with its TTA) if it takes more than MS milliseconds per "
                        "face on this machine")


def run(args: argparse.Namespace) -> int:
    """Registers a new version and prints it (``PromotionRefused`` when not scored or a better champion)."""
    from search.selection import promote_study
    from search.tracking import StudyTracker

    study = open_study(args)
    if args.max_latency_ms is not None:
        from search.export import check_promotion_latency

        latency = check_promotion_latency(study, args.max_latency_ms)
        if latency is not None:
            print(f"Latency on this machine: {latency.describe()} (limit {args.max_latency_ms:g} ms per face).")
    promotion = promote_study(study, StudyTracker(study.study_name), name=args.name, alias=args.alias,
                              force=args.force)
    print(f"Registered {promotion.name} version {promotion.version} (test accuracy "
          f"{promotion.test_accuracy:.4f}); {promotion.uri} now points at it.")
    evaluations = format_study_evaluations(study.study_name)
    if evaluations:
        print(evaluations)
    return EXIT_OK
