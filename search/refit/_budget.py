"""``refit --timeout``: fit stage 2 into a wall-clock budget by planning each refit's epochs from its speed.

A stage-1 trial's throughput is a poor guide to a refit's epoch time (it was measured on a subset, often
with graph tracing inside, and varied by a factor 1.5 against the refits it predicted), and a cosine
schedule must know its length before the first epoch. So each candidate is timed on the full training
split's own batches just before planning: a short fit (first batch excluded: tracing) and a timed
prediction pass. From that, every refit not yet started gets an equal share of the time left after the
evaluations that still follow (validation under TTA for every refit, and the selected model's one-time
test score), and as many epochs (at most ``--epochs``) as fit in its share. The refit running when its
share's end passes stops after that epoch (best weights kept), so one slow epoch cannot eat the next
refit's share.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from search.study import StudyData

PROBE_BATCHES = 16
"""Training batches timed per probe epoch (two epochs: the first batch of the first one is tracing)."""
PROBE_EVAL_IMAGES = 1024
"""Validation images timed for the prediction speed (after one untimed warm-up batch)."""
EPOCH_OVERHEAD = 1.05
"""An epoch's wall time over its measured training + validation time (checkpoint, MLflow logging)."""
EPOCH_FIXED_S = 0.3
"""Seconds added per epoch for the checkpoint commit and metric logging, whatever the model's size."""
MODEL_LOGGING_S = 4.0
"""Seconds to log a finished refit's model to MLflow (and an ensemble's), reserved per refit."""
SHARE_SLACK = 1.15
"""A refit stops at the end of the epoch that passes this multiple of its share (or the deadline)."""


@dataclass(frozen=True)
class CandidateSpeed:
    """How fast one candidate trains and predicts here (images per second)."""

    train_images_per_s: float
    predict_images_per_s: float

    def epoch_seconds(self, n_train: int, n_validation: int) -> float:
        """Expected wall time of one refit epoch: a pass over the training split, one over validation."""
        pure = n_train / self.train_images_per_s + n_validation / self.predict_images_per_s
        return EPOCH_OVERHEAD * pure + EPOCH_FIXED_S

    def predict_seconds(self, n_images: int, n_views: int) -> float:
        """Wall time of predicting ``n_images`` with ``n_views`` test-time views each."""
        return n_views * n_images / self.predict_images_per_s


def measure_speed(candidate: Any, data: StudyData, *, seed: int) -> CandidateSpeed:
    """Times ``candidate`` (a ResolvedCandidate) on the training split's images; takes a few seconds.

    The probe model is thrown away: the refit starts from its own seeded initial weights.
    """
    import keras

    from fer_core.evaluate import predict_proba
    from fer_core.train import train
    from search.study import release_memory

    keras.utils.set_random_seed(seed)
    model = candidate.build_model()
    config = dataclasses.replace(candidate.training, epochs=2, schedule="none", warmup_epochs=0,
                                 early_stopping_patience=None, seed=seed)
    n_probe = min(len(data.train), PROBE_BATCHES * config.batch_size)
    result = train(model, data.train.images[:n_probe], data.train.labels[:n_probe], validation=None,
                   config=config, verbose=0, class_weight=None)
    images = data.splits.validation.images[:PROBE_EVAL_IMAGES]
    predict_proba(model, images[:config.batch_size])  # warm-up: traces the predict function
    started = time.perf_counter()
    predict_proba(model, images)
    predict_s = max(time.perf_counter() - started, 1e-6)
    release_memory()
    return CandidateSpeed(train_images_per_s=result.images_per_s, predict_images_per_s=len(images) / predict_s)


@dataclass(frozen=True)
class EpochPlan:
    """The epochs one refit gets and why (shown to the user, logged on its run)."""

    n_epochs: int
    epoch_s: float
    share_s: float
    stop_at: float
    """``time.monotonic()`` after which the refit stops at the end of its epoch."""

    def describe(self) -> str:
        return (f"{self.n_epochs} epochs planned (about {self.epoch_s:.0f} s each, measured here; "
                f"a {self.share_s / 60:.1f} min share of the time left)")


@dataclass(frozen=True)
class PendingRefit:
    """A refit that still has to train.

    Args:
        trial: The stage-1 trial it refits.
        speed: Its measured speed.
        planned_epochs: The epochs it was started with (None: not started yet, to be planned).
        epochs_done: Epochs it has already checkpointed.
    """

    trial: int
    speed: CandidateSpeed
    planned_epochs: int | None = None
    epochs_done: int = 0

    @property
    def epochs_left(self) -> int:
        """Epochs a started refit still has to run (0 for one not started: its plan is still open)."""
        return 0 if self.planned_epochs is None else max(0, self.planned_epochs - self.epochs_done)


class RefitBudget:
    """The wall-clock budget of stage 2 (``--timeout``) and each refit's share of it.

    Args:
        deadline: ``time.monotonic()`` by which everything (refits, selection, one test score) should be done.
        pending: The refits that still train, in the order they run, each with its measured speed.
        n_refits: All refits of the study (finished ones are still evaluated under TTA at selection).
        n_train, n_validation, n_test: Split sizes.
        n_views: Views per image of the TTA mode.
        ensemble_max: Largest ensemble the selection may choose.
        extra_reserve_s: Seconds of other work between the refits and the deadline (``--distill``: the
            teacher's predictions on the training split); the distilled student itself is one more
            pending refit (keyed ``STUDENT_KEY``, -1), so it gets an equal share.
    """

    def __init__(self, deadline: float, pending: list[PendingRefit], *, n_refits: int, n_train: int,
                 n_validation: int, n_test: int, n_views: int, ensemble_max: int,
                 extra_reserve_s: float = 0.0) -> None:
        self.deadline = deadline
        self._pending = {p.trial: p for p in pending}
        self._n_train, self._n_validation = n_train, n_validation
        speeds = [p.speed for p in pending]
        self._evaluation_reserve_s = evaluation_reserve_s(
            speeds, n_refits=n_refits, n_validation=n_validation, n_test=n_test, n_views=n_views,
            ensemble_max=ensemble_max) if speeds else 0.0
        self._extra_reserve_s = extra_reserve_s if speeds else 0.0

    @property
    def reserve_s(self) -> float:
        """Seconds kept back for what follows the refits (evaluations, logging, the extra work)."""
        return self._evaluation_reserve_s + self._extra_reserve_s

    def extra_done(self) -> None:
        """The extra work (the teacher's predictions) is done: its time is no longer kept back."""
        self._extra_reserve_s = 0.0

    def has(self, trial: int) -> bool:
        """Whether ``trial``'s refit still trains and has not been planned yet."""
        return trial in self._pending

    def plan(self, trial: int, max_epochs: int) -> EpochPlan:
        """The next refit's epochs (a new one) or its deadline (one continued from a checkpoint)."""
        pending = self._pending.pop(trial)
        epoch_s = pending.speed.epoch_seconds(self._n_train, self._n_validation)
        later = sum(p.epochs_left * p.speed.epoch_seconds(self._n_train, self._n_validation)
                    for p in self._pending.values())
        reserve = self.reserve_s + later
        if pending.planned_epochs is not None:  # continued: its length was planned when it started
            stop_at = max(self.deadline - reserve, time.monotonic() + epoch_s)
            return EpochPlan(n_epochs=pending.planned_epochs, epoch_s=epoch_s,
                             share_s=pending.epochs_left * epoch_s, stop_at=stop_at)
        n_unstarted = 1 + sum(p.planned_epochs is None for p in self._pending.values())
        return plan_epochs(deadline=self.deadline, speed=pending.speed, n_train=self._n_train,
                           n_validation=self._n_validation, reserve_s=reserve, n_unstarted=n_unstarted,
                           max_epochs=max_epochs)


def plan_epochs(*, deadline: float, speed: CandidateSpeed, n_train: int, n_validation: int,
                reserve_s: float, n_unstarted: int, max_epochs: int) -> EpochPlan:
    """Epochs for the next refit: an equal share of the time before ``deadline`` less ``reserve_s``.

    At least one epoch, at most ``max_epochs``; ``n_unstarted`` counts this refit and those after it.
    """
    now = time.monotonic()
    share = max(0.0, (deadline - now - reserve_s) / max(1, n_unstarted))
    epoch_s = speed.epoch_seconds(n_train, n_validation)
    n_epochs = max(1, min(max_epochs, math.floor(share / epoch_s)))
    # Slack for epochs a little slower than measured, never past the time the evaluations need.
    stop_at = max(min(now + SHARE_SLACK * share, deadline - reserve_s), now + epoch_s)
    return EpochPlan(n_epochs=n_epochs, epoch_s=epoch_s, share_s=share, stop_at=stop_at)


def evaluation_reserve_s(speeds: list[CandidateSpeed], *, n_refits: int, n_validation: int, n_test: int,
                         n_views: int, ensemble_max: int) -> float:
    """Seconds the evaluations after the refits need: every refit on validation without and with TTA,
    then the selected model (up to ``ensemble_max`` members) once on the test split, plus logging.

    Refits that are already finished are costed at the slowest measured speed."""
    slowest = min(speeds, key=lambda s: s.predict_images_per_s)
    validation = sum(s.predict_seconds(n_validation, n_views + 1) for s in speeds)
    validation += (n_refits - len(speeds)) * slowest.predict_seconds(n_validation, n_views + 1)
    test = slowest.predict_seconds(n_test, n_views) * min(ensemble_max, n_refits)
    return EPOCH_OVERHEAD * (validation + test) + MODEL_LOGGING_S * n_refits
