"""``python -m search best``: a study's leaderboard on validation, and stage 2's selection if recorded.

Every accuracy comes with its accuracy on unseen faces (the clean subset), the test score with its Wilson 95 %
interval.
"""

from __future__ import annotations

import argparse
import json

from search.cli._evaluate import format_study_evaluations
from search.cli._exit import EXIT_OK
from search.cli._flags import add_format_flag, add_study_flags, open_study
from search.cli._honest import clean_table, leaderboard_records, test_score_line
from search.cli._tables import format_leaderboard, format_selection

NAME = "best"
HELP = "leaderboard of a study"
DESCRIPTION = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_study_flags(parser)
    parser.add_argument("--top", type=int, default=10, help="rows to show")
    parser.add_argument("--pareto", action="store_true",
                        help="list the accuracy-latency Pareto front instead (fastest first; --top is ignored)")
    add_format_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Prints the top ``--top`` completed trials (and, as a table, the recorded selection and test score)."""
    from search.selection import leaderboard, recorded_test_score

    study = open_study(args)
    if args.pareto:
        from search.selection import study_pareto_front

        print(format_leaderboard(study_pareto_front(study), args.format))
        return EXIT_OK
    rows = leaderboard(study, args.top)
    if args.format == "json":
        print(json.dumps(leaderboard_records(study, rows), indent=2))
        return EXIT_OK
    print(format_leaderboard(rows, args.format))
    if rows:
        print(f"\n{clean_table(study, rows)}")
    selected = format_selection(study)
    if selected:
        print(f"\n{selected}")
    score = recorded_test_score(study)
    if score is not None:
        print(f"\nTest score of {score.describe()}: {test_score_line(score)}")
    evaluations = format_study_evaluations(study.study_name)
    if evaluations:
        print(f"\n{evaluations}")
    return EXIT_OK
