"""``python -m search report``: every section, valid plotly JSON, notes when trials are missing, logged on the
study's run, and a snapshot of a still-running (unscored) study evaluated on validation."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import plotly.io as pio
import pytest
from mlflow import MlflowClient
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from search import main
from search.paths import default_study_storage, default_tracking_uri
from search.report import (
    FIGURE_SCRIPT_CLASS,
    SECTIONS,
    Section,
    SectionContent,
    SectionUnavailable,
    build_report,
    default_report_path,
    learning_curves,
    param_importances,
    render_page,
    result_from_confusion_counts,
)
from search.tracking import quiet_artifact_downloads, read_run_text
from tests.fixtures.studies import SMOKE_STUDY, SmokeStudy, working_directory

STUDY = SMOKE_STUDY  # the session's smoke study (tests/fixtures/studies.py), copied
FIGURE_PATTERN = re.compile(
    rf'<script type="application/json" class="{FIGURE_SCRIPT_CLASS}" data-target="[^"]+">(.*?)</script>', re.S
)
SECTION_PATTERN = re.compile(r'<section id="section-\d+">\s*<h2>(.*?)</h2>(.*?)</section>', re.S)


@dataclass(frozen=True)
class Page:
    """A written report, split into its sections."""

    html: str
    stdout: str

    def section(self, title: str) -> str:
        return dict(SECTION_PATTERN.findall(self.html))[title]

    def figures(self, title: str) -> list:
        return [pio.from_json(text) for text in FIGURE_PATTERN.findall(self.section(title))]

    def note(self, title: str) -> str:
        match = re.search(r'<p class="note">(.*?)</p>', self.section(title), re.S)
        return match.group(1) if match else ""


@dataclass(frozen=True)
class Stages:
    """Reports of one study at three moments, and what was logged on its run."""

    one_trial: Page
    finished: Page
    running: Page
    logged_after_finish: str | None
    finished_study: optuna.Study
    default_path: Path


def _report(*args: str) -> str:
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        assert main(["report", "--study", STUDY, *args]) == 0
    return stdout.getvalue()


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory, smoke_study: SmokeStudy) -> Iterator[Stages]:
    """The shared smoke study after 1 trial -> report; grown to 3 trials (by then it carries the 1-trial
    report on its run) -> report (default path); a trial left RUNNING, unscored -> report.

    Each moment is a private copy: the study after its first trial, then the finished one.
    """
    with working_directory(tmp_path_factory.mktemp("report-1-trial")) as folder:
        smoke_study.after_first_trial.copy_to(folder)
        out_one = folder / "one.html"
        one_stdout = _report("--out", str(out_one))
        one_trial = Page(out_one.read_text(), one_stdout)

    with working_directory(tmp_path_factory.mktemp("report")) as folder:
        smoke_study.copy_to(folder)
        finished_stdout = _report()
        default_path = default_report_path(STUDY)
        study = optuna.load_study(study_name=STUDY, storage=default_study_storage())
        with quiet_artifact_downloads():
            logged = read_run_text(MlflowClient(default_tracking_uri()),
                                   study.user_attrs["fer.mlflow_parent_run_id"], "report.html")

        running_trial = study.ask()  # another worker's trial, one epoch in; the study not scored yet
        running_trial.report(0.1, 1)
        study.set_user_attr("fer.test_score", None)
        out_running = folder / "running.html"
        running_stdout = _report("--out", str(out_running))
        yield Stages(
            one_trial=one_trial, finished=Page(default_path.read_text(), finished_stdout),
            running=Page(out_running.read_text(), running_stdout),
            logged_after_finish=logged, finished_study=study, default_path=default_path,
        )


# --- the study's reports --------------------------------------------------------------------------------------
@pytest.mark.integration
def test_finished_report_has_every_section_with_valid_plotly_json(stages: Stages) -> None:
    page = stages.finished
    assert [title for title, _ in SECTION_PATTERN.findall(page.html)] == [title for title, _ in SECTIONS]
    assert page.html.count("plotly.js v") == 1  # the bundle is inlined once: the page opens offline
    assert "<script src=" not in page.html  # nothing fetched from the network
    for title in ("Optimization history", "Learning curves (intermediate values)", "Parallel coordinates",
                  "Slice plots", "Class distribution per split", "Selected model: confusion matrix"):
        assert page.figures(title), f"{title}: {page.note(title)}"
    completed = [t for t in stages.finished_study.trials if t.state == TrialState.COMPLETE]
    assert len(completed) == 3
    if len({t.value for t in completed}) > 1:  # synthetic data: trials often tie at chance level
        assert page.figures("Parameter importances")
    else:
        assert "Needs more trials" in page.note("Parameter importances")
    assert "TEST split" in page.figures("Selected model: confusion matrix")[0].layout.title.text
    for emotion in ("angry", "neutral", "macro average"):
        assert f"<th>{emotion}</th>" in page.section("Selected model: per-class metrics")
    assert "test accuracy" in page.section("Test score")
    counts = page.figures("Class distribution per split")[0]
    assert [bar.name for bar in counts.data] == ["train", "validation", "test"]


@pytest.mark.integration
def test_one_trial_report_says_which_figures_need_more_trials(stages: Stages) -> None:
    page = stages.one_trial
    assert [title for title, _ in SECTION_PATTERN.findall(page.html)] == [title for title, _ in SECTIONS]
    for title in ("Parameter importances", "Parallel coordinates"):
        assert "Needs more trials" in page.note(title)
        assert "at least 2 completed trials (this study has 1)" in page.note(title)
        assert not page.figures(title)
    assert page.figures("Optimization history") and page.figures("Slice plots")
    assert "No refit yet" in page.note("Stage 2: refits and selection")
    assert ("3 section(s) shown as notes: Stage 2: refits and selection, Parameter importances, "
            "Parallel coordinates") in page.stdout


@pytest.mark.integration
def test_report_is_written_to_the_default_path_and_logged_on_the_parent_run(stages: Stages) -> None:
    assert stages.default_path == Path.cwd() / "mlruns" / "reports" / f"{STUDY}.html"
    assert str(stages.default_path.resolve()) in stages.finished.stdout
    assert "logged as report.html on MLflow run" in stages.finished.stdout
    assert stages.logged_after_finish == stages.finished.html


@pytest.mark.integration
def test_still_running_unscored_study_renders_on_validation(stages: Stages) -> None:
    page = stages.running
    assert "still running" in page.html and "a snapshot" in page.stdout
    curves = page.figures("Learning curves (intermediate values)")[0]
    running = [trace for trace in curves.data if trace.name.endswith("running")]
    assert len(running) == 1 and running[0].line.dash == "dash"
    assert "Not scored on the test split yet" in page.note("Test score")
    confusion = page.figures("Selected model: confusion matrix")[0]
    assert "VALIDATION split" in confusion.layout.title.text
    assert "VALIDATION split (not test)" in page.section("Selected model: confusion matrix")
    assert "TEST split" not in page.html


@pytest.mark.integration
def test_cli_refuses_unknown_study_and_non_html_out(stages: Stages, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "--study", "nope"]) == 1
    assert f"No study named 'nope'; known studies: {STUDY}" in capsys.readouterr().err
    assert main(["report", "--study", STUDY, "--out", "report.txt"]) == 2
    assert "--out must name an .html file (got 'report.txt')" in capsys.readouterr().err


# --- the parts, on in-memory studies (no training) ----------------------------------------------------------
def _study(values: list[float | None], *, pruned_at: int = 1) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for number, value in enumerate(values):
        state = TrialState.COMPLETE if value is not None else TrialState.PRUNED
        study.add_trial(create_trial(
            params={"lr": 0.001 * (number + 1)}, distributions={"lr": FloatDistribution(1e-4, 1e-1, log=True)},
            value=value, state=state, intermediate_values={step: 0.1 * step for step in range(1, 3)}
            if value is not None else {step: 0.05 for step in range(1, pruned_at + 1)},
        ))
    return study


def test_importances_need_two_completed_trials_that_differ() -> None:
    with pytest.raises(SectionUnavailable, match=r"at least 2 completed trials \(this study has 1\)"):
        param_importances(_study([0.5]))
    with pytest.raises(SectionUnavailable, match="all 3 completed trials scored 0.5000"):
        param_importances(_study([0.5, 0.5, 0.5]))
    content = param_importances(_study([0.2, 0.5, 0.4]))
    assert list(content.figures[0].data[0].y) == ["lr"]


def test_learning_curves_show_pruned_trials_dotted_and_say_so_when_empty() -> None:
    figure = learning_curves(_study([0.4, None], pruned_at=1)).figures[0]
    styles = {trace.name: trace.line.dash for trace in figure.data}
    assert styles == {"#0 complete": "solid", "#1 pruned at epoch 1": "dot"}
    with pytest.raises(SectionUnavailable, match="Needs more trials: the learning curves"):
        learning_curves(optuna.create_study())


def test_confusion_counts_give_back_the_same_metrics() -> None:
    counts = np.random.default_rng(0).integers(0, 9, (7, 7))
    result = result_from_confusion_counts(counts.tolist())
    np.testing.assert_array_equal(result.confusion_counts, counts)
    assert result.accuracy == pytest.approx(np.trace(counts) / counts.sum())
    with pytest.raises(SectionUnavailable, match=r"7x7 matrix of counts >= 0 \(got shape \(2, 2\)\)"):
        result_from_confusion_counts([[1, 0], [0, 1]])


def test_page_inlines_plotly_once_and_escapes_text() -> None:
    content = SectionContent(caption="a <b>caption</b>", figures=(param_importances(_study([0.1, 0.3])).figures[0],))
    figure = content.figures[0]
    figure.update_layout(title={"text": "</script><script>alert(1)</script>"})
    page = render_page("Study <x>", "sub", [Section("First", content), Section("Second", note="not yet")])
    assert page.count("plotly.js v") == 1
    assert "Study &lt;x&gt;" in page and "a &lt;b&gt;caption&lt;/b&gt;" in page
    (payload,) = FIGURE_PATTERN.findall(page)
    assert json.loads(payload)["layout"]["title"]["text"] == "</script><script>alert(1)</script>"
    assert '<p class="note">not yet</p>' in page


def test_report_refuses_a_study_not_made_by_search_run() -> None:
    with pytest.raises(LookupError, match="was not created by `python -m search run`"):
        build_report(optuna.create_study(study_name="plain"))


def test_default_path_is_a_safe_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_report_path("a/b c") == tmp_path / "mlruns" / "reports" / "a_b_c.html"
