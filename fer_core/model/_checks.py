"""Small value checks shared by the architecture config classes.

Each check raises ``ConfigError`` whose message starts with the field name, states the rule and echoes
the value, so that ``from_dict`` can prefix the key path (``architecture.blocks[1].``) to it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from numbers import Integral, Real
from typing import Any

from fer_core.errors import ConfigError


def check_int(name: str, value: Any, *, minimum: int) -> int:
    """Return ``value`` as int when it is an integer (bools excluded) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum} (got {value!r})")
    return int(value)


def check_fraction(name: str, value: Any) -> float:
    """Return ``value`` as float when it is a number in [0, 1) (a dropout rate)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) < 1.0:
        raise ConfigError(f"{name} must be a number in [0, 1) (got {value!r})")
    return float(value)


def check_ratio(name: str, value: Any) -> float:
    """Return ``value`` as float when it is a number in [0, 1] (a squeeze-and-excitation ratio)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{name} must be a number in [0, 1] (got {value!r})")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` when it is a bool (integers are not accepted, so a typo cannot pass)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false (got {value!r})")
    return value


def check_choice(name: str, value: Any, choices: Collection[str]) -> str:
    """Return ``value`` when it is one of ``choices`` (listed in the message otherwise)."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def check_keys(path: str, data: Any, *, allowed: Collection[str], required: Collection[str] = ()) -> None:
    """Fail when ``data`` is not a mapping, has keys outside ``allowed`` or lacks a ``required`` key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} must be a mapping (got {type(data).__name__}: {data!r})")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ConfigError(
            f"Unknown key(s) in {path}: {', '.join(unknown)}; allowed keys: {', '.join(sorted(allowed))}"
        )
    missing = [key for key in required if key not in data]
    if missing:
        raise ConfigError(f"{path} lacks the required key(s): {', '.join(missing)}")


def check_list(path: str, value: Any, *, min_length: int) -> list[Any]:
    """Return ``value`` as a list when it is a list or tuple with at least ``min_length`` items."""
    if not isinstance(value, (list, tuple)) or len(value) < min_length:
        raise ConfigError(f"{path} must be a list of at least {min_length} item(s) (got {value!r})")
    return list(value)


def prefixed(path: str, error: ConfigError) -> ConfigError:
    """The same kind of error with ``path.`` put in front of its field-relative message."""
    return type(error)(f"{path}.{error}")
