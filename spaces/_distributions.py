"""Value objects for one entry of a space: a fixed value or a distribution, plus its condition."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from spaces._errors import SpaceError
from spaces._suggester import CategoricalValue, Suggester

_STEP_TOLERANCE = 1e-9


def is_int(value: Any) -> bool:
    """True for an integer that is not a bool (YAML `true` must not pass for 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for an int or a float that is not a bool."""
    return is_int(value) or isinstance(value, float)


def same_value(first: Any, second: Any) -> bool:
    """Equality where a bool never equals a number (YAML `true` is not 1)."""
    if isinstance(first, bool) or isinstance(second, bool):
        return type(first) is type(second) and first == second
    return first == second


@dataclass(frozen=True)
class Fixed:
    """A value that is not searched: the sample always holds it."""

    value: Any

    def draw(self, suggester: Suggester, name: str) -> Any:
        """The fixed value (the suggester is not asked)."""
        return self.value

    def can_take(self, value: Any) -> bool:
        """True when `value` equals the fixed value (bools never equal numbers)."""
        return same_value(self.value, value)

    def values(self) -> tuple[Any, ...]:
        """Every value this entry can take (to check against the schema)."""
        return (self.value,)


@dataclass(frozen=True)
class IntRange:
    """Integers low..high on the grid low + k * step, uniform or log-uniform."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        for label, bound in (("low", self.low), ("high", self.high), ("step", self.step)):
            if not is_int(bound):
                raise SpaceError(
                    f"`{label}` of an int range must be an integer (got {bound!r}); "
                    "use {float: [...]} for real numbers"
                )
        _check_order(self.low, self.high)
        if self.step < 1:
            raise SpaceError(f"`step` must be >= 1 (got {self.step})")
        if (self.high - self.low) % self.step:
            fitting_high = self.low + (self.high - self.low) // self.step * self.step
            raise SpaceError(
                f"`step` must divide `high` - `low` (low={self.low}, high={self.high}, "
                f"step={self.step}); adjust `high` to {fitting_high}"
            )
        _check_log(self.low, self.log)
        if self.log and self.step != 1:
            raise SpaceError(f"`log: true` works with step 1 only (got step={self.step}); drop one of them")

    def draw(self, suggester: Suggester, name: str) -> int:
        """Asks the suggester for an int named `name`."""
        return int(suggester.suggest_int(name, self.low, self.high, step=self.step, log=self.log))

    def can_take(self, value: Any) -> bool:
        """True when `value` is an integer on this range's grid."""
        return is_int(value) and self.low <= value <= self.high and (value - self.low) % self.step == 0

    def values(self) -> tuple[Any, ...]:
        """The two ends (enough to check a convex rule such as `>= 1`)."""
        return (self.low, self.high)


@dataclass(frozen=True)
class FloatRange:
    """Reals in [low, high], uniform or log-uniform, optionally on the grid low + k * step."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __post_init__(self) -> None:
        for label, bound in (("low", self.low), ("high", self.high)):
            if not is_number(bound) or not math.isfinite(bound):
                raise SpaceError(f"`{label}` of a float range must be a finite number (got {bound!r})")
        _check_order(self.low, self.high)
        _check_log(self.low, self.log)
        if self.step is not None:
            self._check_step(self.step)

    def _check_step(self, step: Any) -> None:
        if not is_number(step) or step <= 0:
            raise SpaceError(f"`step` must be a number > 0 (got {step!r})")
        if self.log:
            raise SpaceError(f"`log: true` cannot have a `step` (got step={step}); drop one of them")
        n_steps = (self.high - self.low) / step
        if abs(n_steps - round(n_steps)) > _STEP_TOLERANCE * max(1.0, n_steps):
            raise SpaceError(
                f"`step` must divide `high` - `low` (low={self.low}, high={self.high}, step={step}); "
                f"adjust `high` to {self.low + math.floor(n_steps) * step:g}"
            )

    def draw(self, suggester: Suggester, name: str) -> float:
        """Asks the suggester for a float named `name`."""
        return float(suggester.suggest_float(name, self.low, self.high, step=self.step, log=self.log))

    def can_take(self, value: Any) -> bool:
        """True when `value` is a number inside [low, high]."""
        return is_number(value) and self.low <= value <= self.high

    def values(self) -> tuple[Any, ...]:
        """The two ends (enough to check a convex rule such as `in [0, 1)`)."""
        return (self.low, self.high)


@dataclass(frozen=True)
class Choice:
    """One of a non-empty tuple of plain scalars (None, bool, int, float, str)."""

    choices: tuple[CategoricalValue, ...]

    def __post_init__(self) -> None:
        if not self.choices:
            raise SpaceError("`choice` needs at least one value (got an empty list)")
        for value in self.choices:
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise SpaceError(
                    f"`choice` values must be plain scalars (null, bool, int, float, str); got {value!r}"
                )
        duplicates = sorted({repr(value) for value in self.choices if self._count(value) > 1})
        if duplicates:
            raise SpaceError(f"`choice` lists a value twice ({', '.join(duplicates)}); list each value once")

    def _count(self, value: Any) -> int:
        return sum(same_value(value, other) for other in self.choices)

    def draw(self, suggester: Suggester, name: str) -> Any:
        """Asks the suggester for one of the choices."""
        return suggester.suggest_categorical(name, list(self.choices))

    def can_take(self, value: Any) -> bool:
        """True when `value` is one of the choices."""
        return any(same_value(choice, value) for choice in self.choices)

    def values(self) -> tuple[Any, ...]:
        """Every choice."""
        return self.choices


Distribution = IntRange | FloatRange | Choice
Spec = Fixed | IntRange | FloatRange | Choice


@dataclass(frozen=True)
class Condition:
    """Holds when the global parameter `target` took one of `values` in this sample."""

    target: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise SpaceError(f"`when` lists no value for {self.target}; give a value or a list of values")


@dataclass(frozen=True)
class Variant:
    """A spec used only when all its conditions hold (an empty tuple always holds)."""

    spec: Spec
    when: tuple[Condition, ...] = ()


def same_kind(first: Spec, second: Spec) -> bool:
    """True when Optuna accepts both under one parameter name (same kind, same log, same choices)."""
    if isinstance(first, Fixed) or isinstance(second, Fixed):
        return True
    if type(first) is not type(second):
        return False
    if isinstance(first, Choice):
        return first == second
    return first.log == second.log  # type: ignore[union-attr]


def _check_order(low: float, high: float) -> None:
    if low > high:
        raise SpaceError(f"`low` must be <= `high` (low={low}, high={high})")


def _check_log(low: float, log: Any) -> None:
    if not isinstance(log, bool):
        raise SpaceError(f"`log` must be true or false (got {log!r})")
    if log and low <= 0:
        raise SpaceError(f"`log: true` needs `low` > 0 (low={low}); raise `low` or drop `log`")
