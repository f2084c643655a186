"""The activation registry: one table from config name to Keras 3 activation function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from keras import activations

from fer_core.errors import ConfigError

ActivationFn = Callable[..., Any]

ACTIVATIONS: Mapping[str, ActivationFn] = MappingProxyType(
    {
        "celu": activations.celu,
        "elu": activations.elu,
        "gelu": activations.gelu,
        "hard_silu": activations.hard_silu,
        "hard_swish": activations.hard_swish,
        "leaky_relu": activations.leaky_relu,
        "mish": activations.mish,
        "relu": activations.relu,
        "relu6": activations.relu6,
        "selu": activations.selu,
        "silu": activations.silu,
        "softplus": activations.softplus,
        "swish": activations.swish,
        "tanh": activations.tanh,
    }
)
"""Activation name (as written in configs and search spaces) -> Keras activation function."""


def check_activation(name: str, value: Any) -> str:
    """Return ``value`` when it names a registered activation; the error lists every choice."""
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ConfigError(
            f"{name}: unknown activation {value!r}; choose one of: {', '.join(ACTIVATIONS)}"
        )
    return value


def get_activation(name: str) -> ActivationFn:
    """The Keras activation function registered under ``name``."""
    return ACTIVATIONS[check_activation("activation", name)]
