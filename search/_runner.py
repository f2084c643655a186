"""``run``: open or resume a study, run trials until it has ``--trials`` finished ones, select, test once."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import optuna

from search import _study as st
from search._candidates import CandidateSource
from search._data import StudyData, load_study_data
from search._progress import StudyProgress
from search._registry import make_pruner, make_sampler
from search._settings import StudySettings
from search._test_score import TestScore, recorded_test_score, score_selected_model
from search._tracking import StudyTracker
from search._trial import TrialExecutor


@dataclass(frozen=True)
class StudyRun:
    """What one invocation of ``run`` left behind."""

    study: optuna.Study
    tracker: StudyTracker
    parent_run_id: str
    data: StudyData
    interrupted: bool
    test_score: TestScore | None
    newly_scored: bool


def run_study(settings: StudySettings, source: CandidateSource, *, progress_stream: Any = None) -> StudyRun:
    """Runs (or resumes) the study described by ``settings`` over candidates from ``source``."""
    data = load_study_data(settings.data, split=settings.split, subset=settings.subset, seed=settings.seed)
    tracker = StudyTracker(settings.study_name)
    storage = st.open_storage(settings.storage)
    study = st.open_study(
        settings, storage, make_sampler(settings.sampler, settings.seed),
        make_pruner(settings.pruner, settings.max_epochs),
    )
    st.check_compatible(study, source.name, data.fingerprints["splits"])
    parent_run_id = _open_parent_run(study, tracker, settings, source, data)
    _recover(study, tracker, parent_run_id)

    progress = StudyProgress(settings.n_trials, st.n_counted(study), stream=progress_stream)
    executor = TrialExecutor(
        study, source, data, tracker, parent_run_id, max_epochs=settings.max_epochs,
        keep_top=settings.keep_top, seed=settings.seed, progress=progress,
    )
    interrupted = _run_trials(study, executor, settings, progress)
    tracker.set_tags(parent_run_id, {f"fer.n_{k}": v for k, v in _counts(study).items()})

    score, newly_scored = recorded_test_score(study), False
    if not interrupted and score is None and _has_complete(study):
        score, newly_scored = score_selected_model(study, data, tracker, parent_run_id), True
    tracker.close_run(parent_run_id, "KILLED" if interrupted else "FINISHED")
    return StudyRun(study, tracker, parent_run_id, data, interrupted, score, newly_scored)


def _run_trials(study: optuna.Study, executor: TrialExecutor, settings: StudySettings,
                progress: StudyProgress) -> bool:
    """Runs trials until the count is reached or time is up; True when interrupted (Ctrl-C/SIGTERM)."""
    deadline = time.monotonic() + settings.timeout_s if settings.timeout_s else None
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        while st.n_counted(study) < settings.n_trials:
            if deadline is not None and time.monotonic() >= deadline:
                progress.message(f"--timeout of {settings.timeout_s:g}s reached: no new trial is started.")
                break
            executor.run_one()
    except KeyboardInterrupt:
        progress.message("Interrupted: the current trial was recorded as failed (interrupted); "
                         "run the same command again to resume.")
        return True
    finally:
        signal.signal(signal.SIGTERM, previous)
    return False


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _open_parent_run(study: optuna.Study, tracker: StudyTracker, settings: StudySettings,
                     source: CandidateSource, data: StudyData) -> str:
    run_id, created = tracker.open_parent_run()
    if created:
        study.set_user_attr(st.PARENT_RUN_ATTR, run_id)
        study.set_user_attr(st.EXPERIMENT_ATTR, tracker.experiment_id)
        study.set_user_attr(st.SETTINGS_ATTR, settings.to_dict())
        tracker.log_params(run_id, {f"search.{k}": v for k, v in settings.to_dict().items()
                                    if k not in ("n_trials", "timeout_s")})
        tracker.log_params(run_id, {f"data.{k}": v for k, v in data.describe().items()})
        tracker.log_params(run_id, {f"fingerprint.{k}": v for k, v in data.fingerprints.items()})
        tracker.log_text(run_id, source.source_text, "space.yaml")
        table = data.splits.class_count_table()
        tracker.log_text(run_id, table.to_csv(), "data/class_counts.csv")
        tracker.log_text(run_id, table.to_string(), "data/class_counts.txt")
    tracker.set_tags(run_id, {"fer.n_trials_requested": settings.n_trials})
    tracker.log_dict(run_id, settings.to_dict(), "search_settings.json")
    return run_id


def _recover(study: optuna.Study, tracker: StudyTracker, parent_run_id: str) -> None:
    """Closes what a dead process left open and queues its interrupted trials to run again."""
    st.fail_dead_trials(study)
    live = {t.user_attrs.get(st.RUN_ID_ATTR) for t in study.get_trials(deepcopy=False, states=(
        optuna.trial.TrialState.RUNNING,))}
    n_closed = tracker.close_stale_trial_runs(parent_run_id, {r for r in live if r})
    n_requeued = st.requeue_interrupted(study)
    if n_closed or n_requeued:
        print(f"Resuming: closed {n_closed} stale run(s), re-queued {n_requeued} interrupted trial(s).",
              file=sys.stderr)


def _counts(study: optuna.Study) -> dict[str, int]:
    from search._selection import state_counts

    return state_counts(study)


def _has_complete(study: optuna.Study) -> bool:
    return any(t.state == optuna.trial.TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
