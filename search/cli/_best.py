"""``python -m search best``: a study's leaderboard on validation, and stage 2's selection if recorded."""

from __future__ import annotations

import argparse

from search.cli._exit import EXIT_OK
from search.cli._flags import add_format_flag, add_study_flags, open_study
from search.cli._tables import format_leaderboard, format_selection

NAME = "best"
HELP = "leaderboard of a study"
DESCRIPTION = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_study_flags(parser)
    parser.add_argument("--top", type=int, default=10, help="rows to show")
    add_format_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Prints the top ``--top`` completed trials (and, as a table, the recorded selection)."""
    from search.selection import leaderboard

    study = open_study(args)
    print(format_leaderboard(leaderboard(study, args.top), args.format))
    selected = format_selection(study) if args.format == "table" else None
    if selected:
        print(f"\n{selected}")
    return EXIT_OK
