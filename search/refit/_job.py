"""Refits one stage-1 candidate with the full recipe, resumably, as its own MLflow run.

The run is nested under the study's parent run (tags ``fer.role=refit``, ``fer.refit_of=<trial>``,
``fer.state``). An interrupted refit's run is ended KILLED (``fer.state=interrupted``); running the same
command again continues the SAME run from the last checkpointed epoch (``fer.n_resumes`` counts the
continuations, metric steps go on where they stopped), so each refit has exactly one run.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from search import study as st
from search.defaults import DEFAULT_RETRY_S
from search.refit._checkpoint import COMPLETE, FAILED, TRAINING, CheckpointMismatchError, RefitCheckpoint, RefitState
from search.study import epoch_metrics, release_memory, resolve_candidate
from search.tracking import (
    CANDIDATE_ARTIFACT,
    ERROR_ARTIFACT,
    N_RESUMES_TAG,
    OUTCOME_TAG,
    REASON_TAG,
    REFIT_EPOCHS_PARAM,
    REFIT_N_TRAIN_PARAM,
    REFIT_OF_TAG,
    REFIT_OF_TRIAL_PARAM,
    REFIT_PATIENCE_PARAM,
    REFIT_ROLE,
    STATE_TAG,
    StudyTracker,
)

if TYPE_CHECKING:
    import keras
    from optuna.trial import FrozenTrial

    from search.refit._progress import RefitProgress
    from search.study import StudyData


@dataclass(frozen=True)
class RefitResult:
    """How one refit ended (read back from its checkpoint state).

    Args:
        trial: The stage-1 trial it refits.
        state: ``complete`` or ``failed``.
        run_id: Its MLflow run.
        epochs_run: Epochs trained in all (every process together).
        best_epoch: The epoch whose weights the model has (1-based).
        val_accuracy: Validation accuracy of the final model without TTA.
        model_uri: The logged MLflow model (complete refits).
        n_params: Parameters of the model.
        n_resumes: Times it was continued after an interruption.
        reason: Why it failed.
    """

    trial: int
    state: str
    run_id: str
    epochs_run: int
    best_epoch: int | None
    val_accuracy: float | None
    model_uri: str | None
    n_params: int | None
    n_resumes: int
    reason: str | None = None

    @classmethod
    def from_state(cls, state: RefitState) -> RefitResult:
        return cls(trial=state.trial, state=state.status, run_id=state.run_id, epochs_run=state.epochs_done,
                   best_epoch=state.best_epoch, val_accuracy=state.val_accuracy.get("none"),
                   model_uri=state.model_uri, n_params=state.n_params, n_resumes=state.n_resumes,
                   reason=state.reason)


class RefitJob:
    """Refits one trial's candidate; ``run()`` trains, continues or just reports it.

    Args:
        trial: The completed stage-1 trial (its ``candidate`` user attr is refit).
        data: The study's data with the FULL training split as ``train``.
        tracker: The study's MLflow tracker.
        parent_run_id: The study's parent run (the refit run is nested under it).
        checkpoint: The refit's checkpoint folder.
        n_epochs: ``--epochs``.
        patience: ``--patience`` (early stopping on validation accuracy; best weights are kept).
        seed: The study's seed (training uses seed + trial number, as the trial did).
        progress: Where progress is shown.
        stop_at: ``time.monotonic()`` after which training stops at the end of its epoch (``--timeout``).
        retry_s: How long an unreachable tracking store or failing disk is waited for before the refit
            stops with ``InfrastructureError`` (its checkpoint kept).
    """

    def __init__(self, trial: FrozenTrial, data: StudyData, tracker: StudyTracker, parent_run_id: str,
                 checkpoint: RefitCheckpoint, *, n_epochs: int, patience: int, seed: int,
                 progress: RefitProgress, stop_at: float | None = None, retry_s: float = DEFAULT_RETRY_S) -> None:
        self.trial = trial
        self.stop_at = stop_at
        self.data = data
        self.tracker = tracker
        self.parent_run_id = parent_run_id
        self.checkpoint = checkpoint
        self.n_epochs = n_epochs
        self.patience = patience
        self.seed = seed
        self.progress = progress
        self.faults = st.FaultRetry([st.tracking_service(tracker.tracking_uri)], retry_s,
                                    notify=progress.message)

    def run(self) -> RefitResult:
        """Trains (or continues) the refit and logs its model; a finished refit is only read back.

        An infrastructure failure (tracking store unreachable, disk full) is not the candidate's: the refit
        is not failed, its checkpoint is kept, and once the store answers it continues from there.

        Raises:
            KeyboardInterrupt: Ctrl-C / SIGTERM; the run is ended KILLED and the checkpoint kept.
            CheckpointMismatchError: An unfinished refit was started with other --epochs / --patience.
            InfrastructureError: The store stayed unreachable past the retry budget; the checkpoint is
                kept and the same command continues the refit.
        """
        while True:
            try:
                result = self._run_once()
            except Exception as error:
                if not st.is_infrastructure_error(error):
                    raise
                self.faults.ride_out(error, f"the refit of trial #{self.trial.number}")
            else:
                self.faults.succeeded()
                return result

    def _run_once(self) -> RefitResult:
        state = self.checkpoint.load()
        if state is not None and state.status in (COMPLETE, FAILED):
            self.progress.skip(self.trial.number, state.status)
            return RefitResult.from_state(state)
        state = self._open(state)
        started = time.perf_counter()
        try:
            model = self._train(state)
            if state.status == TRAINING:
                self._finish(state, model)
        except KeyboardInterrupt:
            self._end_interrupted_quietly(state, "interrupted: run the same command again to resume")
            raise
        except CheckpointMismatchError as error:
            self._end_run(state, "interrupted", "KILLED", str(error))
            raise
        except Exception as error:  # noqa: BLE001 - one bad refit must not stop the others
            if st.is_infrastructure_error(error):
                self._end_interrupted_quietly(state, f"interrupted: {st.fault_summary(error)}")
                raise  # not the candidate's fault: never recorded as failed; run() waits and continues it
            self._fail(state, f"{type(error).__name__}: {error}")
        finally:
            self._log_duration(state, time.perf_counter() - started)
            release_memory()
        return RefitResult.from_state(state)

    def _log_duration(self, state: RefitState, duration_s: float) -> None:
        """Logs the refit's duration; an unreachable store loses it rather than hide the error in flight."""
        try:
            self.tracker.log_metrics(state.run_id, {"duration_s": duration_s}, step=state.n_resumes)
        except Exception as error:
            if not st.is_infrastructure_error(error):
                raise

    def _end_interrupted_quietly(self, state: RefitState, reason: str) -> None:
        """Ends the run KILLED with ``reason`` when the store answers (else the next resume reopens it)."""
        try:
            self._end_run(state, "interrupted", "KILLED", reason)
        except Exception as second:
            if not st.is_infrastructure_error(second):
                raise

    # --- the run -------------------------------------------------------------------------------------
    def _open(self, state: RefitState | None) -> RefitState:
        """Starts the refit's run, or reopens the interrupted one (same run) and fills metric gaps."""
        if state is None:
            self._close_orphaned_runs()
            state = self._new_state(self._start_run())
            self.checkpoint.commit(state)
            self.progress.start(self.trial.number, resumed_from=0)
            return state
        if (state.n_epochs, state.patience) != (self.n_epochs, self.patience):
            raise CheckpointMismatchError(
                f"The refit of trial #{state.trial} was started with --epochs {state.n_epochs} --patience "
                f"{state.patience} and is unfinished; run refit with those values to continue it, or delete "
                f"{self.checkpoint.directory} to start it again with --epochs {self.n_epochs} --patience "
                f"{self.patience}."
            )
        state.n_resumes += 1
        self.checkpoint.commit(state)
        self.tracker.reopen_run(state.run_id)
        self.tracker.set_tags(state.run_id, {STATE_TAG: "running", N_RESUMES_TAG: state.n_resumes})
        self._log_missing_epochs(state)
        self.progress.start(self.trial.number, resumed_from=state.epochs_done)
        return state

    def _start_run(self) -> str:
        run_id = self.tracker.start_nested_run(
            self.parent_run_id, self.role, self._run_name(),
            {REFIT_OF_TAG: str(self.trial.number), STATE_TAG: "running", N_RESUMES_TAG: "0", **self._run_tags()},
        )
        self.tracker.log_params(run_id, dict(self.trial.params))
        self.tracker.log_params(run_id, {REFIT_EPOCHS_PARAM: self.n_epochs, REFIT_PATIENCE_PARAM: self.patience,
                                         REFIT_N_TRAIN_PARAM: len(self.data.train),
                                         REFIT_OF_TRIAL_PARAM: self.trial.number, **self._run_params()})
        self.tracker.log_dict(run_id, self.trial.user_attrs.get(st.CANDIDATE_ATTR), CANDIDATE_ARTIFACT)
        self.tracker.log_dataset_inputs(run_id, self.data.split_datasets(("train", "validation")))
        return run_id

    # --- what a subclass (the distilled student) changes ------------------------------------------------
    role = REFIT_ROLE
    """The run's ``fer.role``."""

    def _run_name(self) -> str:
        return f"refit-{self.trial.number:04d}"

    def _run_tags(self) -> dict[str, str]:
        """Tags of the run beyond a refit's own."""
        return {}

    def _run_params(self) -> dict[str, Any]:
        """Params of the run beyond a refit's own."""
        return {}

    def _new_state(self, run_id: str) -> RefitState:
        return RefitState(trial=self.trial.number, n_epochs=self.n_epochs, patience=self.patience, run_id=run_id)

    def _training_config(self, training: Any) -> Any:
        """The TrainConfig to refit with: the candidate's own."""
        return training

    def _prepare(self, model: keras.Model, state: RefitState) -> None:
        """Called on the freshly built model before training (a refit starts from its seeded weights)."""

    def _train_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments of ``fer_core.train.train``."""
        return {}

    def _close_orphaned_runs(self) -> None:
        """Ends runs of this refit that no checkpoint names (a process killed before its first commit)."""
        runs = self.tracker.nested_runs(self.parent_run_id, self.role, tags={REFIT_OF_TAG: str(self.trial.number)},
                                        running_only=True)
        for run in runs:
            self.tracker.set_tags(run.info.run_id, {STATE_TAG: "interrupted",
                                                    REASON_TAG: "its process died before its first checkpoint"})
            self.tracker.close_run(run.info.run_id, status="KILLED")

    def _log_missing_epochs(self, state: RefitState) -> None:
        """Logs checkpointed epochs that MLflow lacks (a process killed between commit and logging)."""
        logged = self.tracker.metric_steps(state.run_id, "val_accuracy")
        for index in range(state.epochs_done):
            if index + 1 not in logged:
                values = {name: series[index] for name, series in state.history.items() if index < len(series)}
                self.tracker.log_metrics(state.run_id, epoch_metrics(values), step=index + 1)

    # --- training ------------------------------------------------------------------------------------
    def _train(self, state: RefitState) -> keras.Model:
        """Builds the candidate's model and trains the epochs left; returns it with the best epoch's weights."""
        import keras

        from fer_core.train import TrainOutcome, train

        candidate = resolve_candidate(self.trial.user_attrs[st.CANDIDATE_ATTR], max_epochs=self.n_epochs)
        keras.utils.set_random_seed(self.seed + self.trial.number)  # the same initial weights every time
        model = candidate.build_model()
        state.n_params = int(model.count_params())
        if not state.training_done:
            if state.epochs_done == 0:
                self._prepare(model, state)
            config, plateau = _refit_training(self._training_config(candidate.training),
                                              seed=self.seed + self.trial.number,
                                              n_resumes=state.n_resumes, steps_per_epoch=self._steps(candidate))
            callback = self._callback(state, plateau)
            last_weights = self.checkpoint.directory / state.weights_file if state.weights_file else None
            validation = self.data.splits.validation
            result = train(
                model, self.data.train.images, self.data.train.labels,
                validation=(validation.images, validation.labels), config=config,
                on_epoch_end=callback.record, verbose=0, initial_epoch=state.epochs_done, initial_weights=last_weights,
                class_weight=self.data.train_class_weights() if config.class_weighting else None,
                callbacks=[*([plateau] if plateau is not None else []), callback], **self._train_kwargs(),
            )
            if result.outcome == TrainOutcome.NAN_LOSS:
                raise FloatingPointError(f"diverged: NaN loss at epoch {state.epochs_done + 1}")
        if state.best_weights_file is None:
            raise FloatingPointError("no epoch finished with a finite loss")
        self.checkpoint.restore_weights(model, state.best_weights_file)
        return model

    def _steps(self, candidate: Any) -> int:
        return int(np.ceil(len(self.data.train) / candidate.training.batch_size))

    def _callback(self, state: RefitState, plateau: Any) -> Any:
        from search.refit._callback import RefitCheckpointCallback

        def on_commit(epoch: int, metrics: dict[str, float]) -> None:
            self.tracker.log_metrics(state.run_id, epoch_metrics(metrics), step=epoch)
            self.progress.epoch(epoch, self.n_epochs, metrics.get("val_accuracy"), state.best_val_accuracy)

        return RefitCheckpointCallback(self.checkpoint, state, plateau=plateau, on_commit=on_commit,
                                       stop_at=self.stop_at)

    # --- the end -------------------------------------------------------------------------------------
    def _finish(self, state: RefitState, model: keras.Model) -> None:
        """Scores the best-epoch model on validation, logs it, commits ``complete``, closes the run."""
        from fer_core.evaluate import evaluate_predictions, predict_proba

        validation = self.data.splits.validation
        probabilities = predict_proba(model, validation.images)
        self.checkpoint.clear_probabilities()
        self.checkpoint.save_probabilities("none", probabilities)
        evaluation = evaluate_predictions(validation.labels, probabilities)
        state.val_accuracy = {"none": float(evaluation.accuracy)}
        state.outcome = ("completed" if state.epochs_done >= state.n_epochs
                         else "timeout" if state.timed_out else "early_stopped")
        self.tracker.log_metrics(state.run_id, {
            "final_val_accuracy": evaluation.accuracy, "final_val_macro_f1": evaluation.macro_f1,
            "epochs_run": state.epochs_done, "best_epoch": state.best_epoch or 0, "n_params": state.n_params or 0,
        })
        logged = self.tracker.log_keras_model(state.run_id, model)
        state.model_uri, state.model_id, state.status = logged.model_uri, logged.model_id, COMPLETE
        state.weights_file = state.optimizer_file = None  # nothing to resume: the commit drops those files
        self.checkpoint.commit(state)
        self._end_run(state, "complete", "FINISHED", None)
        self.progress.end(self.trial.number, state)

    def _fail(self, state: RefitState, reason: str) -> None:
        state.status, state.reason = FAILED, reason
        self.checkpoint.commit(state)
        try:
            self.tracker.log_text(state.run_id, traceback.format_exc(), ERROR_ARTIFACT)
        except Exception:  # noqa: BLE001 - best effort: the reason is recorded anyway
            pass
        self._end_run(state, "failed", "FAILED", reason)
        self.progress.end(self.trial.number, state)

    def _end_run(self, state: RefitState, tag: str, status: str, reason: str | None) -> None:
        tags = {STATE_TAG: tag, OUTCOME_TAG: state.outcome or "-"}
        if reason:
            tags[REASON_TAG] = reason[:5000]
        self.tracker.set_tags(state.run_id, tags)
        self.tracker.close_run(state.run_id, status=status)


def _refit_training(training: Any, *, seed: int, n_resumes: int, steps_per_epoch: int) -> tuple[Any, Any]:
    """The candidate's TrainConfig for the refit, and its plateau callback (or None).

    Early stopping is the checkpoint callback's (its counter survives an interruption), so the trainer's
    is turned off; a plateau schedule's callback is built here so that its counters can be restored.
    A continued refit gets a derived seed: reusing the first one would replay epoch 1's shuffling.
    """
    from fer_core.train import SCHEDULE_BUILDERS

    config = dataclasses.replace(training, early_stopping_patience=None, seed=seed + 7919 * n_resumes)
    if config.schedule != "plateau":
        return config, None
    plateau = SCHEDULE_BUILDERS["plateau"](config, steps_per_epoch, True).callbacks[0]
    return dataclasses.replace(config, schedule="none"), plateau
