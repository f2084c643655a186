"""The sampling protocol (the subset of `optuna.Trial` a space needs) and a seeded numpy version."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

CategoricalValue = None | bool | int | float | str
"""What a categorical choice may be (Optuna's rule: plain scalars only)."""


@runtime_checkable
class Suggester(Protocol):
    """Draws named hyperparameter values; an `optuna.Trial` satisfies it as it is."""

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """An integer in [low, high] on the grid low + k * step (log-uniform when `log`)."""
        ...

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """A float in [low, high] (on the grid low + k * step when `step`, log-uniform when `log`)."""
        ...

    def suggest_categorical(self, name: str, choices: Sequence[CategoricalValue]) -> Any:
        """One of `choices`."""
        ...


class RandomSuggester:
    """Independent uniform (or log-uniform) draws from a seeded numpy generator.

    Like Optuna, asking twice for the same name with the same distribution returns the first
    value; asking with a different distribution is an error. Every value drawn is recorded in
    `params` (name -> value), in the order asked.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.params: dict[str, Any] = {}
        self._distributions: dict[str, tuple[Any, ...]] = {}
        self._rng = np.random.default_rng(seed)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """An integer in [low, high] on the grid low + k * step (log-uniform when `log`)."""
        return self._recorded(
            name, ("int", low, high, step, log), lambda: self._draw_int(low, high, step, log)
        )

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """A float in [low, high] (on the grid low + k * step when `step`, log-uniform when `log`)."""
        return self._recorded(
            name, ("float", low, high, step, log), lambda: self._draw_float(low, high, step, log)
        )

    def suggest_categorical(self, name: str, choices: Sequence[CategoricalValue]) -> Any:
        """One of `choices`, each equally likely."""
        options = tuple(choices)
        if not options:
            raise ValueError(f"suggest_categorical({name!r}) needs at least one choice")
        return self._recorded(
            name, ("categorical", options), lambda: options[int(self._rng.integers(len(options)))]
        )

    def _recorded(self, name: str, distribution: tuple[Any, ...], draw: Any) -> Any:
        if name in self.params:
            if self._distributions[name] != distribution:
                raise ValueError(
                    f"Parameter {name!r} was suggested with {self._distributions[name]} "
                    f"and now with {distribution}; one name takes one distribution per trial"
                )
            return self.params[name]
        value = draw()
        self.params[name] = value
        self._distributions[name] = distribution
        return value

    def _draw_int(self, low: int, high: int, step: int, log: bool) -> int:
        if low > high or step < 1:
            raise ValueError(
                f"suggest_int needs low <= high and step >= 1 (low={low}, high={high}, step={step})"
            )
        if log:
            if low < 1 or step != 1:
                raise ValueError(f"log suggest_int needs low >= 1 and step == 1 (low={low}, step={step})")
            drawn = math.exp(self._rng.uniform(math.log(low - 0.5), math.log(high + 0.5)))
            return int(min(max(round(drawn), low), high))
        n_steps = (high - low) // step
        return int(low + step * int(self._rng.integers(n_steps + 1)))

    def _draw_float(self, low: float, high: float, step: float | None, log: bool) -> float:
        if low > high:
            raise ValueError(f"suggest_float needs low <= high (low={low}, high={high})")
        if log:
            if low <= 0 or step is not None:
                raise ValueError(f"log suggest_float needs low > 0 and no step (low={low}, step={step})")
            return float(math.exp(self._rng.uniform(math.log(low), math.log(high))))
        if step is not None:
            n_steps = int(math.floor((high - low) / step + 1e-9))
            return float(min(low + step * int(self._rng.integers(n_steps + 1)), high))
        return float(self._rng.uniform(low, high))
