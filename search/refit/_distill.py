"""``refit --distill``: one network trained on the soft predictions of the best refits' ensemble.

An ensemble of M refits is often the most accurate model of stage 2 and M times as slow to serve. Once
the refits are ranked on validation, the teacher is the mean of the top ``--ensemble-max`` (>= 2) complete
refits' probabilities on the TRAINING split, each averaged over the image and its mirror (flip TTA): the
refits were trained with random flips, so the mirrored view is as much "the same face" to them as the
original, and the two-view mean is a smoother target for the cost of two prediction passes (a fraction
of one training epoch); ten-crop views would cost five times more. (Not compared by measurement.)

The student has the architecture and training config of the best single refit and starts from that
refit's trained weights: it is fine-tuned, at a tenth of the candidate's peak learning rate (no warm-up),
towards ``w * teacher + (1 - w) * one_hot(label)`` (``--distill-weight`` w), with early stopping on
validation like a refit. Fine-tuning was chosen over training from scratch because under ``--timeout``
the student gets only one refit's share of epochs, and it starts from a model that selection would
already accept (not compared by measurement; on FER2013 it ended within 1 point of its ensemble,
docs/benchmarks.md). Validation is never used for training, so the student then
competes with the refits and ensembles on validation accuracy under the same TTA.

The student is checkpointed and resumed like a refit (``./mlruns/refit/<study>/distilled/``) and recorded
as its own MLflow run under the study's run (``fer.role=distilled``, ``fer.teacher``, ``fer.refit_of``);
a finished student is reused when the same command runs again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from search.errors import CheckpointMismatchError
from search.paths import refit_dir
from search.refit._checkpoint import COMPLETE, RefitCheckpoint, RefitState
from search.refit._job import RefitJob, RefitResult
from search.tracking import (
    DISTILL_LR_SCALE_PARAM,
    DISTILL_SOFT_WEIGHT_PARAM,
    DISTILL_TEACHER_RUNS_PARAM,
    DISTILL_TEACHER_TTA_PARAM,
    DISTILLED_ROLE,
    TEACHER_TAG,
    load_keras_model,
)

if TYPE_CHECKING:
    import keras
    from optuna.trial import FrozenTrial

    from search.refit._ranking import RankedModel
    from search.study import StudyData
    from search.tracking import StudyTracker

TEACHER_TTA = "flip"
"""The views the teacher's training-split probabilities are averaged over (see the module docstring)."""
FINE_TUNE_LR_SCALE = 0.1
"""The student's peak learning rate over its candidate's: it starts from trained weights."""
STUDENT_DIRNAME = "distilled"
STUDENT_KEY = -1
"""The student's key in the ``--timeout`` plan (refits are keyed by their trial number)."""


@dataclass(frozen=True)
class Teacher:
    """The ensemble the student learns from: the top complete refits, best first."""

    members: tuple[RankedModel, ...]

    @property
    def trials(self) -> tuple[int, ...]:
        return tuple(member.result.trial for member in self.members)

    @property
    def run_ids(self) -> list[str]:
        return [member.result.run_id for member in self.members]

    def val_accuracy_tta(self, labels: np.ndarray) -> float:
        """The teacher's validation accuracy under the selection's TTA (the mean of its members')."""
        mean = np.mean([member.probabilities for member in self.members], axis=0)
        return float(np.mean(mean.argmax(axis=1) == labels))

    def train_probabilities(self, images: np.ndarray) -> np.ndarray:
        """Mean probabilities (N, 7) of the members on ``images``, each under ``TEACHER_TTA``."""
        from fer_core.evaluate import predict_proba
        from search.study import release_memory

        total = np.zeros((len(images), 7), dtype=np.float64)
        for member in self.members:
            total += predict_proba(load_keras_model(str(member.result.model_uri)), images, tta=TEACHER_TTA)
            release_memory()
        return (total / len(self.members)).astype(np.float32)


@dataclass(frozen=True)
class DistillResult:
    """The student of ``--distill``: its run and how it scores on validation next to its teacher.

    Args:
        result: The student's run, read back from its checkpoint (``trial``: the refit whose
            architecture and weights it starts from).
        teacher: The teacher's refit trials, best first.
        soft_weight: ``--distill-weight``.
        teacher_val_accuracy_tta: The teacher ensemble's validation accuracy under ``tta``.
        val_accuracy_tta: The student's validation accuracy under ``tta`` (None unless complete).
        probabilities: The student's validation probabilities under ``tta`` (None unless complete).
        tta: The selection's TTA mode.
    """

    result: RefitResult
    teacher: tuple[int, ...]
    soft_weight: float
    teacher_val_accuracy_tta: float
    val_accuracy_tta: float | None
    probabilities: np.ndarray | None
    tta: str

    @property
    def complete(self) -> bool:
        return self.result.state == COMPLETE and self.result.model_uri is not None

    @property
    def val_accuracy(self) -> float | None:
        """Validation accuracy without TTA."""
        return self.result.val_accuracy

    @property
    def model_uri(self) -> str | None:
        return self.result.model_uri

    @property
    def run_id(self) -> str:
        return self.result.run_id


class DistillJob(RefitJob):
    """A refit of the best refit's candidate, started from its weights and trained on soft targets.

    Args:
        teacher: The ensemble it learns from (its first member is the refit it starts from).
        soft_weight: The teacher's share of each target.
        Others: as :class:`RefitJob`, ``trial`` being the best refit's stage-1 trial.
    """

    role = DISTILLED_ROLE

    def __init__(self, trial: FrozenTrial, data: StudyData, tracker: StudyTracker, parent_run_id: str,
                 checkpoint: RefitCheckpoint, *, teacher: Teacher, soft_weight: float, **job: Any) -> None:
        super().__init__(trial, data, tracker, parent_run_id, checkpoint, **job)
        self.teacher = teacher
        self.soft_weight = soft_weight

    def _run_name(self) -> str:
        return "distilled-" + "-".join(map(str, self.teacher.trials))

    def _run_tags(self) -> dict[str, str]:
        return {TEACHER_TAG: ",".join(map(str, self.teacher.trials))}

    def _run_params(self) -> dict[str, Any]:
        return {DISTILL_SOFT_WEIGHT_PARAM: self.soft_weight, DISTILL_TEACHER_RUNS_PARAM: self.teacher.run_ids,
                DISTILL_TEACHER_TTA_PARAM: TEACHER_TTA, DISTILL_LR_SCALE_PARAM: FINE_TUNE_LR_SCALE}

    def _new_state(self, run_id: str) -> RefitState:
        state = super()._new_state(run_id)
        state.teacher, state.soft_weight = list(self.teacher.trials), self.soft_weight
        return state

    def _training_config(self, training: Any) -> Any:
        return fine_tune_config(training)

    def _prepare(self, model: keras.Model, state: RefitState) -> None:
        """Starts from the best refit's trained weights (a resumed student loads its own checkpoint)."""
        from search.study import release_memory

        source = load_keras_model(str(self.teacher.members[0].result.model_uri))
        model.set_weights(source.get_weights())
        del source
        release_memory()

    def _train_kwargs(self) -> dict[str, Any]:
        return {"soft_targets": self.soft_targets(), "soft_weight": self.soft_weight}

    def soft_targets(self) -> np.ndarray:
        """The teacher's training-split probabilities, cached beside the checkpoint for a resumed student.

        Called before training (``--timeout`` calls it before planning the student's epochs, so that the
        teacher's predictions do not eat the student's share).
        """
        name = "teacher_" + "-".join(map(str, self.teacher.trials)) + f"_{TEACHER_TTA}.npy"
        cached = self.checkpoint.load_array(name)
        if cached is not None:
            return cached
        self.progress.message(f"Teacher: predicting the training split with the ensemble of trials "
                              f"{', '.join(f'#{t}' for t in self.teacher.trials)} ({TEACHER_TTA} TTA) ...")
        probabilities = self.teacher.train_probabilities(self.data.train.images)
        self.checkpoint.save_array(name, probabilities)
        return probabilities


def fine_tune_config(training: Any) -> Any:
    """The student's TrainConfig: its candidate's, at ``FINE_TUNE_LR_SCALE`` of the learning rate, no warm-up."""
    learning_rate = training.learning_rate * FINE_TUNE_LR_SCALE
    return dataclasses.replace(training, learning_rate=learning_rate, warmup_epochs=0,
                               min_learning_rate=min(training.min_learning_rate, learning_rate))


def student_checkpoint(study_name: str) -> RefitCheckpoint:
    """The student's checkpoint folder, ``./mlruns/refit/<study>/distilled``."""
    return RefitCheckpoint(refit_dir(study_name) / STUDENT_DIRNAME)


def teacher_of(ranked: list[RankedModel], ensemble_max: int) -> Teacher | None:
    """The top ``ensemble_max`` complete refits, or None with fewer than two."""
    members = tuple(ranked[:ensemble_max])
    return Teacher(members) if len(members) >= 2 else None


def check_student_checkpoint(checkpoint: RefitCheckpoint, teacher: Teacher, soft_weight: float) -> None:
    """Refuses a student checkpoint made from another teacher or weight (it would be reused as if it fitted).

    Raises:
        CheckpointMismatchError: Naming both and the folder to delete.
    """
    state = checkpoint.load()
    if state is None:
        return
    recorded = (state.trial, tuple(state.teacher or ()), state.soft_weight)
    wanted = (teacher.trials[0], teacher.trials, soft_weight)
    if recorded != wanted:
        raise CheckpointMismatchError(
            f"The distilled student in {checkpoint.directory} was trained from trials "
            f"{', '.join(f'#{t}' for t in recorded[1])} with --distill-weight {recorded[2]}, but the teacher is now "
            f"trials {', '.join(f'#{t}' for t in teacher.trials)} with --distill-weight {soft_weight}; run with "
            f"--distill-weight {recorded[2]} to reuse it, or delete {checkpoint.directory} to distil it again."
        )


def score_student(result: RefitResult, teacher: Teacher, soft_weight: float, checkpoint: RefitCheckpoint,
                  data: StudyData, tta: str) -> DistillResult:
    """The student's validation accuracy under ``tta`` (probabilities cached beside its checkpoint)."""
    from fer_core.evaluate import evaluate_predictions
    from search.refit._ranking import validation_probabilities

    labels = data.splits.validation.labels
    probabilities, accuracy_tta = None, None
    if result.state == COMPLETE and result.model_uri is not None:
        probabilities = validation_probabilities(checkpoint, result.model_uri, data, tta)
        accuracy_tta = float(evaluate_predictions(labels, probabilities).accuracy)
    return DistillResult(result=result, teacher=teacher.trials, soft_weight=soft_weight,
                         teacher_val_accuracy_tta=teacher.val_accuracy_tta(labels), val_accuracy_tta=accuracy_tta,
                         probabilities=probabilities, tta=tta)


def describe_student(student: DistillResult) -> str:
    """One line for people: what the student learnt from and how it compares with its teacher."""
    teacher = ", ".join(f"#{t}" for t in student.teacher)
    head = (f"Distilled: network of trial #{student.result.trial} trained on the ensemble of trials {teacher} "
            f"(soft weight {student.soft_weight:g}, {student.result.epochs_run} epochs)")
    if not student.complete or student.val_accuracy is None or student.val_accuracy_tta is None:
        return f"{head}: {student.result.state} ({student.result.reason or '-'})"
    return (f"{head}: validation accuracy {student.val_accuracy:.4f}, with {student.tta} TTA "
            f"{student.val_accuracy_tta:.4f} (its teacher {student.teacher_val_accuracy_tta:.4f})")
