"""Stage 2 of a search: refit the top-K stage-1 candidates with the full recipe, then select on validation.

Stage 1 (``search run``) ranks many candidates trained briefly (a ``--subset``, few epochs, pruned).
Stage 2 trains the K best again on the FULL training split for ``--epochs`` with their own optimizer and
schedule and early stopping on validation (best weights kept), each resumable from its last finished
epoch. Then it chooses, on validation only and with the same TTA for every model, among the refit
models and the averages of the top-M of them (M = 1..``--ensemble-max``, ties to fewer models), and
records the choice on the study (``fer.selected``) for the one-time test score and ``promote``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import optuna

from search.errors import NoCompletedTrialError, RefitBusyError
from search.paths import refit_dir
from search.refit._budget import RefitBudget
from search.refit._checkpoint import TRAINING, RefitCheckpoint
from search.refit._job import RefitJob, RefitResult
from search.refit._options import RefitOptions
from search.refit._progress import RefitProgress
from search.selection import Selection, record_selection, recorded_selection
from search.signals import sigterm_as_keyboard_interrupt
from search.study import CANDIDATE_ATTR, SETTINGS_ATTR, completed_trials

if TYPE_CHECKING:
    from search.refit._choice import RankedModel
    from search.refit._ensemble import EnsembleChoice
    from search.study import StudyData
    from search.tracking import StudyTracker



@dataclass(frozen=True)
class RefitOutcome:
    """What ``refit_study`` did.

    Args:
        results: Every refit, in stage-1 rank order.
        ranked: Complete refits ranked on validation (with TTA; ties: fewer parameters, earlier trial).
        choice: Validation accuracy per ensemble size and the chosen size (None: no complete refit).
        selection: The recorded selection (None: no complete refit; the stage-1 trial stays selected).
        tta: The TTA mode used.
    """

    results: list[RefitResult]
    ranked: list[RankedModel]
    choice: EnsembleChoice | None
    selection: Selection | None
    tta: str


def refit_study(study: optuna.Study, options: RefitOptions, *, progress_stream: TextIO | None = None) -> RefitOutcome:
    """Refits the study's top ``options.top`` trials (resuming unfinished ones) and records the selection.

    Never touches the test split. SIGTERM is handled like Ctrl-C: the refit in progress keeps its last
    finished epoch's checkpoint and its run is ended KILLED.

    Raises:
        NoCompletedTrialError: Stage 1 has no completed trial.
        RefitBusyError: Another process is refitting this study.
        KeyboardInterrupt: Interrupted (run the same command again to resume).
    """
    from search.study import open_scored_context

    started = time.monotonic()  # the --timeout clock
    with sigterm_as_keyboard_interrupt():
        trials = completed_trials(study)[: options.top]
        if not trials:
            raise NoCompletedTrialError(f"Study {study.study_name!r} has no completed trial to refit; run "
                                        "`python -m search run` first.")
        study, data, tracker, parent_run_id = open_scored_context(study)
        data = dataclasses.replace(data, train=data.splits.train)  # the full training split, not --subset
        progress = RefitProgress(len(trials), stream=progress_stream)
        with _refit_lock(study.study_name):
            results = _run_refits(study, trials, data, tracker, parent_run_id, options, progress, started)
            return _select(study, results, data, tracker, parent_run_id, options, progress)


def _run_refits(study: optuna.Study, trials: list[optuna.trial.FrozenTrial], data: StudyData,
                tracker: StudyTracker, parent_run_id: str, options: RefitOptions,
                progress: RefitProgress, started: float) -> list[RefitResult]:
    seed = int((study.user_attrs.get(SETTINGS_ATTR) or {}).get("seed", 0))
    budget = None
    if options.timeout_s is not None:
        budget = _budget(study, trials, data, options, seed, progress, deadline=started + options.timeout_s)
    results = []
    for trial in trials:
        n_epochs, stop_at = options.epochs, None
        if budget is not None and budget.has(trial.number):
            plan = budget.plan(trial.number, options.epochs)
            n_epochs, stop_at = plan.n_epochs, plan.stop_at
            progress.message(f"Refit of trial #{trial.number}: {plan.describe()}.")
        job = RefitJob(trial, data, tracker, parent_run_id, _checkpoint(study.study_name, trial.number),
                       n_epochs=n_epochs, patience=options.patience, seed=seed, progress=progress, stop_at=stop_at)
        try:
            results.append(job.run())
        except KeyboardInterrupt:
            progress.message(f"Interrupted: the refit of trial #{trial.number} keeps its last finished epoch; "
                             "run the same command again to continue it.")
            raise
    return results


def _budget(study: optuna.Study, trials: list[optuna.trial.FrozenTrial], data: StudyData, options: RefitOptions,
            seed: int, progress: RefitProgress, *, deadline: float) -> RefitBudget:
    """``--timeout``: times every refit that still has to train, so each can be given its share."""
    from fer_core.evaluate import n_views
    from search.refit._budget import PendingRefit, RefitBudget, measure_speed
    from search.study import resolve_candidate

    pending = []
    for trial in trials:
        state = _checkpoint(study.study_name, trial.number).load()
        if state is not None and state.status != TRAINING:
            continue  # finished: nothing left to train
        progress.message(f"Timing trial #{trial.number}'s candidate for the --timeout plan ...")
        candidate = resolve_candidate(trial.user_attrs[CANDIDATE_ATTR], max_epochs=options.epochs)
        speed = measure_speed(candidate, data, seed=seed + trial.number)
        pending.append(PendingRefit(trial.number, speed) if state is None
                       else PendingRefit(trial.number, speed, state.n_epochs, state.epochs_done))
    splits = data.splits
    return RefitBudget(deadline, pending, n_refits=len(trials), n_train=len(data.train),
                       n_validation=len(splits.validation.labels), n_test=len(splits.test.labels),
                       n_views=n_views(options.tta), ensemble_max=options.ensemble_max)


# --- selection -------------------------------------------------------------------------------------------
def _select(study: optuna.Study, results: list[RefitResult], data: StudyData, tracker: StudyTracker,
            parent_run_id: str, options: RefitOptions, progress: RefitProgress) -> RefitOutcome:
    from search.refit._choice import choose_model, rank_refits

    ranked = rank_refits(results, data, options.tta, lambda trial: _checkpoint(study.study_name, trial))
    if not ranked:
        progress.message("No refit completed: the selection is unchanged (without a refit, the best stage-1 "
                         "trial is selected).")
        return RefitOutcome(results, ranked, None, recorded_selection(study), options.tta)
    choice, selection = choose_model(study, ranked, data, tracker, parent_run_id, tta=options.tta,
                                     ensemble_max=options.ensemble_max)
    record_selection(study, selection, tracker, parent_run_id)
    _warn_if_test_used(study, selection, progress)
    return RefitOutcome(results, ranked, choice, selection, options.tta)


def _warn_if_test_used(study: optuna.Study, selection: Selection, progress: RefitProgress) -> None:
    from search.selection import recorded_test_score

    score = recorded_test_score(study)
    if score is not None and score.model_uri != selection.model_uri:
        progress.message(f"Note: the test split was already used ({score.scored_at}, {score.describe()}); "
                         f"the new selection ({selection.describe()}) is scored only by "
                         "`python -m search test --force`, recorded as a re-score.")


# --- helpers ---------------------------------------------------------------------------------------------
def _checkpoint(study_name: str, trial_number: int) -> RefitCheckpoint:
    return RefitCheckpoint(refit_dir(study_name) / f"trial_{trial_number}")


@contextlib.contextmanager
def _refit_lock(study_name: str) -> Iterator[None]:
    """Held while refitting: two processes refitting one study would train the same trials twice."""
    directory = refit_dir(study_name)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefitBusyError(f"Another process is refitting study {study_name!r} (lock {directory / '.lock'}); "
                                 "wait for it to finish or stop it first.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["RefitBusyError", "RefitOptions", "RefitOutcome", "refit_study"]
