"""Runs one trial: sample -> validate -> build -> train (reporting every epoch) -> record its end.

Every way a trial can end leaves it in a recorded state in both the Optuna study and its MLflow run:
complete, pruned at epoch k, failed with a reason, or interrupted (run again on resume).
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState as OptunaState

from search.paths import atomic_path
from search.signals import stops_deferred
from search.study import _attrs as st
from search.study._audit import log_clean_validation
from search.study._candidates import CandidateSource, resolve_candidate
from search.study._epochs import epoch_metrics, release_memory
from search.study._faults import DEFAULT_RETRY_S, FaultRetry, fault_summary, is_infrastructure_error, study_services
from search.study._heartbeat import Heartbeat
from search.study._latency import record_candidate_latency
from search.study._recovery import worker_id
from search.study._trials import completed_trials, ranking_key
from search.tracking import ERROR_ARTIFACT, MODEL_DELETED_TAG, REGISTERED_TAG, StudyTracker, TrialState

if TYPE_CHECKING:
    from search.study._data import StudyData
    from search.study._progress import StudyProgress


class CandidateRejected(Exception):
    """The candidate cannot be trained (bad geometry, over the MACs budget, diverged, out of memory)."""


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended."""

    number: int
    state: TrialState
    value: float | None
    reason: str | None = None


@dataclass(frozen=True)
class TrialPlan:
    """Per-trial training overrides, for a search engine that decides budgets itself (Keras Tuner's Hyperband).

    Args:
        epochs: Train up to this epoch count (replaces ``--epochs`` and the space's ``training.epochs``).
        initial_epoch: Epochs already trained (0-based start, as Keras counts); needs ``initial_weights``.
        initial_weights: ``.weights.h5`` file of the same candidate to continue from.
        save_weights: Where to save the trained weights (``.weights.h5``), for a later continuation.
        tags: Extra tags for the trial's MLflow run.
    """

    epochs: int | None = None
    initial_epoch: int = 0
    initial_weights: Path | None = None
    save_weights: Path | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"TrialPlan.epochs must be >= 1 (got {self.epochs})")
        if self.initial_epoch < 0 or (self.epochs is not None and self.initial_epoch >= self.epochs):
            raise ValueError(f"TrialPlan.initial_epoch must be in [0, epochs) (initial_epoch={self.initial_epoch}, "
                             f"epochs={self.epochs})")
        if self.initial_epoch > 0 and self.initial_weights is None:
            raise ValueError("TrialPlan.initial_epoch > 0 continues a run: give the initial_weights to continue from")


NO_PLAN = TrialPlan()
"""A trial trained as the space and ``--epochs`` say, from scratch."""


class TrialExecutor:
    """Runs trials of one study with the study's data, tracker and settings.

    Args:
        study: The Optuna study.
        source: The space (or fixed candidate) trials are sampled from.
        data: The study's data (loaded once).
        tracker: MLflow tracker with the study's experiment.
        parent_run_id: The study's parent run.
        max_epochs: ``--epochs`` (None: the space's value).
        keep_top: Trials that keep their logged model.
        seed: Training seed base (each trial adds its number).
        progress: Where progress is shown.
        run_tags: Tags every trial run gets (e.g. the search engine).
        retry_s: How long infrastructure failures (tracking store or storage unreachable, disk full) are
            ridden out before the worker stops with ``InfrastructureError``.
        max_latency_ms: ``--max-latency-ms``: a candidate slower per face fails before training (None: no limit).
    """

    def __init__(
        self, study: optuna.Study, source: CandidateSource, data: StudyData, tracker: StudyTracker,
        parent_run_id: str, *, max_epochs: int | None, keep_top: int, seed: int, progress: StudyProgress,
        run_tags: Mapping[str, str] | None = None, retry_s: float = DEFAULT_RETRY_S,
        max_latency_ms: float | None = None,
    ) -> None:
        self.study = study
        self.source = source
        self.data = data
        self.tracker = tracker
        self.parent_run_id = parent_run_id
        self.max_epochs = max_epochs
        self.keep_top = keep_top
        self.seed = seed
        self.progress = progress
        self.run_tags = dict(run_tags or {})
        self.max_latency_ms = max_latency_ms
        self.faults = FaultRetry(study_services(study, tracker), retry_s, notify=progress.message)
        self._class_weights = data.train_class_weights()
        self._datasets = data.split_datasets(("train", "validation"))  # a trial never sees the test split

    def run_one(self, trial: optuna.Trial | None = None, *, plan: TrialPlan = NO_PLAN) -> TrialOutcome:
        """Runs ``trial`` (default: a new one asked from the study) and tells the study how it ended.

        ``plan`` overrides the trial's epochs and lets it continue from saved weights.

        Whatever happens — pruning, a bad candidate, an error, Ctrl-C — the trial is told its final
        state before this returns (or re-raises KeyboardInterrupt). An infrastructure failure (a store
        unreachable, a full disk) is not the candidate's: the trial ends interrupted (run again, not
        counted) and this waits for the services to answer before it returns.

        Raises:
            InfrastructureError: The services stayed unreachable past the retry budget.
        """
        trial = trial if trial is not None else self.study.ask()
        run_id: str | None = None
        fault: Exception | None = None
        started = time.perf_counter()
        try:
            trial.set_user_attr(st.WORKER_ATTR, worker_id())
            run_id = self.tracker.start_trial_run(self.parent_run_id, trial.number)
            trial.set_user_attr(st.RUN_ID_ATTR, run_id)
            self.tracker.log_dataset_inputs(run_id, self._datasets)
            if self.run_tags or plan.tags:
                self.tracker.set_tags(run_id, {**self.run_tags, **plan.tags})
            self.progress.start_trial(trial.number)
            with Heartbeat(self.study._storage, trial._trial_id):
                value = self._train(trial, run_id, plan)
        except optuna.TrialPruned as pruned:
            outcome = TrialOutcome(trial.number, TrialState.PRUNED, _last_value(trial), str(pruned))
        except CandidateRejected as rejected:
            outcome = TrialOutcome(trial.number, TrialState.FAILED, None, str(rejected))
        except KeyboardInterrupt:
            self._finish(trial, run_id, TrialOutcome(trial.number, TrialState.INTERRUPTED, None, st.INTERRUPTED),
                         started, stopping=True)
            raise
        except Exception as error:  # noqa: BLE001 - a bad candidate must not end the study
            if is_infrastructure_error(error):
                fault, outcome = error, TrialOutcome(trial.number, TrialState.INTERRUPTED, None, st.INTERRUPTED)
            else:
                outcome = TrialOutcome(trial.number, TrialState.FAILED, None, f"{type(error).__name__}: {error}")
                self._record_traceback(run_id)
        else:
            outcome = TrialOutcome(trial.number, TrialState.COMPLETE, value)
        finally:
            release_memory()
        self._finish(trial, run_id, outcome, started)
        if fault is not None:
            self.faults.ride_out(fault, f"trial #{trial.number} (left to run again, not counted)")
        else:
            self.faults.succeeded()
        return outcome

    # --- the training -------------------------------------------------------------------------------
    def _train(self, trial: optuna.Trial, run_id: str, plan: TrialPlan) -> float:
        from fer_core.errors import ConfigError
        from fer_core.evaluate import evaluate
        from fer_core.model import model_complexity
        from fer_core.train import TrainOutcome, train

        raw = self.source.sample(trial)
        self.tracker.log_params(run_id, dict(trial.params))
        try:
            candidate = resolve_candidate(raw, max_epochs=plan.epochs or self.max_epochs)
        except ConfigError as error:
            raise CandidateRejected(f"invalid candidate: {error}") from None
        trial.set_user_attr(st.CANDIDATE_ATTR, candidate.raw)
        self.tracker.log_dict(run_id, candidate.raw, "candidate.json")

        complexity = model_complexity(candidate.architecture)
        trial.set_user_attr(st.N_PARAMS_ATTR, complexity.n_params)
        trial.set_user_attr(st.MACS_ATTR, complexity.macs)
        self.tracker.log_metrics(run_id, {"n_params": complexity.n_params, "macs": complexity.macs})
        budget = self.source.max_macs
        if budget is not None and complexity.macs > budget:
            raise CandidateRejected(f"over the MACs budget: {complexity.macs:,} > {int(budget):,}")

        model = candidate.build_model()
        if too_slow := record_candidate_latency(model, trial, self.tracker, run_id, max_latency_ms=self.max_latency_ms):
            raise CandidateRejected(too_slow)
        n_epochs = candidate.training.epochs
        training = _with_seed(candidate.training, self.seed + trial.number)

        best_so_far = BestSoFar()

        def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
            step = epoch + 1
            self.tracker.log_metrics(run_id, epoch_metrics(logs), step=step)
            val_accuracy = logs.get("val_accuracy")
            self.progress.epoch(step, n_epochs, val_accuracy)
            if val_accuracy is not None:
                # The pruner judges what the trial is worth if stopped now: training ends on its best
                # epoch's weights, so that is the best validation accuracy so far, not this epoch's.
                # Both are Optuna storage calls (a write, then a read): a stop inside one could leave SQLite locked.
                with stops_deferred():
                    trial.report(best_so_far.update(float(val_accuracy)), step)
                    # Pruning after the last epoch saves nothing and would drop a finished model from selection.
                    prune = step < n_epochs and trial.should_prune()
                if prune:
                    raise optuna.TrialPruned(f"pruned at epoch {step}")

        validation = self.data.splits.validation
        try:
            result = train(
                model, self.data.train.images, self.data.train.labels,
                validation=(validation.images, validation.labels), config=training,
                on_epoch_end=on_epoch_end, verbose=0,
                class_weight=self._class_weights if training.class_weighting else None,
                initial_epoch=plan.initial_epoch, initial_weights=plan.initial_weights,
            )
        except Exception as error:
            if _is_out_of_memory(error):
                raise CandidateRejected(f"out of memory: {type(error).__name__}") from None
            raise
        if result.outcome == TrainOutcome.NAN_LOSS:
            raise CandidateRejected(f"diverged: NaN loss at epoch {plan.initial_epoch + result.n_epochs}")
        if plan.save_weights is not None:  # whole or not at all: a later round continues from it
            plan.save_weights.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(plan.save_weights) as temporary:
                result.model.save_weights(temporary)

        evaluation = evaluate(result.model, validation.images, validation.labels)
        self.tracker.log_metrics(run_id, {
            "final_val_accuracy": evaluation.accuracy, "final_val_macro_f1": evaluation.macro_f1,
            "epochs_run": result.n_epochs, "images_per_s": result.images_per_s,
        })
        log_clean_validation(self.tracker, run_id, self.data, evaluation, trial)
        if self._in_top_k(evaluation.accuracy, complexity.n_params):
            logged = self.tracker.log_keras_model(run_id, result.model)
            trial.set_user_attr(st.MODEL_URI_ATTR, logged.model_uri)
            trial.set_user_attr(st.MODEL_ID_ATTR, logged.model_id)
        return float(evaluation.accuracy)

    # --- bookkeeping ---------------------------------------------------------------------------------
    def _finish(self, trial: optuna.Trial, run_id: str | None, outcome: TrialOutcome, started: float, *,
                stopping: bool = False) -> None:
        """Tells the study first (the state that counts), then records the end on the MLflow run.

        A storage that does not answer is waited for (within the retry budget; not when ``stopping`` on
        Ctrl-C), so a finished trial's result is not lost to a database restart; otherwise the trial stays
        RUNNING and the next recovery finds its worker gone and queues it again.
        """
        while True:
            try:
                self._tell(trial, outcome)
                break
            except Exception as error:
                if not is_infrastructure_error(error):
                    raise
                if stopping:
                    self.progress.message(f"could not record the end of trial #{trial.number} "
                                          f"({fault_summary(error)}); the next run finds it unfinished, runs it again")
                    break
                self.faults.ride_out(error, f"recording the end of trial #{trial.number}")
        if run_id is not None:
            self._end_run(trial, run_id, outcome, time.perf_counter() - started, stopping=stopping)
        self.progress.end_trial(
            outcome.number, outcome.state.value, outcome.value, outcome.reason or "",
            counted=outcome.state != TrialState.INTERRUPTED,
        )

    def _end_run(self, trial: optuna.Trial, run_id: str, outcome: TrialOutcome, duration_s: float, *,
                 stopping: bool) -> None:
        """Ends the trial's MLflow run with its state; an unreachable store is waited for (not when stopping)."""
        while True:
            try:
                self.tracker.log_metrics(run_id, {"duration_s": duration_s})
                self.tracker.finish_trial_run(run_id, outcome.state, outcome.reason)
                if outcome.state == TrialState.COMPLETE:
                    self._drop_models_outside_top_k()
                return
            except Exception as error:  # noqa: BLE001 - the study already has the trial's state
                if is_infrastructure_error(error) and not stopping:
                    self.faults.ride_out(error, f"recording the end of trial #{trial.number} in MLflow")
                    continue
                self.progress.message(f"could not record the end of trial #{trial.number} in MLflow "
                                      f"({fault_summary(error)}); its run is closed by the next recovery")
                return

    def _tell(self, trial: optuna.Trial, outcome: TrialOutcome) -> None:
        try:
            if outcome.reason:
                trial.set_user_attr(st.REASON_ATTR, outcome.reason)
            if outcome.state == TrialState.COMPLETE:
                self.study.tell(trial, outcome.value)
            elif outcome.state == TrialState.PRUNED:
                self.study.tell(trial, state=OptunaState.PRUNED)
            else:
                self.study.tell(trial, state=OptunaState.FAIL)
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as error:
            # Another worker took this trial for dead (a stale heartbeat) and queued it again.
            self.progress.message(f"trial #{trial.number} was already ended by another worker ({error}); "
                                  "its result is dropped")

    def _record_traceback(self, run_id: str | None) -> None:
        if run_id is None:
            return
        try:
            self.tracker.log_text(run_id, traceback.format_exc(), ERROR_ARTIFACT)
        except Exception:  # noqa: BLE001 - best effort: the reason is recorded on the trial anyway
            pass

    def _in_top_k(self, value: float, n_params: int) -> bool:
        kept = [t for t in completed_trials(self.study) if st.MODEL_URI_ATTR in t.user_attrs][: self.keep_top]
        if len(kept) < self.keep_top:
            return True
        return (-value, n_params, 2**62) < ranking_key(kept[-1])

    def _drop_models_outside_top_k(self) -> None:
        """Deletes the logged models of completed trials outside the best ``keep_top``.

        Never the test-scored trial's model, nor a registered one: ``promote`` tags the run before it
        registers, and the registry is asked about every other model (a version registered through the
        MLflow UI or API carries no tag of ours), so a model is deleted only when the registry said no.
        """
        protected = {(self.study.user_attrs.get(st.TEST_SCORE_ATTR) or {}).get("trial")}
        with_models = [t for t in completed_trials(self.study) if st.MODEL_ID_ATTR in t.user_attrs]
        for trial in with_models[self.keep_top:]:
            if trial.number in protected:
                continue
            run_id, model_id = trial.user_attrs[st.RUN_ID_ATTR], trial.user_attrs[st.MODEL_ID_ATTR]
            tags = self.tracker.run_tags(run_id)
            if tags.get(MODEL_DELETED_TAG) == "true" or tags.get(REGISTERED_TAG) == "true":
                continue
            if self.tracker.is_registered(run_id, model_id):
                self.tracker.set_tags(run_id, {REGISTERED_TAG: "true"})  # asked once; kept for good
                continue
            self.tracker.set_tags(run_id, {MODEL_DELETED_TAG: "true"})
            self.tracker.delete_logged_model(model_id)


class BestSoFar:
    """The running maximum of a trial's validation accuracy (NaN epochs are ignored)."""

    def __init__(self) -> None:
        self.value = float("nan")

    def update(self, value: float) -> float:
        """Takes one epoch's value; returns the best so far (NaN until a finite value arrives)."""
        if math.isfinite(value) and (math.isnan(self.value) or value > self.value):
            self.value = value
        return self.value


def _with_seed(training: Any, seed: int) -> Any:
    import dataclasses

    return dataclasses.replace(training, seed=seed)




def _last_value(trial: optuna.Trial) -> float | None:
    values = trial.storage.get_trial(trial._trial_id).intermediate_values
    return values[max(values)] if values else None


def _is_out_of_memory(error: Exception) -> bool:
    return isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError"
