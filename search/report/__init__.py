"""A study's report: one self-contained plotly HTML page of sections, also logged on the study's parent run."""

from __future__ import annotations

from search.report._audit import audit_page, overlap_headline
from search.report._build import (
    LEADERBOARD_ROWS,
    REPORT_ARTIFACT,
    REPORTS_DIRNAME,
    SECTIONS,
    StudyReport,
    build_report,
    default_report_path,
    write_report,
)
from search.report._classes import (
    SPLIT_NAMES,
    class_distribution,
    class_share_figure,
    parse_class_counts,
)
from search.report._context import ReportContext
from search.report._figures import (
    IMPORTANCE_SEED,
    NEEDS_MORE_TRIALS,
    SLICE_PARAMS_PER_FIGURE,
    TARGET_NAME,
    TOP_PARAMS,
    ParamImportances,
    TopParams,
    completed_trials_of,
    compute_param_importances,
    learning_curves,
    optimization_history,
    parallel_coordinates,
    param_importances,
    slice_plots,
    top_params,
)
from search.report._html import FIGURE_SCRIPT_CLASS, figure_json, render_page, table_html
from search.report._model import SelectedModelScore, result_from_confusion_counts, selected_model_score
from search.report._refits import refit_section
from search.report._section import Section, SectionContent, SectionUnavailable

__all__ = [
    "audit_page",
    "overlap_headline",
    "build_report",
    "class_distribution",
    "class_share_figure",
    "completed_trials_of",
    "compute_param_importances",
    "default_report_path",
    "figure_json",
    "FIGURE_SCRIPT_CLASS",
    "IMPORTANCE_SEED",
    "LEADERBOARD_ROWS",
    "learning_curves",
    "NEEDS_MORE_TRIALS",
    "optimization_history",
    "parallel_coordinates",
    "param_importances",
    "ParamImportances",
    "parse_class_counts",
    "refit_section",
    "render_page",
    "REPORT_ARTIFACT",
    "ReportContext",
    "REPORTS_DIRNAME",
    "result_from_confusion_counts",
    "Section",
    "SectionContent",
    "SECTIONS",
    "SectionUnavailable",
    "selected_model_score",
    "SelectedModelScore",
    "SLICE_PARAMS_PER_FIGURE",
    "slice_plots",
    "SPLIT_NAMES",
    "StudyReport",
    "table_html",
    "TARGET_NAME",
    "TOP_PARAMS",
    "top_params",
    "TopParams",
    "write_report",
]
