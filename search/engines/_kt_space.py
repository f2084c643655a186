"""A search space as Keras Tuner ``HyperParameters``, and a Keras Tuner trial's values back as space parameters.

Every searchable parameter is declared up front, with Keras Tuner ``Parent`` conditions that make it
active exactly when the space's sampler would ask for it:

* ``{int: ...}`` -> ``Int`` (linear with its step, or log with ``step=None``: Keras Tuner's step is a
  multiplier under log sampling), ``{float: ...}`` -> ``Float``, ``{choice: ...}`` -> ``Choice`` (one
  value type, no null; ``[false, true]`` -> ``Boolean``); fixed values are not declared.
* Item i of a group whose count is searched is active when the count is >= i; a searched growth factor
  when the count is >= 2; each ``when`` adds a condition (several nest: all must hold).
* A parameter with alternatives (the first whose ``when`` holds is used) gets one declaration per
  searched alternative, the later ones under the extra name ``<name>#<k>``; alternative k applies when its
  own conditions hold and the earlier ones' do not. Keras Tuner conditions are "all of these hold", so an
  earlier alternative must have a single condition, on a choice or an integer parameter, for its negation
  to be expressible; otherwise the space is refused with a pointer to ``--engine optuna``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spaces import Choice, Condition, Entry, Fixed, FloatRange, Group, IntRange, SearchSpace, SpaceError
from spaces._distributions import same_value

if TYPE_CHECKING:
    import keras_tuner

TUNER_PREFIX = "tuner/"
"""Keras Tuner's own bookkeeping values (Hyperband's tuner/epochs, tuner/trial_id, ...): not parameters."""
ALTERNATIVE_SEPARATOR = "#"

_Conjunction = dict[str, tuple[Any, ...]]
"""Parameter name -> the values it must take; all of them must hold (an empty one always holds)."""
_NEVER = None
"""A conjunction that can never hold."""

_USE_OPTUNA = "run this space with --engine optuna"


@dataclass(frozen=True)
class KerasTunerSpace:
    """A search space declared as Keras Tuner hyperparameters.

    Attributes:
        space: The search space.
        hyperparameters: The whole space as ``keras_tuner.HyperParameters`` (parents before children),
            to give an oracle as its ``hyperparameters``.
        names: Keras Tuner name -> the space's parameter name (they differ for later alternatives only).
    """

    space: SearchSpace
    hyperparameters: keras_tuner.HyperParameters
    names: Mapping[str, str]

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The space parameters a Keras Tuner trial's ``values`` stand for, as the candidate uses them.

        Sampling the space with these as fixed suggestions (e.g. enqueued Optuna params) gives the
        candidate Keras Tuner proposed.

        Raises:
            SpaceError: The values lack a parameter the candidate needs (a mapping fault: it names it).
        """
        suggester = _ValuesSuggester(self._by_space_name(values), self.space.name)
        self.space.sample(suggester)
        return suggester.used

    def candidate(self, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The candidate dict of a Keras Tuner trial's ``values``."""
        return self.space.sample(_ValuesSuggester(self._by_space_name(values), self.space.name))

    def _by_space_name(self, values: Mapping[str, Any]) -> dict[str, Any]:
        by_name: dict[str, Any] = {}
        for kt_name, value in values.items():
            if kt_name.startswith(TUNER_PREFIX):
                continue
            if kt_name not in self.names:
                raise SpaceError(f"Keras Tuner proposed {kt_name!r}, which is not a parameter of space "
                                 f"{self.space.name!r}; known: {', '.join(self.names)}")
            by_name[self.names[kt_name]] = value
        return by_name


def to_keras_tuner(space: SearchSpace) -> KerasTunerSpace:
    """Declares ``space`` as Keras Tuner hyperparameters (see the module docstring for the rules).

    Raises:
        SpaceError: A parameter Keras Tuner cannot express (the message names it and the rule).
    """
    import keras_tuner

    declarations = _parents_first(_Mapper(space).declarations(), space)
    config = {"space": [declaration.config() for declaration in declarations], "values": {}}
    return KerasTunerSpace(
        space=space,
        hyperparameters=keras_tuner.HyperParameters.from_config(config),
        names={declaration.kt_name: declaration.name for declaration in declarations},
    )


@dataclass(frozen=True)
class _Declaration:
    """One Keras Tuner hyperparameter: a searched alternative of a space parameter, and when it is active."""

    kt_name: str
    name: str
    spec: IntRange | FloatRange | Choice
    conditions: tuple[tuple[str, tuple[Any, ...]], ...]
    source: str

    def config(self) -> dict[str, Any]:
        """The serialised form ``keras_tuner.HyperParameters.from_config`` reads (conditions included)."""
        hp = self._hyperparameter()
        config = hp.get_config()
        config["conditions"] = [
            {"class_name": "Parent", "config": {"name": target, "values": list(values)}}
            for target, values in self.conditions
        ]
        return {"class_name": type(hp).__name__, "config": config}

    def _hyperparameter(self) -> Any:
        from keras_tuner.engine import hyperparameters as kt_hp

        spec = self.spec
        if isinstance(spec, IntRange):
            # IntRange allows log sampling with step 1 only, and Keras Tuner reads a log step as a factor.
            return kt_hp.Int(self.kt_name, spec.low, spec.high, step=None if spec.log else spec.step,
                             sampling="log" if spec.log else "linear")
        if isinstance(spec, FloatRange):
            return kt_hp.Float(self.kt_name, float(spec.low), float(spec.high), step=spec.step,
                               sampling="log" if spec.log else "linear")
        values = _choice_values(spec, self.name, self.source)
        if len(values) == 2 and all(isinstance(value, bool) for value in values):
            return kt_hp.Boolean(self.kt_name)  # a bool Choice would come back as 0 / 1
        return kt_hp.Choice(self.kt_name, list(values))


def _choice_values(spec: Choice, name: str, source: str) -> tuple[Any, ...]:
    if any(value is None for value in spec.choices):
        raise SpaceError(f"Keras Tuner's Choice cannot hold null (choices {list(spec.choices)}); "
                         f"use a string such as 'none', or {_USE_OPTUNA}", source=source, key_path=name)
    types = sorted({type(value).__name__ for value in spec.choices})
    if len(types) > 1:
        raise SpaceError(f"Keras Tuner's Choice needs values of one type (choices {list(spec.choices)} mix "
                         f"{', '.join(types)}); write them alike (e.g. 0.0 and 0.5), or {_USE_OPTUNA}",
                         source=source, key_path=name)
    return spec.choices


class _Mapper:
    """Finds the declarations of one space: each searched alternative with its effective conditions."""

    def __init__(self, space: SearchSpace) -> None:
        self._space = space
        self._source = str(space.path)
        self._globals = space.global_entries
        self._declarations: list[_Declaration] = []

    def declarations(self) -> list[_Declaration]:
        growth_bases = {f"architecture.{group.growth_key}": self._count_at_least(group, 2) for group in self._groups()}
        for name, entry in self._globals.items():
            self._declare(name, entry, growth_bases.get(name, {}))
        for group in self._groups():
            for index in range(1, group.max_count + 1):
                base = self._count_at_least(group, index)
                for entry in group.template(index):
                    if not group.is_derived(index, entry.key):
                        self._declare(group.item_name(index, entry.key), entry, base)
        return self._declarations

    def _groups(self) -> tuple[Group, ...]:
        return (self._space.blocks,) if self._space.dense is None else (self._space.blocks, self._space.dense)

    def _declare(self, name: str, entry: Entry, base: _Conjunction | None) -> None:
        """Declares the searched alternatives of ``entry``, each active when the sampler would use it."""
        if base is _NEVER or not entry.is_searchable:
            return
        not_earlier: _Conjunction | None = {}
        for position, variant in enumerate(entry.variants, start=1):
            own = self._conjunction(name, variant.when)
            if own is _NEVER:
                continue  # this alternative never applies, and so never hides a later one
            effective = _and(base, own, not_earlier)
            if effective is not _NEVER and not isinstance(variant.spec, Fixed):
                self._add(name, variant.spec, effective)
            later_searched = any(not isinstance(later.spec, Fixed) for later in entry.variants[position:])
            if not own or not later_searched:
                return  # it always applies (later ones are never used), or nothing later is declared
            not_earlier = _and(not_earlier, self._negation(name, position, own))
            if not_earlier is _NEVER:
                return

    def _add(self, name: str, spec: Any, conditions: _Conjunction) -> None:
        n_before = sum(declaration.name == name for declaration in self._declarations)
        kt_name = name if n_before == 0 else f"{name}{ALTERNATIVE_SEPARATOR}{n_before + 1}"
        self._declarations.append(_Declaration(kt_name, name, spec, tuple(conditions.items()), self._source))

    def _conjunction(self, name: str, conditions: Sequence[Condition]) -> _Conjunction | None:
        """What ``conditions`` require of Keras Tuner parameters; fixed targets are decided here."""
        required: list[_Conjunction | None] = []
        for condition in conditions:
            fixed = self._fixed_value(condition.target)
            if fixed is not _NOT_FIXED:
                if not any(same_value(fixed, wanted) for wanted in condition.values):
                    return _NEVER
                continue
            self._check_plain_target(name, condition.target)
            required.append({condition.target: tuple(condition.values)})
        return _and(*required)

    def _negation(self, name: str, position: int, own: _Conjunction) -> _Conjunction | None:
        """"Alternative ``position`` does not apply" as a conjunction, when that can be written as one."""
        if len(own) > 1:
            wanted = " and ".join(f"{target} in {list(values)}" for target, values in own.items())
            raise SpaceError(
                f"Keras Tuner cannot express this parameter: the alternatives after number {position} apply when "
                f"not ({wanted}), which is an OR of conditions; give alternative {position} a single condition, "
                f"or {_USE_OPTUNA}",
                source=self._source, key_path=name,
            )
        ((target, values),) = own.items()
        domain = self._finite_domain(name, target, "the alternatives after a `when` on it apply when it takes "
                                                   "any other value")
        if self._globals[target].is_conditional:
            raise SpaceError(
                f"Keras Tuner cannot express this parameter: its later alternatives apply when {target} is not "
                f"{list(values)}, including when {target} itself is not used, which Keras Tuner treats as not "
                f"holding; {_USE_OPTUNA}",
                source=self._source, key_path=name,
            )
        others = tuple(value for value in domain if not any(same_value(value, wanted) for wanted in values))
        return {target: others} if others else _NEVER

    def _count_at_least(self, group: Group, minimum: int) -> _Conjunction | None:
        """"The group has >= ``minimum`` items" (empty when always true)."""
        name = f"architecture.{group.count_key}"
        if minimum <= group.min_count:
            return {}
        if minimum > group.max_count:
            return _NEVER
        domain = self._finite_domain(name, name, f"items above {group.min_count} depend on it")
        return {name: tuple(value for value in domain if value >= minimum)}

    def _finite_domain(self, name: str, target: str, why: str) -> tuple[Any, ...]:
        spec = self._globals[target].variants[0].spec
        if isinstance(spec, Choice):
            return spec.choices
        if isinstance(spec, IntRange):
            return tuple(range(spec.low, spec.high + 1, spec.step))
        raise SpaceError(f"Keras Tuner cannot express a condition on the real-valued {target} ({why}); "
                         f"search it as {{int: ...}} or {{choice: ...}}, or {_USE_OPTUNA}",
                         source=self._source, key_path=name)

    def _fixed_value(self, target: str) -> Any:
        entry = self._globals[target]
        if len(entry.variants) == 1 and not entry.variants[0].when and isinstance(entry.variants[0].spec, Fixed):
            return entry.variants[0].spec.value
        return _NOT_FIXED

    def _check_plain_target(self, name: str, target: str) -> None:
        """A condition's target must be one Keras Tuner parameter: one searched alternative, nothing fixed."""
        entry = self._globals[target]
        if len(entry.variants) != 1 or isinstance(entry.variants[0].spec, Fixed):
            raise SpaceError(
                f"Keras Tuner cannot express the condition on {target}: {target} has alternatives or a fixed value "
                f"under a `when`, so it is not one searched parameter; {_USE_OPTUNA}",
                source=self._source, key_path=name,
            )


_NOT_FIXED = object()


def _and(*conjunctions: _Conjunction | None) -> _Conjunction | None:
    """All of ``conjunctions`` at once (the values a parameter may take are intersected)."""
    merged: _Conjunction = {}
    for conjunction in conjunctions:
        if conjunction is _NEVER:
            return _NEVER
        for target, values in conjunction.items():
            if target in merged:
                values = tuple(v for v in merged[target] if any(same_value(v, w) for w in values))
                if not values:
                    return _NEVER
            merged[target] = values
    return merged


def _parents_first(declarations: list[_Declaration], space: SearchSpace) -> list[_Declaration]:
    """Orders declarations so each condition's parameter comes before the ones it activates.

    Keras Tuner fills values in declaration order and checks conditions against the values so far.
    """
    declared = {declaration.kt_name for declaration in declarations}
    ordered: list[_Declaration] = []
    placed: set[str] = set()
    pending = list(declarations)
    while pending:
        ready = [d for d in pending if all(target in placed for target, _ in d.conditions)]
        if not ready:
            missing = sorted({t for d in pending for t, _ in d.conditions if t not in declared})
            detail = f"they depend on {', '.join(missing)}, which is never searched" if missing else "a cycle"
            raise SpaceError(f"Keras Tuner cannot order these parameters ({detail}); {_USE_OPTUNA}",
                             source=str(space.path), key_path=", ".join(d.name for d in pending))
        ordered.extend(ready)
        placed.update(d.kt_name for d in ready)
        pending = [d for d in pending if d.kt_name not in placed]
    return ordered


class _ValuesSuggester:
    """A suggester that answers from a Keras Tuner trial's values and records what the candidate used."""

    def __init__(self, values: Mapping[str, Any], space_name: str) -> None:
        self._values = values
        self._space_name = space_name
        self.used: dict[str, Any] = {}

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return self._record(name, int(self._value(name)))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        return self._record(name, float(self._value(name)))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self._value(name)
        if all(isinstance(choice, bool) for choice in choices) and value in (0, 1):
            value = bool(value)  # Keras Tuner keeps a one-value bool Choice as an int
        for choice in choices:
            if same_value(choice, value):
                return self._record(name, choice)
        raise SpaceError(f"Keras Tuner proposed {value!r} for {name}, which is not one of {list(choices)}")

    def _value(self, name: str) -> Any:
        if name not in self._values:
            raise SpaceError(f"Keras Tuner left {name} inactive, but this candidate of space {self._space_name!r} "
                             "uses it (a fault of the Keras Tuner mapping; --engine optuna is not affected)")
        return self._values[name]

    def _record(self, name: str, value: Any) -> Any:
        self.used[name] = value
        return value

