"""The report draws validation accuracy against single-face latency, with the Pareto front marked."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from search.paths import default_study_storage
from search.report import SECTIONS, build_report
from search.report._context import ReportContext
from search.report._pareto import TITLE, pareto_section
from search.report._section import SectionUnavailable
from search.selection import study_pareto_front
from search.study import LATENCY_ATTR
from search.tracking import StudyTracker
from tests.fixtures.studies import SmokeStudy

pytestmark = pytest.mark.integration


def test_report_draws_accuracy_against_latency_with_the_front(workdir: Path, smoke_study: SmokeStudy) -> None:
    name = smoke_study.copy_to(workdir)
    study = optuna.load_study(study_name=name, storage=default_study_storage())
    assert TITLE in [title for title, _ in SECTIONS]
    report = build_report(study)
    (section,) = [s for s in report.sections if s.title == TITLE]
    assert section.content is not None, section.note
    (figure,) = section.content.figures
    everyone, front = figure.data
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(everyone.x) == sorted(t.user_attrs[LATENCY_ATTR] for t in complete)
    assert sorted(everyone.y) == sorted(t.value for t in complete)
    expected = study_pareto_front(study)
    assert list(front.x) == [row.latency_ms for row in expected] and front.name == "Pareto front"
    assert list(section.content.table.index) == [f"#{row.trial}" for row in expected]
    assert TITLE in report.html and "Pareto front" in report.html


def test_study_without_latencies_gets_a_note(workdir: Path, smoke_study: SmokeStudy) -> None:
    name = smoke_study.copy_to(workdir)
    storage = default_study_storage()
    study = optuna.load_study(study_name=name, storage=storage)
    bare = optuna.create_study(study_name="bare", storage=storage, direction="maximize")
    for trial in study.trials:  # the same trials, as recorded before latency was measured
        attrs = {k: v for k, v in trial.user_attrs.items() if k != LATENCY_ATTR}
        bare.add_trial(optuna.trial.create_trial(params=trial.params, distributions=trial.distributions,
                                                 value=trial.value, state=trial.state, user_attrs=attrs))
    with pytest.raises(SectionUnavailable, match="timed on its machine"):
        pareto_section(ReportContext(bare, StudyTracker(name), study.user_attrs["fer.mlflow_parent_run_id"]))
