"""The architecture part of a candidate configuration: frozen, self-validating value objects.

``ArchitectureConfig.from_dict`` is the boundary where search-space samples and YAML presets enter
``fer_core``; it rejects unknown keys and bad values with a ``ConfigError`` naming the key path, the
value and the rule, e.g. ``architecture.blocks[1].padding must be one of same, valid (got 'full')``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from fer_core.errors import ConfigError
from fer_core.model._activations import check_activation
from fer_core.model._checks import (
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_keys,
    check_list,
    check_ratio,
    prefixed,
)

PADDINGS: tuple[str, ...] = ("same", "valid")
POOLINGS: tuple[str, ...] = ("max", "avg", "none")
BATCH_NORMS: tuple[str, ...] = ("none", "block", "conv")
HEADS: tuple[str, ...] = ("flatten", "gap")
CONV_TYPES: tuple[str, ...] = ("standard", "separable")


def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(cls))


class _FlatConfig:
    """``from_dict``/``to_dict`` for a config whose fields are all plain values (no nested configs)."""

    _REQUIRED: tuple[str, ...] = ()
    _PATH: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> Any:
        """Build from a plain dict; ``path`` is the key path used in error messages."""
        path = path or cls._PATH
        check_keys(path, data, allowed=_field_names(cls), required=cls._REQUIRED)
        try:
            return cls(**data)
        except ConfigError as error:
            raise prefixed(path, error) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with every field (defaults included); ``from_dict`` round-trips it."""
        return asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass


@dataclass(frozen=True)
class ConvBlockConfig(_FlatConfig):
    """One conv block: ``n_convs`` convolutions, optional squeeze-and-excitation and residual shortcut,
    then optional pooling, then optional dropout.

    Args:
        filters: Output channels of every conv in the block.
        n_convs: Number of convolutions.
        kernel_size: Square kernel size of every conv.
        strides: Strides of the block's FIRST conv (the others use 1).
        padding: ``"same"`` keeps the size (at stride 1), ``"valid"`` shrinks it by ``kernel_size - 1``.
        pooling: ``"max"``, ``"avg"`` or ``"none"``; pools with stride ``pool_size``, floor semantics.
        pool_size: Square pooling window and stride.
        dropout: Dropout rate applied after pooling (0 = no dropout layer).
        conv_type: ``"standard"`` (Conv2D) or ``"separable"`` (SeparableConv2D: a depthwise
            ``kernel_size`` conv then a 1x1 pointwise conv; needs ``kernel_size`` >= 2).
        residual: Add the block's input to its convs' output before pooling: as is when channels
            and size match, else through a 1x1 projection conv with ``strides`` (needs padding "same").
        se_ratio: Squeeze-and-excitation after the convs with ``max(1, round(filters * se_ratio))``
            squeeze units (0 = none).
    """

    _REQUIRED = ("filters",)
    _PATH = "block"

    filters: int
    n_convs: int = 2
    kernel_size: int = 3
    strides: int = 1
    padding: str = "same"
    pooling: str = "max"
    pool_size: int = 2
    dropout: float = 0.0
    conv_type: str = "standard"
    residual: bool = False
    se_ratio: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", check_int("filters", self.filters, minimum=1))
        object.__setattr__(self, "n_convs", check_int("n_convs", self.n_convs, minimum=1))
        object.__setattr__(self, "kernel_size", check_int("kernel_size", self.kernel_size, minimum=1))
        object.__setattr__(self, "strides", check_int("strides", self.strides, minimum=1))
        check_choice("padding", self.padding, PADDINGS)
        check_choice("pooling", self.pooling, POOLINGS)
        object.__setattr__(self, "pool_size", check_int("pool_size", self.pool_size, minimum=2))
        object.__setattr__(self, "dropout", check_fraction("dropout", self.dropout))
        check_choice("conv_type", self.conv_type, CONV_TYPES)
        check_bool("residual", self.residual)
        object.__setattr__(self, "se_ratio", check_ratio("se_ratio", self.se_ratio))
        self._check_combinations()

    def _check_combinations(self) -> None:
        if self.conv_type == "separable" and self.kernel_size < 2:
            raise ConfigError(
                f"kernel_size must be >= 2 for a separable conv (got {self.kernel_size}); "
                f"use conv_type standard for 1x1 convs"
            )
        if self.residual and self.padding != "same":
            raise ConfigError(
                f"padding must be same for a residual block (got {self.padding!r}); "
                f"set residual false or padding same"
            )

    @property
    def squeeze_units(self) -> int:
        """Units of the squeeze-and-excitation bottleneck (0 when the block has none)."""
        return max(1, round(self.filters * self.se_ratio)) if self.se_ratio > 0 else 0



@dataclass(frozen=True)
class DenseLayerConfig(_FlatConfig):
    """One hidden dense layer of the head, followed by optional dropout.

    Args:
        units: Number of units.
        dropout: Dropout rate after the layer (0 = no dropout layer).
    """

    _REQUIRED = ("units",)
    _PATH = "dense"

    units: int
    dropout: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", check_int("units", self.units, minimum=1))
        object.__setattr__(self, "dropout", check_fraction("dropout", self.dropout))



@dataclass(frozen=True)
class ArchitectureConfig:
    """A whole CNN: conv blocks, activation, batch-norm placement, head and hidden dense layers.

    The output layer (Dense(7) softmax) is implied and not configurable.

    Args:
        blocks: Conv blocks in order (at least one).
        activation: Name from ``ACTIVATIONS``, used after every conv and hidden dense layer.
        batch_norm: ``"conv"``: conv -> BN -> activation for every conv (conv bias dropped, BN's beta
            replaces it); ``"block"``: one BN after the block's last conv + activation, before
            pooling (the original study); ``"none"``.
        head: ``"flatten"`` or ``"gap"`` (global average pooling) between blocks and dense layers.
        dense: Hidden dense layers (may be empty).
    """

    blocks: tuple[ConvBlockConfig, ...]
    activation: str = "relu"
    batch_norm: str = "conv"
    head: str = "flatten"
    dense: tuple[DenseLayerConfig, ...] = ()

    def __post_init__(self) -> None:
        blocks = tuple(check_list("blocks", self.blocks, min_length=1))
        dense = tuple(check_list("dense", self.dense, min_length=0))
        _check_items("blocks", blocks, ConvBlockConfig)
        _check_items("dense", dense, DenseLayerConfig)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "dense", dense)
        check_activation("activation", self.activation)
        check_choice("batch_norm", self.batch_norm, BATCH_NORMS)
        check_choice("head", self.head, HEADS)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "architecture") -> ArchitectureConfig:
        """Build from the ``architecture`` dict of a candidate configuration (see the schema)."""
        check_keys(path, data, allowed=_field_names(cls), required=("blocks",))
        blocks = check_list(f"{path}.blocks", data["blocks"], min_length=1)
        dense = check_list(f"{path}.dense", data.get("dense", []), min_length=0)
        values = dict(data)
        values["blocks"] = tuple(
            ConvBlockConfig.from_dict(block, path=f"{path}.blocks[{index}]")
            for index, block in enumerate(blocks)
        )
        values["dense"] = tuple(
            DenseLayerConfig.from_dict(layer, path=f"{path}.dense[{index}]")
            for index, layer in enumerate(dense)
        )
        try:
            return cls(**values)
        except ConfigError as error:
            raise prefixed(path, error) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists of dicts, every default spelled out); ``from_dict`` round-trips it."""
        return {
            "blocks": [block.to_dict() for block in self.blocks],
            "activation": self.activation,
            "batch_norm": self.batch_norm,
            "head": self.head,
            "dense": [layer.to_dict() for layer in self.dense],
        }


def _check_items(name: str, items: tuple[Any, ...], item_type: type) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, item_type):
            raise ConfigError(
                f"{name}[{index}] must be a {item_type.__name__} (got {type(item).__name__}); "
                f"use ArchitectureConfig.from_dict to build from plain dicts"
            )
