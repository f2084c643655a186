"""``run``: open or resume a study, run trials until it has ``--trials`` finished ones, select, test once."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from search import study as st
from search.engines._optuna_loop import run_optuna_trials
from search.errors import SearchError
from search.paths import default_tracking_uri
from search.selection import TestScore, recorded_test_score, score_selected_model
from search.signals import sigterm_as_keyboard_interrupt
from search.study import (
    KERAS_TUNER,
    WORKER_ENV,
    CandidateSource,
    StudyData,
    StudyProgress,
    StudySettings,
    TrialExecutor,
    load_study_data,
    make_pruner,
    make_sampler,
    study_lock,
    worker_label,
)
from search.tracking import (
    CLASS_COUNTS_ARTIFACT,
    CLASS_COUNTS_TEXT_ARTIFACT,
    N_TRIALS_REQUESTED_TAG,
    SETTINGS_ARTIFACT,
    SPACE_ARTIFACT,
    StudyTracker,
    state_count_tag,
)


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


def run_study(settings: StudySettings, source: CandidateSource, *, progress_stream: Any = None,
              retry_s: float = st.DEFAULT_RETRY_S) -> StudyRun:
    """Runs (or resumes, or joins) the study described by ``settings`` over candidates from ``source``.

    Several processes, on one machine or several, may run this on the same study at once: each takes
    queued trials until the study has ``settings.n_trials`` counted trials; the last one to finish
    selects and scores the test split once.

    Raises:
        InfrastructureError: The storage, the tracking store or the disk failed (past ``retry_s`` seconds
            of retries during trials); nothing unfinished was counted and no test score happened.
    """
    with sigterm_as_keyboard_interrupt():
        try:
            return _run_study(settings, source, progress_stream, retry_s)
        except SearchError:
            raise
        except Exception as error:
            if not st.is_infrastructure_error(error):
                raise
            services = st.url_services(settings.storage, default_tracking_uri())
            raise st.unreachable(error, services) from error


def _run_study(settings: StudySettings, source: CandidateSource, progress_stream: Any,
               retry_s: float = st.DEFAULT_RETRY_S) -> StudyRun:
    if settings.engine == KERAS_TUNER:
        from search.engines._keras_tuner import check_keras_tuner_run

        check_keras_tuner_run(settings, source)  # before any study is created
    # The data is loaded (and validated) before any store, study or run exists: bad data leaves nothing.
    data = load_study_data(settings.data, split=settings.split, subset=settings.subset, seed=settings.seed,
                           dedupe=settings.dedupe)
    lock = functools.partial(study_lock, settings.storage, settings.study_name)
    # Creating the stores, the study and its parent run is serialised between workers: SQLite schema
    # creation and MLflow's database migrations are not safe to run twice at once.
    with lock():
        storage = st.open_storage(settings.storage, heartbeat_s=settings.heartbeat_s)
        tracker = StudyTracker(settings.study_name)
        study = st.open_study(
            settings, storage, make_sampler(settings.sampler, settings.seed),
            make_pruner(settings.pruner, settings.max_epochs),
        )
    progress = StudyProgress(settings.n_trials, st.n_counted(study), stream=progress_stream,
                             timeout_s=settings.timeout_s)
    with lock():
        st.check_compatible(study, _definition(settings, source, data))
        study.sampler = make_sampler(settings.sampler, _process_seed(study, settings.seed))
        parent_run_id = _open_parent_run(study, tracker, settings, source, data)

    def recover(close_runs: bool = False) -> None:
        """Recovers dead and interrupted trials (call under the lock) and says so when it did anything."""
        recovery = st.recover(study, tracker, parent_run_id, close_runs=close_runs, max_crashes=settings.max_crashes)
        if recovery:
            progress.message(recovery.describe())

    with lock():
        recover(close_runs=True)
    executor = TrialExecutor(
        study, source, data, tracker, parent_run_id, max_epochs=settings.max_epochs,
        keep_top=settings.keep_top, seed=settings.seed, progress=progress, run_tags=settings.engine_tags(),
        retry_s=retry_s, max_latency_ms=settings.max_latency_ms,
    )
    if settings.engine == KERAS_TUNER:
        from search.engines._keras_tuner import run_keras_tuner_trials

        interrupted = run_keras_tuner_trials(study, executor, settings, source, lock, progress, recover)
    else:
        interrupted = run_optuna_trials(study, executor, settings, lock, progress, recover)

    with lock():
        tracker.set_tags(parent_run_id, {state_count_tag(k): v for k, v in st.state_counts(study).items()})
        score, newly_scored = recorded_test_score(study), False
        last_worker = st.n_running(study) == 0
        finished = st.n_counted(study) >= settings.n_trials
        scorable = last_worker and finished and not interrupted and score is None and st.has_complete(study)
        if scorable and not settings.defer_test:  # defer_test: stage 2 selects; the test split waits for it
            score, newly_scored = score_selected_model(study, data, tracker, parent_run_id), True
        elif last_worker and not finished and not interrupted and score is None:
            progress.message(f"{st.n_counted(study)} of {settings.n_trials} trials finished: the test split is "
                             "kept for when the study is complete (run the same command again).")
        if last_worker:
            tracker.close_run(parent_run_id, "KILLED" if interrupted else "FINISHED")
    return StudyRun(study, tracker, parent_run_id, data, interrupted, score, newly_scored)



def _definition(settings: StudySettings, source: CandidateSource, data: StudyData) -> dict[str, str]:
    """What makes a study's trials comparable; a resumed study must match it."""
    definition = {
        "space": source.name,
        "space_text": hashlib.sha256(source.source_text.encode()).hexdigest(),
        "data": data.fingerprints["splits"],
        "train": data.fingerprints["train"],
        "max_epochs": str(settings.max_epochs),
    }
    if settings.engine == KERAS_TUNER:  # Optuna studies keep the definition they had before engines existed
        definition.update({"engine": settings.engine, "tuner": settings.tuner})
    return definition


def _process_seed(study: optuna.Study, seed: int) -> int:
    """The sampler's seed in this process.

    A new study run by one process uses ``seed`` as given (reproducible). A resumed study, or one shared
    by several workers, gets a seed derived from it, the trials so far, the worker and the process, so that
    no two processes replay the same random proposals.
    """
    if not study.trials and worker_label() == "":
        return seed
    entropy = [seed, len(study.trials), int(os.environ.get(WORKER_ENV, "0")), os.getpid()]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _open_parent_run(study: optuna.Study, tracker: StudyTracker, settings: StudySettings,
                     source: CandidateSource, data: StudyData) -> str:
    run_id, created = tracker.open_parent_run()
    if created:
        study.set_user_attr(st.PARENT_RUN_ATTR, run_id)
        study.set_user_attr(st.EXPERIMENT_ATTR, tracker.experiment_id)
        study.set_user_attr(st.SETTINGS_ATTR, settings.to_dict())
        unlogged = ("n_trials", "timeout_s", "defer_test") + (("tuner",) if settings.engine != KERAS_TUNER else ())
        tracker.log_params(run_id, {f"search.{k}": v for k, v in settings.to_dict().items() if k not in unlogged})
        tracker.log_params(run_id, {f"data.{k}": v for k, v in data.describe().items()})
        tracker.log_params(run_id, {f"fingerprint.{k}": v for k, v in data.fingerprints.items()})
        tracker.log_text(run_id, source.source_text, SPACE_ARTIFACT)
        table = data.splits.class_count_table()
        tracker.log_text(run_id, table.to_csv(), CLASS_COUNTS_ARTIFACT)
        tracker.log_text(run_id, table.to_string(), CLASS_COUNTS_TEXT_ARTIFACT)
        st.record_audit(tracker, run_id, data)  # cheap (seconds on FER2013): duplicates, conflicts, blanks
    tracker.set_tags(run_id, {N_TRIALS_REQUESTED_TAG: settings.n_trials, **settings.engine_tags()})
    tracker.log_dict(run_id, settings.to_dict(), SETTINGS_ARTIFACT)
    # On every open, not only the first: a study made before datasets were recorded gets them when resumed.
    tracker.log_dataset_inputs(run_id, data.split_datasets(("train", "validation", "test")))
    return run_id
