"""``python -m search report``: write a study's self-contained plotly HTML report and log it on its run."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    parser.description = DESCRIPTION
    parser.add_argument("--study", help="study name (default: the latest study in the storage)")
    parser.add_argument("--storage", help="Optuna storage URL (default: sqlite:///mlruns/optuna.db)")
    parser.add_argument("--out", type=Path, metavar="FILE.html",
                        help="where to write the page (default: mlruns/reports/<study>.html)")


def run(args: argparse.Namespace) -> int:
    """Writes the report, logs it as ``report.html`` on the study's parent run, prints the path."""
    from search.paths import default_study_storage
    from search.report import REPORT_ARTIFACT, default_report_path, write_report
    from search.study import PARENT_RUN_ATTR, load_existing_study, open_storage

    _check_out(args.out)
    study = load_existing_study(open_storage(args.storage or default_study_storage()), args.study)
    out = args.out or default_report_path(study.study_name)
    report = write_report(study, out)
    state = " (trials still running: a snapshot)" if report.running else ""
    print(f"Report of study {study.study_name!r}{state}: {Path(out).resolve()}")
    if report.notes:
        print(f"  {len(report.notes)} section(s) shown as notes: {', '.join(report.notes)}")
    print(f"  also logged as {REPORT_ARTIFACT} on MLflow run {study.user_attrs[PARENT_RUN_ATTR]}")
    return 0


def _check_out(out: Path | None) -> None:
    from search.cli._main import UsageError

    if out is None:
        return
    if out.suffix.lower() not in HTML_SUFFIXES:
        raise UsageError(f"--out must name an .html file (got {str(out)!r}); e.g. --out report.html")
    if out.is_dir():
        raise UsageError(f"--out must name a file, not a folder (got {str(out)!r}); e.g. --out {out / 'report.html'}")
