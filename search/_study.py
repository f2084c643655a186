"""Opening, checking and recovering the Optuna study behind a search."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search._settings import StudySettings

SETTINGS_ATTR = "fer.settings"
FINGERPRINT_ATTR = "fer.data_fingerprint"
SPACE_ATTR = "fer.space"
PARENT_RUN_ATTR = "fer.mlflow_parent_run_id"
EXPERIMENT_ATTR = "fer.mlflow_experiment_id"
TEST_SCORE_ATTR = "fer.test_score"

# Trial user attributes.
RUN_ID_ATTR = "mlflow_run_id"
WORKER_ATTR = "worker"
REASON_ATTR = "fail_reason"
RETRY_OF_ATTR = "retry_of"
CANDIDATE_ATTR = "candidate"
MODEL_URI_ATTR = "model_uri"
MODEL_ID_ATTR = "model_id"
N_PARAMS_ATTR = "n_params"
MACS_ATTR = "macs"
INTERRUPTED = "interrupted"


class StudyMismatchError(ValueError):
    """The named study exists but was created for another space or other data."""


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """An RDB storage for ``url``; SQLite waits for locks instead of failing at once."""
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)


def open_study(
    settings: StudySettings, storage: optuna.storages.BaseStorage, sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Creates the study, or loads it when it exists (resume)."""
    return optuna.create_study(
        storage=storage, study_name=settings.study_name, sampler=sampler, pruner=pruner,
        direction="maximize", load_if_exists=True,
    )


def check_compatible(study: optuna.Study, space_name: str, data_fingerprint: str) -> None:
    """Refuses to resume a study with another space or other data; stamps a new study with both."""
    attrs = study.user_attrs
    if SPACE_ATTR not in attrs:
        study.set_user_attr(SPACE_ATTR, space_name)
        study.set_user_attr(FINGERPRINT_ATTR, data_fingerprint)
        return
    if attrs[SPACE_ATTR] != space_name or attrs[FINGERPRINT_ATTR] != data_fingerprint:
        raise StudyMismatchError(
            f"Study {study.study_name!r} was created with space {attrs[SPACE_ATTR]!r} on data "
            f"{attrs[FINGERPRINT_ATTR][:12]}; this command uses space {space_name!r} on data "
            f"{data_fingerprint[:12]}. Pass --study NEW_NAME to start a separate study."
        )


def worker_id() -> str:
    """``host:pid`` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_counted(trial: FrozenTrial) -> bool:
    """A finished trial that counts towards ``--trials`` (interrupted ones are run again)."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and trial.user_attrs.get(REASON_ATTR) != INTERRUPTED


def n_counted(study: optuna.Study) -> int:
    return sum(is_counted(t) for t in study.get_trials(deepcopy=False))


def _worker_is_dead(trial: FrozenTrial) -> bool:
    """True when the trial's worker ran on this machine and its process no longer exists."""
    worker = trial.user_attrs.get(WORKER_ATTR)
    if worker is None:
        # Just asked by a live worker that has not tagged it yet, or orphaned long ago.
        started = trial.datetime_start
        return started is not None and (datetime.now() - started).total_seconds() > 120
    host, _, pid_text = str(worker).rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's worker: its liveness is the storage heartbeat's business
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # a previous process with our (reused) pid: we have not started any trial yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_dead_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Marks RUNNING trials whose process died as failed ("interrupted"); returns them."""
    dead = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if _worker_is_dead(t)]
    for trial in dead:
        study._storage.set_trial_user_attr(trial._trial_id, REASON_ATTR, INTERRUPTED)
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    return dead


def requeue_interrupted(study: optuna.Study) -> int:
    """Enqueues, once each, the parameters of trials that were interrupted, so they run again."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get(RETRY_OF_ATTR) for t in trials}
    n_enqueued = 0
    for trial in trials:
        interrupted = trial.state == TrialState.FAIL and trial.user_attrs.get(REASON_ATTR) == INTERRUPTED
        if interrupted and trial.number not in retried and trial.params:
            study.enqueue_trial(trial.params, user_attrs={RETRY_OF_ATTR: trial.number}, skip_if_exists=False)
            n_enqueued += 1
    return n_enqueued


def latest_study_name(storage: optuna.storages.BaseStorage) -> str:
    """The most recently started study in ``storage`` (the default of best/test/promote)."""
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not summaries:
        raise LookupError("No study found in the storage; run `python -m search run` first.")
    dated = [s for s in summaries if s.datetime_start is not None] or summaries
    return max(dated, key=lambda s: (s.datetime_start is not None, s.datetime_start or 0)).study_name


def load_existing_study(storage: optuna.storages.BaseStorage, name: str | None) -> optuna.Study:
    """Loads the named study (default: the latest); a clear error when it does not exist."""
    study_name = name or latest_study_name(storage)
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        known = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
        raise LookupError(
            f"No study named {study_name!r}; known studies: {', '.join(known) or 'none'}"
        ) from None
