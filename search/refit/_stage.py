"""Stage 2 of a search: refit the top-K stage-1 candidates with the full recipe, then select on validation.

Stage 1 (``search run``) ranks many candidates trained briefly (a ``--subset``, few epochs, pruned).
Stage 2 trains the K best again on the FULL training split for ``--epochs`` with their own optimizer and
schedule and early stopping on validation (best weights kept), each resumable from its last finished
epoch. Then it chooses, on validation only and with the same TTA for every model, among the refit
models and the averages of the top-M of them (M = 1..``--ensemble-max``, ties to fewer models), and
records the choice on the study (``fer.selected``) for the one-time test score and ``promote``.
With ``--distill``, one more network is trained on the top refits' ensemble before choosing
(``search.refit._distill``) and competes with them on validation.
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
from search.refit._budget import CandidateSpeed, RefitBudget
from search.refit._checkpoint import TRAINING, RefitCheckpoint
from search.refit._job import RefitJob, RefitResult
from search.refit._options import RefitOptions
from search.refit._progress import RefitProgress
from search.selection import Selection, record_selection, recorded_selection
from search.signals import sigterm_as_keyboard_interrupt
from search.study import CANDIDATE_ATTR, SETTINGS_ATTR, completed_trials

if TYPE_CHECKING:
    from search.refit._distill import DistillResult
    from search.refit._ensemble import EnsembleChoice
    from search.refit._ranking import RankedModel
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
        student: The distilled network of ``--distill`` (val accuracy, model URI, run id, its teacher's
            accuracy), or None (no ``--distill``, or fewer than two complete refits to teach it).
    """

    results: list[RefitResult]
    ranked: list[RankedModel]
    choice: EnsembleChoice | None
    selection: Selection | None
    tta: str
    student: DistillResult | None = None


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
        context = _Context(study, trials, data, tracker, parent_run_id, options, progress, progress_stream)
        with _refit_lock(study.study_name):
            budget = None
            if options.timeout_s is not None:
                budget = _budget(context, deadline=started + options.timeout_s)
            results = _run_refits(context, budget)
            return _select(context, results, budget)


@dataclass(frozen=True)
class _Context:
    """What every step of stage 2 works on."""

    study: optuna.Study
    trials: list[optuna.trial.FrozenTrial]
    data: StudyData
    tracker: StudyTracker
    parent_run_id: str
    options: RefitOptions
    progress: RefitProgress
    progress_stream: TextIO | None

    @property
    def seed(self) -> int:
        return int((self.study.user_attrs.get(SETTINGS_ATTR) or {}).get("seed", 0))


def _run_refits(context: _Context, budget: RefitBudget | None) -> list[RefitResult]:
    study, data, options, progress, seed = context.study, context.data, context.options, context.progress, context.seed
    tracker, parent_run_id, trials = context.tracker, context.parent_run_id, context.trials
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


def _budget(context: _Context, *, deadline: float) -> RefitBudget:
    """``--timeout``: times every refit that still has to train, so each can be given its share.

    With ``--distill`` the student is one more pending refit, at the speed of the best stage-1 trial's
    candidate (the best refit, whose architecture it takes, is not known before the refits end), and the
    teacher's predictions on the training split are reserved too.
    """
    from fer_core.evaluate import n_views
    from search.refit._budget import PendingRefit, RefitBudget
    from search.refit._distill import STUDENT_KEY, TEACHER_TTA, student_checkpoint

    study, data, options = context.study, context.data, context.options
    pending, speeds = [], {}
    for trial in context.trials:
        state = _checkpoint(study.study_name, trial.number).load()
        if state is not None and state.status != TRAINING:
            continue  # finished: nothing left to train
        speeds[trial.number] = _speed(context, trial)
        pending.append(PendingRefit(trial.number, speeds[trial.number]) if state is None
                       else PendingRefit(trial.number, speeds[trial.number], state.n_epochs, state.epochs_done))
    teacher_s = 0.0
    student = student_checkpoint(study.study_name).load() if options.distill else None
    if options.distill and (student is None or student.status == TRAINING):
        best = context.trials[0]
        speed = speeds.get(best.number) or _speed(context, best)
        pending.append(PendingRefit(STUDENT_KEY, speed) if student is None
                       else PendingRefit(STUDENT_KEY, speed, student.n_epochs, student.epochs_done))
        if student is None:
            teacher_s = speed.predict_seconds(len(data.train), n_views(TEACHER_TTA)) * options.ensemble_max
    splits = data.splits
    return RefitBudget(deadline, pending, n_refits=len(context.trials) + int(options.distill),
                       n_train=len(data.train), n_validation=len(splits.validation.labels),
                       n_test=len(splits.test.labels), n_views=n_views(options.tta),
                       ensemble_max=options.ensemble_max, extra_reserve_s=teacher_s)


def _speed(context: _Context, trial: optuna.trial.FrozenTrial) -> CandidateSpeed:
    from search.refit._budget import measure_speed
    from search.study import resolve_candidate

    context.progress.message(f"Timing trial #{trial.number}'s candidate for the --timeout plan ...")
    candidate = resolve_candidate(trial.user_attrs[CANDIDATE_ATTR], max_epochs=context.options.epochs)
    return measure_speed(candidate, context.data, seed=context.seed + trial.number)


# --- selection -------------------------------------------------------------------------------------------
def _select(context: _Context, results: list[RefitResult], budget: RefitBudget | None) -> RefitOutcome:
    from search.refit._choice import choose_model
    from search.refit._ranking import rank_refits

    study, data, options, progress = context.study, context.data, context.options, context.progress
    ranked = rank_refits(results, data, options.tta, lambda trial: _checkpoint(study.study_name, trial))
    if not ranked:
        progress.message("No refit completed: the selection is unchanged (without a refit, the best stage-1 "
                         "trial is selected).")
        return RefitOutcome(results, ranked, None, recorded_selection(study), options.tta)
    student = _distill(context, ranked, budget) if options.distill else None
    choice, selection = choose_model(study, ranked, data, context.tracker, context.parent_run_id, tta=options.tta,
                                     ensemble_max=options.ensemble_max, student=student)
    record_selection(study, selection, context.tracker, context.parent_run_id)
    _warn_if_test_used(study, selection, progress)
    return RefitOutcome(results, ranked, choice, selection, options.tta, student)


def _distill(context: _Context, ranked: list[RankedModel], budget: RefitBudget | None) -> DistillResult | None:
    """``--distill``: trains (or continues, or reads back) the student of the top refits' ensemble."""
    from search.refit._distill import (
        STUDENT_KEY,
        DistillJob,
        check_student_checkpoint,
        score_student,
        student_checkpoint,
        teacher_of,
    )

    options = context.options
    teacher = teacher_of(ranked, options.ensemble_max)
    if teacher is None:
        context.progress.message("--distill: fewer than two complete refits to teach a student; none distilled.")
        return None
    checkpoint = student_checkpoint(context.study.study_name)
    check_student_checkpoint(checkpoint, teacher, options.distill_weight)
    trial = next(t for t in context.trials if t.number == teacher.trials[0])
    progress = RefitProgress(1, stream=context.progress_stream, title="distilled")
    job = DistillJob(trial, context.data, context.tracker, context.parent_run_id, checkpoint, teacher=teacher,
                     soft_weight=options.distill_weight, n_epochs=options.epochs, patience=options.patience,
                     seed=context.seed + 1, progress=progress)
    if budget is not None and budget.has(STUDENT_KEY):
        job.soft_targets()  # before the plan: the teacher's predictions are not the student's share
        budget.extra_done()
        plan = budget.plan(STUDENT_KEY, options.epochs)
        job.n_epochs, job.stop_at = plan.n_epochs, plan.stop_at
        context.progress.message(f"Distilled student of trial #{trial.number}: {plan.describe()}.")
    try:
        result = job.run()
    except KeyboardInterrupt:
        context.progress.message("Interrupted: the distilled student keeps its last finished epoch; run the same "
                                 "command again to continue it.")
        raise
    return score_student(result, teacher, options.distill_weight, checkpoint, context.data, options.tta)


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
