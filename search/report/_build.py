"""A study's report: one self-contained plotly HTML page, also logged on the study's parent run.

Works on finished and on still-running studies (a snapshot); a figure that needs more trials is replaced
by a note saying so. The test split is never used here: test metrics are read back from the one-time
score, and an unscored study shows the selected model on the validation split, labelled as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from search import paths as _paths
from search import study as st
from search.errors import NotFoundError
from search.report._audit import TITLE as AUDIT_TITLE
from search.report._audit import audit_section, overlap_headline, read_audit
from search.report._classes import class_distribution
from search.report._context import ReportContext
from search.report._evaluations import CALIBRATION_TITLE, EVALUATIONS_TITLE, calibration_section, evaluations_section
from search.report._figures import (
    learning_curves,
    optimization_history,
    parallel_coordinates,
    param_importances,
    slice_plots,
)
from search.report._html import render_page
from search.report._pareto import TITLE as PARETO_TITLE
from search.report._pareto import pareto_section
from search.report._refits import refit_section
from search.report._section import Section, SectionContent, SectionUnavailable
from search.selection import leaderboard, recorded_test_score
from search.study import state_counts
from search.tracking import REPORT_ARTIFACT, StudyTracker, quiet_artifact_downloads

REPORTS_DIRNAME = "reports"
LEADERBOARD_ROWS = 20


@dataclass(frozen=True)
class StudyReport:
    """A rendered report.

    Args:
        study_name: The study it describes.
        html: The self-contained page.
        sections: Its sections, in page order (each shows content or a note).
        running: True when trials were still running at the time of the snapshot.
    """

    study_name: str
    html: str
    sections: tuple[Section, ...]
    running: bool

    @property
    def notes(self) -> dict[str, str]:
        """Section title -> note, for the sections that could not be drawn."""
        return {section.title: section.note for section in self.sections if section.note}


def build_report(study: optuna.Study, tracker: StudyTracker | None = None) -> StudyReport:
    """Builds the report of ``study`` (made by ``python -m search run``).

    Raises:
        LookupError: The study was not created by ``python -m search run`` (no parent run).
    """
    parent_run_id = study.user_attrs.get(st.PARENT_RUN_ATTR)
    if parent_run_id is None:
        raise NotFoundError(f"Study {study.study_name!r} was not created by `python -m search run`: it has no "
                          "MLflow run to report on.")
    context = ReportContext(study, tracker or StudyTracker(study.study_name), parent_run_id)
    running = state_counts(study)["running"] > 0
    with quiet_artifact_downloads():
        sections = tuple(_section(title, builder, context) for title, builder in SECTIONS)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    status = "still running: a snapshot" if running else "no trial running"
    subtitle = f"Space {context.settings.get('space', '?')} - {status} - generated {generated}"
    audit = read_audit(context)
    if audit is not None:  # the first screen says how many validation and test faces training has seen
        subtitle += f" - {overlap_headline(audit)}"
    page = render_page(f"Study report: {study.study_name}", subtitle, sections)
    return StudyReport(study_name=study.study_name, html=page, sections=sections, running=running)


def write_report(study: optuna.Study, out: Path, *, log_to_run: bool = True) -> StudyReport:
    """Builds the report, writes it to ``out`` and logs it as ``report.html`` on the study's parent run.

    A report logged before is replaced, so the run always holds the latest snapshot.
    """
    tracker = StudyTracker(study.study_name)
    report = build_report(study, tracker)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _paths.atomic_write_text(out, report.html)  # a browser or a reader never sees half a page
    if log_to_run:
        tracker.log_text(study.user_attrs[st.PARENT_RUN_ATTR], report.html, REPORT_ARTIFACT)
    return report


def default_report_path(study_name: str) -> Path:
    """``./mlruns/reports/<study>.html`` (characters unsafe in file names become ``_``)."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", study_name).lstrip(".") or "study"
    return _paths.mlruns_dir() / REPORTS_DIRNAME / f"{safe_name}.html"


# --- sections --------------------------------------------------------------------------------------------
def _section(title: str, builder: Callable[[ReportContext], SectionContent], context: ReportContext) -> Section:
    try:
        return Section(title=title, content=builder(context))
    except SectionUnavailable as unavailable:
        return Section(title=title, note=str(unavailable))


def _summary(context: ReportContext) -> SectionContent:
    study, settings = context.study, context.settings
    counts = state_counts(study)
    rows: dict[str, Any] = {
        "study": study.study_name,
        "space": settings.get("space", study.user_attrs.get(st.SPACE_ATTR, "-")),
        "data": settings.get("data", "-"),
        "split": settings.get("split") or "default (official when the data has a Usage column)",
        "seed": settings.get("seed", "-"),
        "training subset": settings.get("subset", "-"),
        "trials": ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "none yet",
        "status": (f"{counts['running']} trial(s) still running: this report is a snapshot"
                   if counts["running"] else "no trial running"),
        "MLflow experiment / run": f"{study.user_attrs.get(st.EXPERIMENT_ATTR, '-')} / {context.parent_run_id}",
    }
    best = leaderboard(study, 1)
    if best:
        rows["best validation accuracy"] = f"{best[0].val_accuracy:.4f} (trial #{best[0].trial})"
        rows["best validation accuracy, unseen faces"] = _clean(study.trials[best[0].trial])
    audit = read_audit(context)
    if audit is not None:
        rows["faces also in training"] = overlap_headline(audit)
        rows["--dedupe"] = "yes: duplicates of training faces dropped" if audit.get("dedupe") else "no (official split)"
    score = recorded_test_score(study)
    if score is not None:
        rows["test accuracy"] = _score_text(score)
    table = pd.DataFrame({"value": [str(value) for value in rows.values()]},
                         index=pd.Index(list(rows), name="setting"))
    return SectionContent(table=table)


def _test_score(context: ReportContext) -> SectionContent:
    score = recorded_test_score(context.study)
    if score is None:
        raise SectionUnavailable(
            "Not scored on the test split yet: the selected model is scored once when the search ends "
            f"(or with `python -m search test --study {context.study.study_name}`)."
        )
    table = pd.DataFrame({"value": [
        score.describe(), f"{score.accuracy:.4f}", _interval(score), _clean_test(score), f"{score.macro_f1:.4f}",
        score.scored_at, str(score.n_scores),
    ]}, index=pd.Index(["model", "test accuracy", "95 % interval (Wilson)", f"test accuracy, unseen faces ({CLEAN})",
                        "test macro-F1", "scored at", "times scored"], name="score"))
    caption = "The selected model's one-time score on the test split."
    if score.n_scores > 1:
        caption += f" The study was re-scored ({score.n_scores} scores in all, each recorded on its run)."
    return SectionContent(caption=caption, table=table)


def _leaderboard(context: ReportContext) -> SectionContent:
    rows = leaderboard(context.study, LEADERBOARD_ROWS)
    if not rows:
        raise SectionUnavailable("Needs more trials: the leaderboard needs at least 1 completed trial "
                                 "(this study has 0).")
    names = sorted({name for row in rows for name in row.params})
    records = [{
        "rank": row.rank, "trial": f"#{row.trial}", "val accuracy": f"{row.val_accuracy:.4f}",
        "val accuracy, unseen faces": _clean(context.study.trials[row.trial]),
        "params": _count(row.n_params), "MACs": _count(row.macs), "epochs": row.epochs,
        "time (s)": f"{row.duration_s:.0f}" if row.duration_s is not None else "-",
        **{name: _param(row.params.get(name)) for name in names},
    } for row in rows]
    n_completed = state_counts(context.study)["complete"]
    caption = (f"Top {len(rows)} of {n_completed} completed trials by validation accuracy (ties: fewer "
               "parameters first); the first row is the selected model.")
    return SectionContent(caption=caption, table=pd.DataFrame(records).set_index("rank"))


def _confusion(context: ReportContext) -> SectionContent:
    return context.selected_or_raise().confusion_section()


def _per_class(context: ReportContext) -> SectionContent:
    return context.selected_or_raise().per_class_section()


def _classes(context: ReportContext) -> SectionContent:
    subset = float(context.settings.get("subset", 1.0) or 1.0)
    return class_distribution(context.tracker, context.parent_run_id, subset=subset)


CLEAN = "clean subset: faces whose pixels equal no training face, exact hash"


def _clean(trial: optuna.trial.FrozenTrial) -> str:
    value = trial.user_attrs.get(st.CLEAN_VAL_ACCURACY_ATTR)
    return "-" if value is None or value != value else f"{float(value):.4f}"


def _interval(score: Any) -> str:
    if score.ci_low is None or score.ci_high is None:
        return "- (scored before intervals were recorded)"
    return f"{score.ci_low:.4f} - {score.ci_high:.4f} (n={score.n_test})"


def _clean_test(score: Any) -> str:
    if score.clean_accuracy is None:
        return "- (scored before clean subsets were recorded)"
    return f"{score.clean_accuracy:.4f} (n={score.n_clean})"


def _score_text(score: Any) -> str:
    return f"{score.accuracy:.4f}, 95 % interval {_interval(score)}; unseen faces {_clean_test(score)}"


def _count(number: int | None) -> str:
    return "-" if number is None else f"{number:,}"


def _param(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


SECTIONS: tuple[tuple[str, Callable[[ReportContext], SectionContent]], ...] = (
    ("Summary", _summary),
    ("Test score", _test_score),
    ("Leaderboard", _leaderboard),
    (AUDIT_TITLE, audit_section),
    (PARETO_TITLE, pareto_section),
    ("Stage 2: refits and selection", refit_section),
    ("Optimization history", lambda context: optimization_history(context.study)),
    ("Learning curves (intermediate values)", lambda context: learning_curves(context.study)),
    ("Parameter importances", lambda context: param_importances(context.study, context.importances)),
    ("Parallel coordinates", lambda context: parallel_coordinates(context.study, context.top_params)),
    ("Slice plots", lambda context: slice_plots(context.study, context.top_params)),
    ("Class distribution per split", _classes),
    ("Selected model: confusion matrix", _confusion),
    ("Selected model: per-class metrics", _per_class),
    (CALIBRATION_TITLE, calibration_section),
    (EVALUATIONS_TITLE, evaluations_section),
)
"""The report's sections in page order: title -> builder (raises SectionUnavailable for a note)."""
