"""Checks shared by the training and augmentation configs: each failure names key, rule and value."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from numbers import Integral, Real
from typing import Any

from fer_core.errors import ConfigError


def require_mapping(data: object, path: str) -> Mapping[str, Any]:
    """Return ``data`` when it is a mapping with string keys, else raise ConfigError."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} must be a mapping of option names to values (got {type(data).__name__}: {data!r})")
    return data


def reject_unknown_keys(data: Mapping[str, object], allowed: Collection[str], path: str) -> None:
    """Fail on keys outside ``allowed`` so that a misspelt option is never silently ignored."""
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ConfigError(
            f"Unknown key(s) in {path}: {', '.join(repr(key) for key in unknown)}; "
            f"allowed keys are: {', '.join(sorted(allowed))}"
        )


def check_bool(value: object, key: str) -> bool:
    """A real bool: 0/1 or "yes" are rejected because they usually hide a typo in a config."""
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false (got {value!r})")
    return value


def check_choice(value: object, key: str, choices: Collection[str]) -> str:
    """One of ``choices`` (case-sensitive)."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)} (got {value!r})")
    return value


def check_int(value: object, key: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (bools rejected) within ``[low, high]``; either bound may be open-ended (None)."""
    rule = _int_rule(low, high)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ConfigError(f"{key} must be {rule} (got {value!r})")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(f"{key} must be {rule} (got {number})")
    return number


def check_float(
    value: object,
    key: str,
    *,
    low: float,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """A finite real number in the interval from ``low`` to ``high`` (open or closed ends)."""
    rule = _float_rule(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ConfigError(f"{key} must be a finite number {rule} (got {value!r})")
    number = float(value)
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if below or above:
        raise ConfigError(f"{key} must be {rule} (got {number:g})")
    return number


def _int_rule(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"an integer in [{low}, {high}]"
    if low is not None:
        return f"an integer >= {low}"
    if high is not None:
        return f"an integer <= {high}"
    return "an integer"


def _float_rule(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if math.isinf(high):
        return f"> {low:g}" if low_open else f">= {low:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
