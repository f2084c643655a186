"""`SearchSpace`: the validated form of a space file, and how it turns suggestions into a candidate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spaces._distributions import Condition, Fixed, Variant, same_value
from spaces._errors import SpaceError
from spaces._suggester import Suggester

_UNUSED = object()
"""Marks an entry whose conditions do not hold in a sample (its key is left out)."""


@dataclass(frozen=True)
class Entry:
    """One candidate key and its variants: the first variant whose conditions hold gives the value."""

    key: str
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        if not self.variants:
            raise SpaceError(f"{self.key} needs a value or a distribution")

    @property
    def is_searchable(self) -> bool:
        """True when some variant is a distribution (not a fixed value)."""
        return any(not isinstance(variant.spec, Fixed) for variant in self.variants)

    @property
    def is_conditional(self) -> bool:
        """True when some variant has a `when` (the entry may be left out of a sample)."""
        return any(variant.when for variant in self.variants)

    def values(self) -> tuple[Any, ...]:
        """Every value (or range end) any variant can give."""
        return tuple(value for variant in self.variants for value in variant.spec.values())

    def can_take(self, value: Any) -> bool:
        """True when some variant can give `value`."""
        return any(variant.spec.can_take(value) for variant in self.variants)


@dataclass(frozen=True)
class Group:
    """Repeated items of the architecture (conv blocks or dense layers) of a sampled count.

    Item i (1-based) uses `templates[i - 1]`, or `templates[0]` when `shared`. With a
    `growth` entry, the `grown_key` (filters / units) is drawn for item 1 only and item i gets
    round(item1 * growth ** (i - 1)).
    """

    item: str
    count_key: str
    count: Entry
    templates: tuple[tuple[Entry, ...], ...]
    grown_key: str
    growth: Entry | None = None
    shared: bool = True

    @property
    def growth_key(self) -> str:
        """Architecture key of the growth factor, e.g. filters_growth."""
        return f"{self.grown_key}_growth"

    def template(self, index: int) -> tuple[Entry, ...]:
        """The entries of item `index` (1-based)."""
        return self.templates[0] if self.shared else self.templates[index - 1]

    @property
    def max_count(self) -> int:
        """The largest number of items a sample can have."""
        return max(self.count.values())

    @property
    def min_count(self) -> int:
        """The smallest number of items a sample can have."""
        return min(self.count.values())

    def item_name(self, index: int, key: str) -> str:
        """Suggestion name of `key` of item `index`, e.g. architecture.block2.filters."""
        return f"architecture.{self.item}{index}.{key}"

    def is_derived(self, index: int, key: str) -> bool:
        """True when `key` of item `index` follows from item 1 by growth (not drawn)."""
        return self.growth is not None and index > 1 and key == self.grown_key


@dataclass(frozen=True)
class Parameter:
    """One name a sample may pass to the suggester, with its variants (distributions or values)."""

    name: str
    variants: tuple[Variant, ...]
    is_conditional: bool

    @property
    def is_searchable(self) -> bool:
        """True when the suggester is asked for it (some variant is a distribution)."""
        return any(not isinstance(variant.spec, Fixed) for variant in self.variants)


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space: sample it with any `Suggester` (an `optuna.Trial` works as is).

    Attributes:
        name: Space name (the file stem).
        path: The YAML file it was read from.
        description: What the space is for (its `description` key or its first comment lines).
        max_macs: Budget: candidates above this many multiply-accumulates should be skipped (None: no limit).
        source_text: The YAML text as read, to log as an artifact.
        architecture: Entries of the architecture keys other than blocks and dense.
        blocks: The conv blocks.
        dense: The hidden dense layers, or None when the space leaves them to fer_core's default.
        training: Entries of the `training` section.
        augmentation: Entries of the `augmentation` section.
    """

    name: str
    path: Path
    description: str
    max_macs: float | None
    source_text: str
    architecture: tuple[Entry, ...]
    blocks: Group
    dense: Group | None
    training: tuple[Entry, ...]
    augmentation: tuple[Entry, ...]

    def __post_init__(self) -> None:
        if not self.name:
            raise SpaceError("a search space needs a name")
        if self.max_macs is not None and not self.max_macs > 0:
            raise SpaceError(f"budget.max_macs must be > 0 (got {self.max_macs!r})")

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Every searchable parameter under its suggestion name (conditional ones included)."""
        return tuple(parameter for parameter in self._all_parameters() if parameter.is_searchable)

    @property
    def n_parameters(self) -> int:
        """Number of searchable parameters (conditional ones and every possible block included)."""
        return len(self.parameters)

    @property
    def n_fixed(self) -> int:
        """Number of keys a space fixes (counted like `n_parameters`: per possible block)."""
        return sum(not parameter.is_searchable for parameter in self._all_parameters())

    @property
    def global_entries(self) -> dict[str, Entry]:
        """Entries outside the repeated groups (counts and growth factors included) by dotted name."""
        entries = {f"architecture.{entry.key}": entry for entry in self.architecture}
        for group in self._groups():
            entries[f"architecture.{group.count_key}"] = group.count
            if group.growth is not None:
                entries[f"architecture.{group.growth_key}"] = group.growth
        entries.update({f"training.{entry.key}": entry for entry in self.training})
        entries.update({f"augmentation.{entry.key}": entry for entry in self.augmentation})
        return entries

    def sample(self, suggester: Suggester) -> dict[str, dict[str, Any]]:
        """A candidate `{"architecture", "training", "augmentation"}` for fer_core's `from_dict`s.

        Only the parameters this candidate uses are suggested; the same suggestions always give the
        same candidate. The result is a fresh dict the caller may change (e.g. `training.epochs`).
        """
        return _Sampler(self, suggester).candidate()

    def _all_parameters(self) -> list[Parameter]:
        optional_growths = {
            f"architecture.{group.growth_key}" for group in self._groups() if group.min_count < 2
        }
        parameters = [
            Parameter(name, entry.variants, entry.is_conditional or name in optional_growths)
            for name, entry in self.global_entries.items()
        ]
        for group in self._groups():
            parameters.extend(_group_parameters(group))
        return parameters

    def _groups(self) -> tuple[Group, ...]:
        return (self.blocks,) if self.dense is None else (self.blocks, self.dense)


def _group_parameters(group: Group) -> list[Parameter]:
    parameters = []
    for index in range(1, group.max_count + 1):
        optional_item = index > group.min_count
        for entry in group.template(index):
            if not group.is_derived(index, entry.key):
                name = group.item_name(index, entry.key)
                parameters.append(Parameter(name, entry.variants, optional_item or entry.is_conditional))
    return parameters


class _Sampler:
    """Draws one candidate, resolving each global entry once and only when it is needed."""

    def __init__(self, space: SearchSpace, suggester: Suggester) -> None:
        self._space = space
        self._suggester = suggester
        self._globals = space.global_entries
        self._values: dict[str, Any] = {}

    def candidate(self) -> dict[str, dict[str, Any]]:
        architecture: dict[str, Any] = {"blocks": self._items(self._space.blocks)}
        architecture.update(self._section("architecture", self._space.architecture))
        if self._space.dense is not None:
            architecture["dense"] = self._items(self._space.dense)
        return {
            "architecture": architecture,
            "training": self._section("training", self._space.training),
            "augmentation": self._section("augmentation", self._space.augmentation),
        }

    def _section(self, section: str, entries: tuple[Entry, ...]) -> dict[str, Any]:
        values = {entry.key: self._global(f"{section}.{entry.key}") for entry in entries}
        return {key: value for key, value in values.items() if value is not _UNUSED}

    def _items(self, group: Group) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for index in range(1, self._global(f"architecture.{group.count_key}") + 1):
            item: dict[str, Any] = {}
            for entry in group.template(index):
                if not group.is_derived(index, entry.key):
                    value = self._draw(group.item_name(index, entry.key), entry)
                    if value is not _UNUSED:
                        item[entry.key] = value
            if group.growth is not None and index > 1:
                item[group.grown_key] = self._grown(group, items[0][group.grown_key], index)
            items.append(item)
        return items

    def _grown(self, group: Group, first: int, index: int) -> int:
        growth = self._global(f"architecture.{group.growth_key}")
        return max(1, int(first * growth ** (index - 1) + 0.5))

    def _global(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = self._draw(name, self._globals[name])
        return self._values[name]

    def _draw(self, name: str, entry: Entry) -> Any:
        for variant in entry.variants:
            if all(self._holds(condition) for condition in variant.when):
                return variant.spec.draw(self._suggester, name)
        return _UNUSED

    def _holds(self, condition: Condition) -> bool:
        value = self._global(condition.target)
        return value is not _UNUSED and any(same_value(value, wanted) for wanted in condition.values)
