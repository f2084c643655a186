"""Opening, checking and recovering the Optuna study behind a search."""

from __future__ import annotations

import os
import socket
import warnings
from datetime import datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search._errors import NotFoundError
from search._settings import StudySettings

SETTINGS_ATTR = "fer.settings"
FINGERPRINT_ATTR = "fer.data_fingerprint"
DEFINITION_ATTR = "fer.definition"
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
QUEUE_WAIT_ATTR = "queue_wait_s"
INTERRUPTED = "interrupted"


DEFAULT_HEARTBEAT_S = 30


class StudyMismatchError(ValueError):
    """The named study exists but was created for another space or other data."""


class StorageError(RuntimeError):
    """The study storage cannot be reached or refused us (the message never shows a password)."""


def open_storage(url: str, *, heartbeat_s: int = DEFAULT_HEARTBEAT_S) -> optuna.storages.BaseStorage:
    """An RDB storage for ``url`` with trial heartbeats, so a dead worker's trial is detected.

    SQLite waits for locks instead of failing at once. A trial whose heartbeat is older than twice
    ``heartbeat_s`` counts as dead.

    Raises:
        StorageError: The storage cannot be reached, or refuses the credentials.
    """
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
        _create_parent_folder(url)
    try:
        return optuna.storages.RDBStorage(
            url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_s, grace_period=2 * heartbeat_s
        )
    except Exception as error:  # noqa: BLE001 - driver errors vary: report them in one line
        raise StorageError(f"Cannot open the study storage {redact_url(url)}: {first_line(error)}") from None


def _create_parent_folder(sqlite_url: str) -> None:
    from sqlalchemy.engine import make_url

    database = make_url(sqlite_url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a database URL: nothing to hide that we can parse
        return url
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def first_line(error: BaseException) -> str:
    """The first line of a (database driver) error, for one-line messages."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def open_study(
    settings: StudySettings, storage: optuna.storages.BaseStorage, sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Creates the study, or loads it when it exists (resume)."""
    return optuna.create_study(
        storage=storage, study_name=settings.study_name, sampler=sampler, pruner=pruner,
        direction="maximize", load_if_exists=True,
    )


def check_compatible(study: optuna.Study, definition: dict[str, str]) -> None:
    """Refuses to resume a study whose definition differs; stamps a new study with it.

    ``definition`` names what makes trials comparable: the space (name and text), the data and split
    fingerprints, the training subset and the epoch budget.
    """
    recorded = study.user_attrs.get(DEFINITION_ATTR)
    if recorded is None:
        study.set_user_attr(DEFINITION_ATTR, definition)
        study.set_user_attr(SPACE_ATTR, definition["space"])
        study.set_user_attr(FINGERPRINT_ATTR, definition["data"])
        return
    changed = sorted(key for key in definition.keys() | recorded.keys() if definition.get(key) != recorded.get(key))
    if changed:
        details = "; ".join(f"{key}: {_short(recorded.get(key))} -> {_short(definition.get(key))}" for key in changed)
        raise StudyMismatchError(
            f"Study {study.study_name!r} was created with another definition ({details}). Its trials would not "
            "be comparable with this command's. Pass --study NEW_NAME to start a separate study."
        )


def _short(value: object) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text


def worker_id() -> str:
    """``host:pid`` of this process, recorded on every trial it runs."""
    return f"{os.environ.get('FER_SEARCH_WORKER_HOST') or socket.gethostname()}:{os.getpid()}"


def is_interrupted(trial: FrozenTrial) -> bool:
    """A trial that failed because its process stopped (Ctrl-C, SIGTERM, death): it is run again.

    A trial failed by a heartbeat check carries no reason; one stopped by a signal says "interrupted".
    """
    return trial.state == TrialState.FAIL and trial.user_attrs.get(REASON_ATTR, INTERRUPTED) == INTERRUPTED


def is_counted(trial: FrozenTrial) -> bool:
    """A finished trial that counts towards ``--trials`` (interrupted ones are run again)."""
    return trial.state.is_finished() and not is_interrupted(trial)


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


def fail_dead_trials(study: optuna.Study) -> int:
    """Fails RUNNING trials whose worker is gone; returns how many.

    Two checks: a worker process on this machine that no longer exists (immediate), and, for any
    machine, a heartbeat older than the storage's grace period (``optuna.storages.fail_stale_trials``).
    """
    dead = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if _worker_is_dead(t)]
    for trial in dead:
        study._storage.set_trial_user_attr(trial._trial_id, REASON_ATTR, INTERRUPTED)
        try:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # it finished meanwhile
    n_running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    n_stale = n_running - len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    return len(dead) + max(n_stale, 0)


def requeue_interrupted(study: optuna.Study) -> int:
    """Enqueues, once each, the parameters of trials that were interrupted, so they run again."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get(RETRY_OF_ATTR) for t in trials}
    n_enqueued = 0
    for trial in trials:
        if is_interrupted(trial) and trial.number not in retried:
            study.enqueue_trial(trial.params, user_attrs={RETRY_OF_ATTR: trial.number}, skip_if_exists=False)
            n_enqueued += 1
    return n_enqueued


def ensure_slots(study: optuna.Study, n_trials: int) -> int:
    """Queues one empty trial ("slot") when none is queued and the study still needs trials.

    Workers only ever run queued trials, so however many of them share the study, it ends with exactly
    ``n_trials`` counted trials. Call under the study lock, right before claiming. One slot at a time: a
    time-boxed study with a large ``--trials`` never fills its storage with thousands of queued trials.
    Returns the number of slots added (0 or 1).
    """
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.WAITING for t in trials):
        return 0
    n_pending = sum(is_counted(t) or t.state == TrialState.RUNNING for t in trials)
    if n_pending >= n_trials:
        return 0
    study.enqueue_trial({}, skip_if_exists=False)
    return 1


def claim_queued_trial(study: optuna.Study) -> optuna.Trial | None:
    """Takes one queued trial (atomically: the storage lets only one worker move it to RUNNING).

    Unlike ``Study.ask``, it never creates a trial when the queue is empty: it returns None.
    """
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if not study._storage.set_trial_state_values(frozen._trial_id, state=TrialState.RUNNING):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        # As Study.ask does: make the sampler see the trials finished since the last one.
        study._thread_local.cached_all_trials = None
        return optuna.Trial(study, frozen._trial_id)
    return None


def run_is_orphaned(study: optuna.Study, settle_s: float = 60.0) -> Callable[[int], bool]:
    """A predicate over trial numbers: is a still-RUNNING MLflow run of that trial left without an owner?

    True when the trial is unknown, was interrupted, or finished more than ``settle_s`` ago (its worker
    died between telling the study and closing the run). A trial that finished just now is not: its own
    worker is closing the run.
    """
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    now = datetime.now()

    def orphaned(number: int) -> bool:
        trial = trials.get(number)
        if trial is None or is_interrupted(trial):
            return True
        if trial.state.is_finished() and trial.datetime_complete is not None:
            return (now - trial.datetime_complete).total_seconds() > settle_s
        return False

    return orphaned


def n_running(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def latest_study_name(storage: optuna.storages.BaseStorage) -> str:
    """The most recently started study in ``storage`` (the default of best/test/promote)."""
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not summaries:
        raise NotFoundError("No study found in the storage; run `python -m search run` first.")
    dated = [s for s in summaries if s.datetime_start is not None] or summaries
    return max(dated, key=lambda s: (s.datetime_start is not None, s.datetime_start or 0)).study_name


def load_existing_study(storage: optuna.storages.BaseStorage, name: str | None) -> optuna.Study:
    """Loads the named study (default: the latest); a clear error when it does not exist."""
    study_name = name or latest_study_name(storage)
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        known = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
        raise NotFoundError(
            f"No study named {study_name!r}; known studies: {', '.join(known) or 'none'}"
        ) from None
