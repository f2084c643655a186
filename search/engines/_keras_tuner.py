"""``run --engine keras-tuner``: a Keras Tuner oracle proposes the trials, the Optuna study records them.

The Optuna study stays the record of the study (selection, the one test score and promotion read it).
Each Keras Tuner trial becomes one Optuna trial: its parameters are enqueued, the queued trial is claimed
and run by the same ``TrialExecutor`` as the Optuna engine (same MLflow runs, states, reasons, kept
models), and its validation accuracy goes back to the oracle. Keras Tuner keeps its project folder in
``./mlruns/keras_tuner/<study>`` and saves the oracle after every trial, so the same command resumes it:

* a trial interrupted while running: the Optuna trial is recorded as interrupted and queued again (as in
  the Optuna engine); the reloaded oracle hands out the same Keras Tuner trial again, which claims it;
* a trial told to the study but not yet to the oracle (a crash in between): its recorded result is given
  to the oracle without training it again.

Hyperband trials train to ``tuner/epochs``; a later round continues the earlier trial's saved weights
(``trial_<id>/checkpoint.weights.h5``) from ``tuner/initial_epoch``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from search import study as st
from search.engines._kt_space import KerasTunerSpace, to_keras_tuner
from search.errors import SettingsError, StudyMismatchError
from search.paths import atomic_write_text, keras_tuner_dir
from search.study import StudySettings, TrialPlan
from search.tracking import (
    KT_BRACKET_TAG,
    KT_CONTINUES_TAG,
    KT_EPOCHS_TAG,
    KT_INITIAL_EPOCH_TAG,
    KT_ROUND_TAG,
    KT_TRIAL_ID_TAG,
    TrialState,
)
from spaces import Fixed, SearchSpace

if TYPE_CHECKING:
    import keras_tuner

    from search.study import CandidateSource, StudyProgress, TrialExecutor

OBJECTIVE = "val_accuracy"
HYPERBAND_FACTOR = 3
WEIGHTS_FILE = "checkpoint.weights.h5"
TUNER_ID = "fer-search"
"""The one Keras Tuner client of an oracle (one process runs a Keras Tuner study)."""

_UNLIMITED_HYPERBAND_ITERATIONS = 1_000_000
"""Hyperband runs brackets until --trials trials have ended (Keras Tuner's default is one iteration)."""
_UNLIMITED_FAILURES = 1_000_000_000
"""Failed trials count towards --trials as in the Optuna engine; Keras Tuner would stop after 3 in a row."""


def check_keras_tuner_run(settings: StudySettings, source: CandidateSource) -> KerasTunerSpace:
    """Fails early, before any study is created, when the run cannot use Keras Tuner.

    Raises:
        SettingsError: Not a search space, or Hyperband without an epoch budget.
        spaces.SpaceError: A parameter Keras Tuner cannot express.
    """
    if not isinstance(source, SearchSpace):
        raise SettingsError(f"--engine keras-tuner searches a space; {source.name!r} is a fixed candidate")
    kt_space = to_keras_tuner(source)
    if settings.tuner == "hyperband":
        hyperband_max_epochs(settings, source)
    return kt_space


def hyperband_max_epochs(settings: StudySettings, space: SearchSpace) -> int:
    """Hyperband's ``max_epochs``: ``--epochs``, else the space's fixed ``training.epochs``."""
    from fer_core.train import TrainConfig

    if settings.max_epochs is not None:
        return settings.max_epochs
    entry = space.global_entries.get("training.epochs")
    if entry is None:
        return TrainConfig().epochs
    variant = entry.variants[0]
    if len(entry.variants) == 1 and not variant.when and isinstance(variant.spec, Fixed):
        return int(variant.spec.value)
    raise SettingsError(f"--tuner hyperband needs --epochs: space {space.name!r} searches training.epochs, and "
                        "Hyperband decides each trial's epochs up to a maximum (got no --epochs)")


def make_oracle(settings: StudySettings, kt_space: KerasTunerSpace) -> keras_tuner.Oracle:
    """The ``--tuner`` oracle over ``kt_space``, seeded with ``--seed``, maximising validation accuracy."""
    import keras_tuner

    common: dict[str, Any] = {
        "objective": keras_tuner.Objective(OBJECTIVE, direction="max"),
        "hyperparameters": kt_space.hyperparameters.copy(),
        "allow_new_entries": False,
        "tune_new_entries": False,
        # Keras Tuner takes a seed of 0 for "draw one at random".
        "seed": settings.seed + 1 if settings.seed >= 0 else settings.seed,
        "max_consecutive_failed_trials": _UNLIMITED_FAILURES,
    }
    if settings.tuner == "random":
        return keras_tuner.oracles.RandomSearchOracle(max_trials=settings.n_trials, **common)
    if settings.tuner == "bayesian":
        n_dimensions = len(kt_space.hyperparameters.space)
        # Keras Tuner's default (3 x dimensions) would leave short studies all random.
        n_initial = min(max(3 * n_dimensions, 3), max(3, settings.n_trials // 4))
        return keras_tuner.oracles.BayesianOptimizationOracle(
            max_trials=settings.n_trials, num_initial_points=n_initial, **common
        )
    return keras_tuner.oracles.HyperbandOracle(
        max_epochs=hyperband_max_epochs(settings, kt_space.space), factor=HYPERBAND_FACTOR,
        hyperband_iterations=_UNLIMITED_HYPERBAND_ITERATIONS, **common,
    )


def open_oracle(settings: StudySettings, kt_space: KerasTunerSpace, study: optuna.Study) -> keras_tuner.Oracle:
    """Creates the study's oracle, or reloads it from its project folder (resume).

    Raises:
        search.errors.StudyMismatchError: The folder and the study disagree (one was deleted or replaced).
    """
    oracle = make_oracle(settings, kt_space)
    oracle.verbose = 0  # the study's progress line reports trials
    folder = keras_tuner_dir(settings.study_name)
    oracle._set_project_dir(str(folder.parent), folder.name)  # noqa: SLF001 - what keras_tuner.Tuner calls
    save_atomically(oracle)
    recorded = {
        t.user_attrs[st.KT_TRIAL_ATTR] for t in study.get_trials(deepcopy=False) if st.KT_TRIAL_ATTR in t.user_attrs
    }
    if (folder / "oracle.json").is_file():
        oracle.reload()
        unknown = sorted(set(oracle.end_order) - recorded)
        if unknown:
            raise StudyMismatchError(
                f"Keras Tuner's project folder {folder} holds ended trials ({', '.join(unknown[:5])}) that study "
                f"{settings.study_name!r} never recorded: it belongs to an earlier study of that name. Delete "
                "the folder to start afresh, or pass --study NEW_NAME."
            )
    elif recorded:
        raise StudyMismatchError(
            f"Study {settings.study_name!r} was run by Keras Tuner, but its project folder {folder} is gone, so its "
            "oracle cannot be resumed. Restore the folder, or pass --study NEW_NAME to start a new study."
        )
    return oracle


def save_atomically(oracle: keras_tuner.Oracle) -> None:
    """Makes ``oracle`` write ``oracle.json`` and each ``trial.json`` whole or not at all (temp file + rename).

    Keras Tuner rewrites them in place, so a process killed mid-write would leave a file the resumed oracle
    cannot read. Its ``save`` and ``_save_trial`` are the only writers; they are replaced on this instance
    by ones that write the same JSON through ``search.paths.atomic_write_text``.
    """

    def save() -> None:
        atomic_write_text(oracle._get_oracle_fname(), json.dumps(oracle.get_state()))  # noqa: SLF001

    def save_trial(trial: Any) -> None:
        trial_dir = Path(oracle._get_trial_dir(trial.trial_id))  # noqa: SLF001
        atomic_write_text(trial_dir / "trial.json", json.dumps(trial.get_state()))

    oracle.save = save
    oracle._save_trial = save_trial  # noqa: SLF001


def run_keras_tuner_trials(
    study: optuna.Study, executor: TrialExecutor, settings: StudySettings, source: CandidateSource,
    lock: Callable[[], ContextManager[None]], progress: StudyProgress, recover: Callable[[], None],
) -> bool:
    """Runs Keras Tuner trials until the study has ``--trials`` counted ones, time is up or the oracle stops.

    ``recover`` fails the trials of dead processes and queues interrupted ones again (call under ``lock``).
    Returns True when interrupted (Ctrl-C, SIGTERM).
    """
    kt_space = check_keras_tuner_run(settings, source)
    with lock():
        oracle = open_oracle(settings, kt_space, study)
    search = _KerasTunerSearch(study, executor, settings, kt_space, oracle, lock, progress, recover)
    return search.run()


@dataclass
class _KerasTunerSearch:
    """The loop of one process: ask the oracle, run the trial through the executor, tell the oracle."""

    study: optuna.Study
    executor: TrialExecutor
    settings: StudySettings
    kt_space: KerasTunerSpace
    oracle: keras_tuner.Oracle
    lock: Callable[[], ContextManager[None]]
    progress: StudyProgress
    recover: Callable[[], None]

    def run(self) -> bool:
        deadline = time.monotonic() + self.settings.timeout_s if self.settings.timeout_s else None
        try:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    self.progress.message(f"--timeout of {self.settings.timeout_s:g}s reached: "
                                          "no new trial is started.")
                    return False
                waiting_since = time.perf_counter()
                with self.lock():
                    trial, kt_trial = self._next_trial()
                if kt_trial is None:
                    return False
                if trial is None:
                    continue  # a recorded result was given to the oracle
                trial.set_user_attr(st.QUEUE_WAIT_ATTR, time.perf_counter() - waiting_since)
                outcome = self.executor.run_one(trial, plan=self._plan(kt_trial))
                self._tell_oracle(kt_trial, outcome.state, outcome.value, outcome.reason)
        except KeyboardInterrupt:
            self.progress.message("Interrupted: the current trial was recorded as failed (interrupted); "
                                  "run the same command again to resume.")
            return True

    # --- one step, under the study lock ----------------------------------------------------------------
    def _next_trial(self) -> tuple[optuna.Trial | None, Any]:
        """The Optuna trial of the oracle's next trial; (None, None) when the search is over."""
        self.recover()
        self._refuse_second_process()
        if st.n_counted(self.study) >= self.settings.n_trials:
            return None, None
        kt_trial = self.oracle.create_trial(TUNER_ID)
        if kt_trial.status != "RUNNING":
            self.progress.message(f"Keras Tuner's {self.settings.tuner} oracle proposes no more trials "
                                  f"({kt_trial.status}): the space is exhausted.")
            return None, None
        recorded = self._recorded_result(kt_trial.trial_id)
        if recorded is not None:
            # Told to the study, not to the oracle, before the last process stopped: replay, do not retrain.
            self._tell_oracle(kt_trial, _state_of(recorded), recorded.value,
                              recorded.user_attrs.get(st.REASON_ATTR))
            return None, kt_trial
        return self._claim(kt_trial), kt_trial

    def _refuse_second_process(self) -> None:
        running = self.study.get_trials(deepcopy=False, states=(OptunaState.RUNNING,))
        if running:
            worker = running[0].user_attrs.get(st.WORKER_ATTR, "another process")
            raise SettingsError(
                f"--engine keras-tuner runs one process per study, and trial #{running[0].number} of study "
                f"{self.study.study_name!r} is running in {worker}; wait for it to end (got a second process)"
            )

    def _recorded_result(self, kt_trial_id: str) -> FrozenTrial | None:
        counted = [t for t in self.study.get_trials(deepcopy=False)
                   if t.user_attrs.get(st.KT_TRIAL_ATTR) == kt_trial_id and st.is_counted(t)]
        return counted[-1] if counted else None

    def _claim(self, kt_trial: Any) -> optuna.Trial:
        """Claims the queued Optuna trial of ``kt_trial`` (its interrupted run's retry), or enqueues one."""
        params = self.kt_space.params(kt_trial.hyperparameters.values)
        queued = self._queued_for(kt_trial.trial_id, params)
        if queued is None:
            self.study.enqueue_trial(params, user_attrs={st.KT_TRIAL_ATTR: kt_trial.trial_id}, skip_if_exists=False)
            queued = self._queued_for(kt_trial.trial_id, params)
        trial = _claim_queued(self.study, queued)
        for key, value in self._attrs(kt_trial).items():
            trial.set_user_attr(key, value)
        return trial

    def _queued_for(self, kt_trial_id: str, params: dict[str, Any]) -> FrozenTrial | None:
        """A waiting trial enqueued for ``kt_trial_id``, or the retry of its interrupted run.

        A retry repeats the parameters its run had recorded; one interrupted before it sampled them all
        is not used (it stays queued, and a trial with the full parameters is enqueued instead).
        """
        trials = self.study.get_trials(deepcopy=False)
        by_number = {t.number: t for t in trials}

        def belongs(trial: FrozenTrial) -> bool:
            if trial.user_attrs.get(st.KT_TRIAL_ATTR) == kt_trial_id:
                return True
            origin = by_number.get(trial.user_attrs.get(st.RETRY_OF_ATTR, -1))
            return (origin is not None and origin.user_attrs.get(st.KT_TRIAL_ATTR) == kt_trial_id
                    and origin.params == params)

        queued = [t for t in trials if t.state == OptunaState.WAITING and belongs(t)]
        return queued[0] if queued else None

    # --- one Keras Tuner trial ----------------------------------------------------------------------------
    def _attrs(self, kt_trial: Any) -> dict[str, Any]:
        values = kt_trial.hyperparameters.values
        attrs: dict[str, Any] = {st.KT_TRIAL_ATTR: kt_trial.trial_id}
        if "tuner/epochs" in values:
            attrs[st.KT_EPOCHS_ATTR] = int(values["tuner/epochs"])
            attrs[st.KT_INITIAL_EPOCH_ATTR] = int(values["tuner/initial_epoch"])
        if values.get("tuner/trial_id") is not None:
            attrs[st.KT_CONTINUES_ATTR] = values["tuner/trial_id"]
        return attrs

    def _plan(self, kt_trial: Any) -> TrialPlan:
        values = kt_trial.hyperparameters.values
        tags = {KT_TRIAL_ID_TAG: kt_trial.trial_id}
        if "tuner/epochs" not in values:
            return TrialPlan(tags=tags)
        epochs, initial_epoch = int(values["tuner/epochs"]), int(values["tuner/initial_epoch"])
        tags.update({KT_BRACKET_TAG: str(values.get("tuner/bracket")), KT_ROUND_TAG: str(values.get("tuner/round")),
                     KT_EPOCHS_TAG: str(epochs)})
        weights = None
        earlier = values.get("tuner/trial_id")
        if earlier is not None and initial_epoch > 0:
            weights = self._weights(earlier)
            if weights.is_file():
                tags.update({KT_CONTINUES_TAG: str(earlier), KT_INITIAL_EPOCH_TAG: str(initial_epoch)})
            else:
                self.progress.message(f"The weights of Keras Tuner trial {earlier} are missing ({weights}): "
                                      f"trial {kt_trial.trial_id} trains from scratch.")
                weights, initial_epoch = None, 0
        return TrialPlan(epochs=epochs, initial_epoch=initial_epoch, initial_weights=weights,
                         save_weights=self._weights(kt_trial.trial_id), tags=tags)

    def _weights(self, kt_trial_id: str) -> Path:
        return keras_tuner_dir(self.settings.study_name) / f"trial_{kt_trial_id}" / WEIGHTS_FILE

    def _tell_oracle(self, kt_trial: Any, state: TrialState, value: float | None, reason: str | None) -> None:
        """Ends ``kt_trial`` in the oracle: COMPLETED with its validation accuracy, or FAILED with the reason.

        An interrupted trial is left running there: the reloaded oracle hands it out again.
        """
        if state == TrialState.INTERRUPTED:
            return
        if value is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            step = int(kt_trial.hyperparameters.values.get("tuner/epochs", 0))
            self.oracle.update_trial(kt_trial.trial_id, {OBJECTIVE: float(value)}, step=step)
            kt_trial.status = "COMPLETED"
        else:
            kt_trial.status = "FAILED"
            kt_trial.message = reason or state.value
        self.oracle.end_trial(kt_trial)


def _state_of(trial: FrozenTrial) -> TrialState:
    """How a counted Optuna trial ended, as the executor reports it."""
    return {OptunaState.COMPLETE: TrialState.COMPLETE, OptunaState.PRUNED: TrialState.PRUNED}.get(
        trial.state, TrialState.FAILED)


def _claim_queued(study: optuna.Study, frozen: FrozenTrial | None) -> optuna.Trial:
    """Moves the queued trial of a Keras Tuner trial to RUNNING (one process runs a Keras Tuner study)."""
    trial = st.claim_trial(study, frozen) if frozen is not None else None
    if trial is None:
        raise RuntimeError("the queued trial of the Keras Tuner trial could not be claimed")
    return trial

