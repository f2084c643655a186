"""What a trial trains: a candidate dict sampled from a space, or one fixed architecture (``train``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import yaml

if TYPE_CHECKING:
    from fer_core.model import ArchitectureConfig
    from fer_core.train import AugmentationConfig, TrainConfig


class CandidateSource(Protocol):
    """A search space, or anything else that turns a trial's suggestions into a candidate dict."""

    # Read-only members (properties), so that frozen dataclasses such as spaces.SearchSpace match.
    @property
    def name(self) -> str: ...
    @property
    def max_macs(self) -> float | None: ...
    @property
    def source_text(self) -> str: ...

    def sample(self, suggester: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FixedCandidate:
    """One fixed candidate (e.g. the original study's ``seed`` network) run through the same path."""

    name: str
    candidate: dict[str, Any]
    max_macs: float | None = None
    source_text: str = field(default="", compare=False)

    def sample(self, suggester: Any) -> dict[str, Any]:
        return copy.deepcopy(self.candidate)


def fixed_candidate_for_preset(preset: str, training: dict[str, Any]) -> FixedCandidate:
    """A FixedCandidate with a named architecture preset and the given training settings."""
    from fer_core.model import get_preset

    candidate = {"architecture": get_preset(preset).to_dict(), "training": training, "augmentation": {}}
    return FixedCandidate(
        name=f"preset:{preset}", candidate=candidate, source_text=yaml.safe_dump(candidate, sort_keys=False)
    )


@dataclass(frozen=True)
class ResolvedCandidate:
    """A candidate turned into validated fer_core configurations."""

    architecture: ArchitectureConfig
    training: TrainConfig
    augmentation: AugmentationConfig
    raw: dict[str, Any]

    def build_model(self) -> Any:
        """The Keras model: its architecture with its augmentation inside, in the machine's dtype policy."""
        from fer_core.model import build_model
        from fer_core.train import build_augmentation, default_dtype_policy

        return build_model(self.architecture, augmentation=build_augmentation(self.augmentation),
                           dtype_policy=default_dtype_policy())


def resolve_candidate(raw: dict[str, Any], *, max_epochs: int | None) -> ResolvedCandidate:
    """Validates a candidate dict; ``max_epochs`` (``--epochs``) replaces the space's epoch budget.

    Early stopping and pruning can still end a trial sooner: it is a maximum.

    Raises:
        fer_core.errors.ConfigError: The candidate is invalid (GeometryError when it shrinks below 1x1).
    """
    from fer_core.model import ArchitectureConfig, check_geometry
    from fer_core.train import AugmentationConfig, TrainConfig

    raw = copy.deepcopy(raw)
    training = dict(raw.get("training", {}))
    if max_epochs is not None:
        training["epochs"] = max_epochs
        # A warm-up sampled for the space's longer budget must still leave epochs to decay over.
        if int(training.get("warmup_epochs", 0)) >= max_epochs:
            training["warmup_epochs"] = max_epochs - 1
    raw["training"] = training
    architecture = ArchitectureConfig.from_dict(raw.get("architecture", {}))
    check_geometry(architecture)
    return ResolvedCandidate(
        architecture=architecture,
        training=TrainConfig.from_dict(training),
        augmentation=AugmentationConfig.from_dict(raw.get("augmentation", {})),
        raw=raw,
    )
