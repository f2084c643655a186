"""``RefitOptions``: the validated flags of stage 2 (``search refit``, ``run --refit-top``)."""

from __future__ import annotations

from dataclasses import dataclass

from fer_core.errors import ConfigError
from search.defaults import (
    DEFAULT_DISTILL_WEIGHT,
    DEFAULT_ENSEMBLE_MAX,
    DEFAULT_EPOCHS,
    DEFAULT_PATIENCE,
    DEFAULT_TOP,
    DEFAULT_TTA,
)

"""``--distill-weight``: the teacher's share of each target (the rest is the one-hot label)."""


@dataclass(frozen=True)
class RefitOptions:
    """What ``search refit`` does (each rule names its flag).

    Args:
        top: Refit the best K completed stage-1 trials (``--top``).
        epochs: Maximum epochs of each refit (``--epochs``).
        patience: Early-stopping patience on validation accuracy (``--patience``).
        tta: Test-time augmentation used for selection and the test score (``--tta``: none, flip, ten_crop).
        ensemble_max: Largest ensemble tried (``--ensemble-max``; 1 = single models only).
        timeout_s: Wall-clock budget in seconds of the refits, the selection and one test score
            (``--timeout``); each refit's epochs (at most ``epochs``) are then planned from its measured
            speed. None: no budget, every refit gets ``epochs``.
        distill: Also train one network on the soft predictions of the top-``ensemble_max`` ensemble
            (``--distill``); it competes with the refits and ensembles on validation. Needs ``top`` and
            ``ensemble_max`` >= 2 (the teacher is an ensemble).
        distill_weight: The teacher's share of each training target, in [0, 1] (``--distill-weight``).
    """

    top: int = DEFAULT_TOP
    epochs: int = DEFAULT_EPOCHS
    patience: int = DEFAULT_PATIENCE
    tta: str = DEFAULT_TTA
    ensemble_max: int = DEFAULT_ENSEMBLE_MAX
    timeout_s: float | None = None
    distill: bool = False
    distill_weight: float = DEFAULT_DISTILL_WEIGHT

    def __post_init__(self) -> None:
        from fer_core.evaluate import TTA_MODES  # imports Keras: only when options are actually built

        for flag, value in (("--top", self.top), ("--epochs", self.epochs), ("--patience", self.patience),
                            ("--ensemble-max", self.ensemble_max)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{flag} must be an integer >= 1 (got {value!r})")
        if self.timeout_s is not None and (isinstance(self.timeout_s, bool) or not self.timeout_s > 0):
            raise ConfigError(f"--timeout must be a number of seconds > 0 (got {self.timeout_s!r})")
        if self.tta not in TTA_MODES:
            raise ConfigError(f"Unknown --tta {self.tta!r}; choose one of: {', '.join(TTA_MODES)}")
        self._check_distill()

    def _check_distill(self) -> None:
        weight = self.distill_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 <= weight <= 1.0:
            raise ConfigError(f"--distill-weight must be a number in [0, 1] (got {weight!r}); it is the teacher's "
                              "share of each training target (1: its probabilities only, 0: the labels only)")
        if self.distill and (self.top < 2 or self.ensemble_max < 2):
            raise ConfigError(f"--distill needs --top >= 2 and --ensemble-max >= 2 (got --top {self.top}, "
                              f"--ensemble-max {self.ensemble_max}): the teacher is an ensemble of refits; "
                              "raise both or leave --distill out")
