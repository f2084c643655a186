"""A study's report: one self-contained plotly HTML page of sections, also logged on the study's parent run.
"""

from __future__ import annotations

from search.report._section import SectionUnavailable, SectionContent, Section
from search.report._html import FIGURE_SCRIPT_CLASS, render_page, figure_json, table_html
from search.report._figures import (
    TARGET_NAME,
    NEEDS_MORE_TRIALS,
    SLICE_PARAMS_PER_FIGURE,
    IMPORTANCE_SEED,
    optimization_history,
    learning_curves,
    param_importances,
    parallel_coordinates,
    slice_plots,
    completed_trials_of,
)
from search.report._classes import (
    CLASS_COUNTS_ARTIFACT,
    SPLIT_NAMES,
    class_distribution,
    parse_class_counts,
    class_share_figure,
)
from search.report._model import SelectedModelScore, selected_model_score, result_from_confusion_counts
from search.report._refits import refit_section
from search.report._build import (
    REPORT_ARTIFACT,
    REPORTS_DIRNAME,
    LEADERBOARD_ROWS,
    ReportContext,
    StudyReport,
    build_report,
    write_report,
    default_report_path,
    SECTIONS,
    SECTION_TITLES,
)

__all__ = [
    "build_report",
    "CLASS_COUNTS_ARTIFACT",
    "class_distribution",
    "class_share_figure",
    "completed_trials_of",
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
    "parse_class_counts",
    "refit_section",
    "render_page",
    "REPORT_ARTIFACT",
    "ReportContext",
    "REPORTS_DIRNAME",
    "result_from_confusion_counts",
    "Section",
    "SECTION_TITLES",
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
    "write_report",
]
