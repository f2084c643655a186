"""``python -m search report``: write a study's self-contained plotly HTML report and log it on its run."""

from __future__ import annotations

import argparse
from pathlib import Path

from search.cli._exit import EXIT_OK
from search.cli._flags import add_study_flags, open_study
from search.errors import UsageError

NAME = "report"
HELP = "write a study's self-contained plotly HTML report"
HTML_SUFFIXES = (".html", ".htm")
DESCRIPTION = (
    "Write one self-contained HTML page about a study (plotly.js inlined: it opens offline in any browser): "
    "summary, test score, leaderboard, optimization history, learning curves, parameter importances, "
    "parallel coordinates, slice plots, class distribution per split, and the selected model's confusion "
    "matrix and per-class metrics (test if scored, else validation, labelled). Works while trials are "
    "still running. The page is also logged as report.html on the study's MLflow run."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_study_flags(parser)
    parser.add_argument("--out", type=Path, metavar="FILE.html",
                        help="where to write the page (default: mlruns/reports/<study>.html)")


def run(args: argparse.Namespace) -> int:
    """Writes the report, logs it as ``report.html`` on the study's parent run, prints the path."""
    from search.report import REPORT_ARTIFACT, default_report_path, write_report
    from search.study import PARENT_RUN_ATTR

    _check_out(args.out)
    study = open_study(args)
    out = args.out or default_report_path(study.study_name)
    report = write_report(study, out)
    state = " (trials still running: a snapshot)" if report.running else ""
    print(f"Report of study {study.study_name!r}{state}: {Path(out).resolve()}")
    if report.notes:
        print(f"  {len(report.notes)} section(s) shown as notes: {', '.join(report.notes)}")
    print(f"  also logged as {REPORT_ARTIFACT} on MLflow run {study.user_attrs[PARENT_RUN_ATTR]}")
    return EXIT_OK


def _check_out(out: Path | None) -> None:
    if out is None:
        return
    if out.suffix.lower() not in HTML_SUFFIXES:
        raise UsageError(f"--out must name an .html file (got {str(out)!r}); e.g. --out report.html")
    if out.is_dir():
        raise UsageError(f"--out must name a file, not a folder (got {str(out)!r}); e.g. --out {out / 'report.html'}")
