"""The study's final selection, recorded once stage 2 (``search refit``) has chosen on validation.

``fer.selected`` (a study user attr) says what the test score, ``best`` and ``promote`` are about: a
stage-1 ``trial``, a ``refit`` model, an ``ensemble`` of refit models or a ``distilled`` network (trained
on such an ensemble's predictions, ``refit --distill``), with its MLflow model, its validation accuracy
without and with test-time augmentation, the TTA mode and the stage-1 trials it comes from. A study
without it falls back to its best stage-1 trial (no TTA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna

from fer_core.errors import ConfigError
from fer_core.evaluate import TTA_MODES
from search.study import SELECTED_ATTR
from search.tracking import SELECTED_KIND_TAG, SELECTED_MEMBERS_TAG, SELECTED_MODEL_URI_TAG, SELECTED_TTA_TAG

if TYPE_CHECKING:
    from search.tracking import StudyTracker

KINDS = ("trial", "refit", "ensemble", "distilled")
_MANY_MEMBERS = {"ensemble": 1, "distilled": 2}
"""Kinds made of several trials, and the fewest they need (the others come from exactly one)."""


def describe_model(kind: str, trial: int, members: Sequence[int], tta: str) -> str:
    """``trial #3``, ``refit of trial #3``, ``ensemble of trials #3, #1`` or ``network of trial #3 distilled
    from trials #3, #1``, plus the TTA mode: how a selection and a test score name their model."""
    if kind == "ensemble":
        text = "ensemble of trials " + ", ".join(f"#{m}" for m in members)
    elif kind == "distilled":
        text = f"network of trial #{trial} distilled from trials " + ", ".join(f"#{m}" for m in members)
    elif kind == "refit":
        text = f"refit of trial #{trial}"
    else:
        text = f"trial #{trial}"
    return text + (f" with {tta} TTA" if tta != "none" else "")


@dataclass(frozen=True)
class Selection:
    """What the study finally selected on validation.

    Args:
        kind: ``trial`` (a stage-1 trial's model), ``refit``, ``ensemble`` or ``distilled``.
        model_uri: Its MLflow model (``models:/m-...``).
        val_accuracy: Validation accuracy without TTA.
        val_accuracy_tta: Validation accuracy with ``tta`` (what selection compared).
        tta: The TTA mode the selection, and so the test score, applies.
        members: The stage-1 trial numbers it comes from, best first: one for a trial or refit, the
            members of an ensemble, or a distilled network's teacher ensemble (its first member is the
            refit whose architecture and weights the network started from).
        run_id: The MLflow run that logged the model.
    """

    kind: str
    model_uri: str
    val_accuracy: float
    val_accuracy_tta: float
    tta: str
    members: tuple[int, ...]
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Unknown selection kind {self.kind!r}; choose one of: {', '.join(KINDS)}")
        if self.tta not in TTA_MODES:
            raise ConfigError(f"Unknown tta {self.tta!r}; choose one of: {', '.join(TTA_MODES)}")
        object.__setattr__(self, "members", tuple(int(m) for m in self.members))
        fewest = _MANY_MEMBERS.get(self.kind)
        if (fewest is None and len(self.members) != 1) or len(self.members) < (fewest or 1):
            needs = "one" if fewest is None else f"{fewest} or more"
            raise ConfigError(f"a {self.kind} selection needs {needs} member trial(s) (got {list(self.members)})")

    @property
    def trial(self) -> int:
        """The stage-1 trial it is named after (an ensemble's best member)."""
        return self.members[0]

    @property
    def tta_gain(self) -> float:
        """Validation accuracy gained by TTA."""
        return self.val_accuracy_tta - self.val_accuracy

    def describe(self) -> str:
        """``trial #3``, ``refit of trial #3``, ``ensemble of trials #3, #1`` or ``network of trial #3
        distilled from trials #3, #1``, plus the TTA mode."""
        return describe_model(self.kind, self.trial, self.members, self.tta)

    def to_attr(self) -> dict[str, Any]:
        return {"kind": self.kind, "model_uri": self.model_uri, "val_accuracy": self.val_accuracy,
                "val_accuracy_tta": self.val_accuracy_tta, "tta": self.tta, "members": list(self.members),
                "run_id": self.run_id}

    @classmethod
    def from_attr(cls, attr: dict[str, Any]) -> Selection:
        return cls(kind=attr["kind"], model_uri=attr["model_uri"], val_accuracy=float(attr["val_accuracy"]),
                   val_accuracy_tta=float(attr["val_accuracy_tta"]), tta=attr["tta"],
                   members=tuple(attr["members"]), run_id=attr.get("run_id"))


def recorded_selection(study: optuna.Study) -> Selection | None:
    """The selection stage 2 recorded on the study, or None (then the best stage-1 trial is selected)."""
    attr = study.user_attrs.get(SELECTED_ATTR)
    return Selection.from_attr(attr) if attr else None


def record_selection(study: optuna.Study, selection: Selection, tracker: StudyTracker, parent_run_id: str) -> None:
    """Stores ``selection`` on the study and on its parent MLflow run (tags and metrics)."""
    tracker.set_tags(parent_run_id, {
        SELECTED_KIND_TAG: selection.kind, SELECTED_MEMBERS_TAG: ",".join(map(str, selection.members)),
        SELECTED_TTA_TAG: selection.tta, SELECTED_MODEL_URI_TAG: selection.model_uri,
    })
    tracker.log_metrics(parent_run_id, {"selected_val_accuracy": selection.val_accuracy,
                                        "selected_val_accuracy_tta": selection.val_accuracy_tta})
    study.set_user_attr(SELECTED_ATTR, selection.to_attr())
