"""The candidate schema as a space sees it: every key a space may set, its type and its rule.

Name lists (activations, paddings, optimizers, ...) come from fer_core's own registries, so a space
is checked against exactly what the model builder and trainer accept; the type and range of each
key restate docs/configs (the agreed schema) so a bad space fails when read, before any training.
A test keeps the key sets equal to fer_core's config dataclasses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from fer_core.model import ACTIVATIONS, BATCH_NORMS, CONV_TYPES, HEADS, PADDINGS, POOLINGS
from fer_core.train import OPTIMIZER_BUILDERS, SCHEDULE_BUILDERS
from spaces._distributions import is_int, is_number

Kind = Literal["int", "float", "bool", "name"]


@dataclass(frozen=True)
class FieldRule:
    """What one candidate key accepts: its kind, then a range (numbers) or a list of names."""

    kind: Kind
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    names: tuple[str, ...] = ()
    nullable: bool = False
    required: bool = False

    def describe(self) -> str:
        """The rule in words, e.g. 'an integer >= 1' or 'one of same, valid'."""
        if self.kind == "bool":
            text = "true or false"
        elif self.kind == "name":
            text = f"one of {', '.join(self.names)}"
        else:
            text = f"{'an integer' if self.kind == 'int' else 'a number'}{self._range_text()}"
        return f"{text} or null" if self.nullable else text

    def accepts(self, value: Any) -> bool:
        """True when `value` is valid for this key."""
        if value is None:
            return self.nullable
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "name":
            return isinstance(value, str) and value in self.names
        if not (is_int(value) if self.kind == "int" else is_number(value) and math.isfinite(value)):
            return False
        return self._in_range(value)

    def _in_range(self, value: float) -> bool:
        above_low = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below_high = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above_low and below_high

    def _range_text(self) -> str:
        if self.low is not None and self.high is not None:
            opening, closing = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f" in {opening}{self.low:g}, {self.high:g}{closing}"
        if self.low is not None:
            return f" {'>' if self.low_open else '>='} {self.low:g}"
        return ""


def _int(low: int | None = None, high: int | None = None, **flags: Any) -> FieldRule:
    return FieldRule("int", low=low, high=high, **flags)


def _float(low: float, high: float | None = None, **flags: Any) -> FieldRule:
    return FieldRule("float", low=low, high=high, **flags)


def _names(names: Any) -> FieldRule:
    return FieldRule("name", names=tuple(names))


_FRACTION = _float(0.0, 1.0, high_open=True)
_BOOL = FieldRule("bool")

BLOCK_FIELDS: Mapping[str, FieldRule] = MappingProxyType(
    {
        "n_convs": _int(1),
        "filters": _int(1, required=True),
        "kernel_size": _int(1),
        "strides": _int(1),
        "padding": _names(PADDINGS),
        "pooling": _names(POOLINGS),
        "pool_size": _int(2),
        "dropout": _FRACTION,
        "conv_type": _names(CONV_TYPES),
        "residual": _BOOL,
        "se_ratio": _float(0.0, 1.0),
    }
)
"""One conv block (`architecture.blocks[i]`)."""

DENSE_FIELDS: Mapping[str, FieldRule] = MappingProxyType(
    {"units": _int(1, required=True), "dropout": _FRACTION}
)
"""One hidden dense layer (`architecture.dense[i]`)."""

ARCHITECTURE_FIELDS: Mapping[str, FieldRule] = MappingProxyType(
    {"activation": _names(ACTIVATIONS), "batch_norm": _names(BATCH_NORMS), "head": _names(HEADS)}
)
"""The architecture keys other than `blocks` and `dense`."""

TRAINING_FIELDS: Mapping[str, FieldRule] = MappingProxyType(
    {
        "optimizer": _names(OPTIMIZER_BUILDERS),
        "learning_rate": _float(0.0, low_open=True),
        "weight_decay": _float(0.0),
        "momentum": _FRACTION,
        "label_smoothing": _FRACTION,
        "class_weighting": _BOOL,
        "batch_size": _int(1),
        "epochs": _int(1),
        "early_stopping_patience": _int(1, nullable=True),
        "schedule": _names(SCHEDULE_BUILDERS),
        "plateau_factor": _float(0.0, 1.0, low_open=True, high_open=True),
        "plateau_patience": _int(1),
        "warmup_epochs": _int(0),
        "min_learning_rate": _float(0.0),
        "cycle_peak": _float(0.0, 1.0, low_open=True, high_open=True),
        "ema_momentum": _FRACTION,
        "mixup_alpha": _float(0.0, 10.0),
        "cutmix_alpha": _float(0.0, 10.0),
        "seed": _int(),
    }
)
"""Every `training` key."""

AUGMENTATION_FIELDS: Mapping[str, FieldRule] = MappingProxyType(
    {
        "horizontal_flip": _BOOL,
        "rotation": _float(0.0, 45.0),
        "shift": _float(0.0, 0.5, high_open=True),
        "zoom": _float(0.0, 0.5, high_open=True),
        "erasing": _float(0.0, 1.0),
        "crop_padding": _int(0, 16),
    }
)
"""Every `augmentation` key."""

COUNT_RULES: Mapping[str, FieldRule] = MappingProxyType(
    {
        "n_blocks": _int(1),
        "n_dense": _int(0),
        "filters_growth": _float(0.0, low_open=True),
        "units_growth": _float(0.0, low_open=True),
    }
)
"""Space-only architecture keys: how many blocks / dense layers, and growth factors."""
