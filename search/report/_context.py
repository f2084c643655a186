"""What every section of a report reads: the study, its tracker and parent run, and results shared by sections."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import optuna

from search import study as st
from search.report._figures import (
    ParamImportances,
    TopParams,
    compute_param_importances,
    top_params,
)
from search.report._model import SelectedModelScore, selected_model_score
from search.report._section import SectionUnavailable
from search.tracking import StudyTracker


class ReportContext:
    """What the sections of one report read: the study, its tracker and parent run, and shared results.

    Args:
        study: The Optuna study (finished or still running).
        tracker: The study's MLflow tracker.
        parent_run_id: The study's parent run.
    """

    def __init__(self, study: optuna.Study, tracker: StudyTracker, parent_run_id: str) -> None:
        self.study = study
        self.tracker = tracker
        self.parent_run_id = parent_run_id
        self.settings: dict[str, Any] = dict(study.user_attrs.get(st.SETTINGS_ATTR) or {})

    @cached_property
    def selected(self) -> SelectedModelScore | SectionUnavailable:
        """The selected model's metrics (computed once: two sections show them)."""
        try:
            return selected_model_score(self.study, self.tracker, self.parent_run_id)
        except SectionUnavailable as unavailable:
            return unavailable

    @cached_property
    def importances(self) -> ParamImportances | SectionUnavailable:
        """The study's fANOVA importances, or why they are missing (computed once: three sections use them)."""
        try:
            return compute_param_importances(self.study)
        except SectionUnavailable as unavailable:
            return unavailable

    @cached_property
    def top_params(self) -> TopParams:
        """The parameters the parallel-coordinates and slice figures show, ranked by :attr:`importances`."""
        return top_params(self.study, self.importances)

    def selected_or_raise(self) -> SelectedModelScore:
        """The selected model's metrics, or SectionUnavailable with the reason they are missing."""
        if isinstance(self.selected, SectionUnavailable):
            raise SectionUnavailable(str(self.selected))
        return self.selected
