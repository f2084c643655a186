"""``python -m search test``: score the study's selected model on the test split, once."""

from __future__ import annotations

import argparse

from search.cli._exit import EXIT_OK
from search.cli._flags import add_study_flags, open_study
from search.cli._honest import test_score_line

NAME = "test"
HELP = "score the selected model on the test split (once)"
DESCRIPTION = ("Score the study's selected model on the test split. The test split is used once per study: a second "
               "score is refused unless --force. The decision is taken under the study's lock: of several `test` "
               "commands at once (or one racing the last worker of `run`), one scores and the others are refused.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_study_flags(parser)
    parser.add_argument("--force", action="store_true", help="re-score; recorded as a re-score")


def run(args: argparse.Namespace) -> int:
    """Scores and prints the test accuracy (``AlreadyScoredError`` without ``--force`` after a first score)."""
    from search.selection import score_selected_model
    from search.study import open_scored_context

    study, data, tracker, parent_run_id = open_scored_context(open_study(args))
    score = score_selected_model(study, data, tracker, parent_run_id, force=args.force)
    note = " (re-score, recorded as such)" if score.n_scores > 1 else ""
    print(f"Test accuracy of {score.describe()}: {score.accuracy:.4f} (macro-F1 {score.macro_f1:.4f}){note}")
    print(f"  {test_score_line(score)}")  # Wilson 95 % interval, clean subset (search.cli._honest)
    return EXIT_OK
