"""Turn the text of a space file into a validated `SearchSpace`; every rule of the syntax lives here.

Syntax (documented for users at the top of spaces/smoke.yaml): a plain scalar is a fixed value;
`{int: [low, high]}` / `{float: [low, high]}` (options `step`, `log`) and `{choice: [...]}` are
distributions; `{value: x}` is a fixed value that can carry a `when`; any of them may carry
`when: {parameter: value or [values]}`; a list of such mappings gives alternatives (the first whose
`when` holds is used). `architecture.blocks` / `architecture.dense` are one template for every
item or a list of per-item templates; `n_blocks` / `n_dense` count them; `filters_growth` /
`units_growth` derive later items' filters / units from the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spaces._distributions import (
    Choice,
    Condition,
    Fixed,
    FloatRange,
    IntRange,
    Spec,
    Variant,
    is_number,
    same_kind,
)
from spaces._errors import SpaceError, shown
from spaces._schema import (
    ARCHITECTURE_FIELDS,
    AUGMENTATION_FIELDS,
    BLOCK_FIELDS,
    COUNT_RULES,
    DENSE_FIELDS,
    TRAINING_FIELDS,
    FieldRule,
)
from spaces._space import Entry, Group, SearchSpace
from spaces._yaml import parse_yaml

_TOP_KEYS = ("description", "budget", "architecture", "training", "augmentation")
_BUDGET_KEYS = ("max_macs",)
_KIND_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "int": ("step", "log", "when"),
    "float": ("step", "log", "when"),
    "choice": ("when",),
    "value": ("when",),
}
"""Distribution kinds (the one key that names a distribution) and the keys each may add."""


@dataclass(frozen=True)
class _GroupSyntax:
    """How the YAML spells one repeated group (conv blocks or dense layers)."""

    item: str
    list_key: str
    count_key: str
    grown_key: str
    fields: Mapping[str, FieldRule]
    required: bool
    """True when a network needs at least one item (conv blocks)."""

    @property
    def growth_key(self) -> str:
        return f"{self.grown_key}_growth"


_BLOCKS = _GroupSyntax("block", "blocks", "n_blocks", "filters", BLOCK_FIELDS, required=True)
_DENSE = _GroupSyntax("dense", "dense", "n_dense", "units", DENSE_FIELDS, required=False)
_ARCHITECTURE_KEYS = (
    *ARCHITECTURE_FIELDS,
    *(key for group in (_BLOCKS, _DENSE) for key in (group.list_key, group.count_key, group.growth_key)),
)


def read_space(text: str, *, name: str, path: Path, source: str) -> SearchSpace:
    """Parse and validate `text`; a `SpaceError` names `source` (the file as shown) and the key path."""
    try:
        return _Reader().space(text, name=name, path=path, source=source)
    except SpaceError as error:
        raise error.located(source) from None


@contextmanager
def _at(key_path: str) -> Iterator[None]:
    """Adds `key_path` to a `SpaceError` raised by a value object that does not know where it is."""
    try:
        yield
    except SpaceError as error:
        raise error.located(key_path=key_path) from None


def _fail(rule: str, key_path: str | None = None) -> SpaceError:
    return SpaceError(rule, key_path=key_path)


class _Reader:
    """Reads one file; collects every `when` so they are checked once all parameters are known."""

    def __init__(self) -> None:
        self._conditions: list[tuple[str, Condition]] = []

    def space(self, text: str, *, name: str, path: Path, source: str) -> SearchSpace:
        raw = parse_yaml(text, source=source)
        if raw is None:
            raise _fail(
                "the file is empty; a space needs at least `architecture.blocks` (see spaces/smoke.yaml)"
            )
        if not isinstance(raw, dict):
            raise _fail(f"the top level must be a mapping of sections {', '.join(_TOP_KEYS)} (got {shown(raw)})")
        _check_keys(raw, _TOP_KEYS, "")
        architecture = _section(raw, "architecture")
        if not architecture:
            raise _fail("a space needs an `architecture` section with `blocks`", "architecture")
        _check_keys(architecture, _ARCHITECTURE_KEYS, "architecture")
        blocks = self._group(architecture, _BLOCKS)
        if blocks is None:
            raise _fail(
                "architecture.blocks is required: one template for every block (a mapping) "
                "or one per block (a list)",
                "architecture.blocks",
            )
        space = SearchSpace(
            name=name,
            path=path,
            description=_description(raw, text),
            max_macs=_max_macs(raw.get("budget")),
            source_text=text,
            architecture=self._entries(
                {key: value for key, value in architecture.items() if key in ARCHITECTURE_FIELDS},
                ARCHITECTURE_FIELDS,
                "architecture",
            ),
            blocks=blocks,
            dense=self._group(architecture, _DENSE),
            training=self._entries(_section(raw, "training"), TRAINING_FIELDS, "training"),
            augmentation=self._entries(_section(raw, "augmentation"), AUGMENTATION_FIELDS, "augmentation"),
        )
        _check_conditions(space, self._conditions)
        return space

    def _entries(
        self, raw: Mapping[Any, Any], fields: Mapping[str, FieldRule], path: str
    ) -> tuple[Entry, ...]:
        _check_keys(raw, tuple(fields), path)
        return tuple(
            Entry(key, self._variants(value, fields[key], f"{path}.{key}")) for key, value in raw.items()
        )

    def _variants(self, raw: Any, rule: FieldRule, path: str) -> tuple[Variant, ...]:
        if not isinstance(raw, list):
            return (self._variant(raw, rule, path),)
        if not raw or not all(isinstance(item, dict) for item in raw):
            raise _fail(
                f"a list is not a value here; write {{choice: {shown(raw)}}} to search over these values, "
                "or give alternatives: a list of mappings, each with a `when`",
                path,
            )
        variants = tuple(self._variant(item, rule, f"{path}[{index}]") for index, item in enumerate(raw))
        _check_alternatives(variants, path)
        return variants

    def _variant(self, raw: Any, rule: FieldRule, path: str) -> Variant:
        if isinstance(raw, dict):
            spec = _distribution(raw, path)
            when = self._when(raw["when"], f"{path}.when") if "when" in raw else ()
        else:
            spec, when = Fixed(raw), ()
        _check_rule(spec, rule, path)
        return Variant(spec, when)

    def _when(self, raw: Any, path: str) -> tuple[Condition, ...]:
        if not isinstance(raw, dict) or not raw:
            raise _fail(
                f"`when` takes a mapping {{parameter: value or [values]}}, e.g. {{training.optimizer: sgd}} "
                f"(got {shown(raw)})",
                path,
            )
        conditions = []
        for target, wanted in raw.items():
            with _at(f"{path}.{target}"):
                condition = Condition(str(target), tuple(wanted) if isinstance(wanted, list) else (wanted,))
            self._conditions.append((f"{path}.{target}", condition))
            conditions.append(condition)
        return tuple(conditions)

    def _plain_entry(self, raw: Any, key: str, path: str) -> Entry:
        """An entry without `when` or alternatives (counts and growth factors must always exist)."""
        variants = self._variants(raw, COUNT_RULES[key], path)
        if len(variants) > 1 or variants[0].when:
            raise _fail(
                f"`{key}` cannot depend on `when` or have alternatives; give one value or distribution", path
            )
        return Entry(key, variants)

    def _group(self, architecture: Mapping[Any, Any], syntax: _GroupSyntax) -> Group | None:
        raw_templates = architecture.get(syntax.list_key)
        if raw_templates is None and syntax.count_key not in architecture:
            return None
        path = f"architecture.{syntax.list_key}"
        templates = self._templates(raw_templates, syntax, path)
        growth_path = f"architecture.{syntax.growth_key}"
        growth = (
            self._plain_entry(architecture[syntax.growth_key], syntax.growth_key, growth_path)
            if syntax.growth_key in architecture
            else None
        )
        group = Group(
            item=syntax.item,
            count_key=syntax.count_key,
            count=self._count(architecture, syntax, raw_templates),
            templates=templates,
            grown_key=syntax.grown_key,
            growth=growth,
            shared=not isinstance(raw_templates, list),
        )
        _check_group(group, syntax, path)
        if syntax is _BLOCKS:
            _check_block_templates(group, path)
        return group

    def _templates(self, raw: Any, syntax: _GroupSyntax, path: str) -> tuple[tuple[Entry, ...], ...]:
        if raw is None:
            return ()
        if isinstance(raw, dict):
            return (self._entries(raw, syntax.fields, path),)
        if isinstance(raw, list) and all(isinstance(template, dict) for template in raw):
            return tuple(
                self._entries(template, syntax.fields, f"{path}[{index}]")
                for index, template in enumerate(raw)
            )
        raise _fail(
            f"must be a mapping (one template for every {syntax.item}) or a list of mappings "
            f"(one template per {syntax.item}); got {shown(raw)}",
            path,
        )

    def _count(self, architecture: Mapping[Any, Any], syntax: _GroupSyntax, raw_templates: Any) -> Entry:
        path = f"architecture.{syntax.count_key}"
        if syntax.count_key in architecture:
            return self._plain_entry(architecture[syntax.count_key], syntax.count_key, path)
        if isinstance(raw_templates, list):
            if not raw_templates and syntax.required:
                raise _fail(
                    f"lists no {syntax.item}; a network needs at least one", f"architecture.{syntax.list_key}"
                )
            return Entry(syntax.count_key, (Variant(Fixed(len(raw_templates))),))
        raise _fail(
            f"`{syntax.count_key}` is required when architecture.{syntax.list_key} is one template for every "
            f"{syntax.item}; give a number or {{int: [low, high]}}",
            path,
        )


def _check_block_templates(group: Group, path: str) -> None:
    """Rules between keys of one block template (fer_core's ConvBlockConfig rules), checked on read
    so that a space cannot propose a block the builder rejects."""
    for index, template in enumerate(group.templates):
        entries = {entry.key: entry for entry in template}
        where = path if group.shared else f"{path}[{index}]"
        kernel_sizes = _possible(entries, "kernel_size", 3)
        if "separable" in _possible(entries, "conv_type", "standard") and min(kernel_sizes) < 2:
            raise _fail(
                f"a separable conv needs kernel_size >= 2 (this template allows {min(kernel_sizes)}); "
                "use conv_type standard for 1x1 convs or raise kernel_size",
                f"{where}.kernel_size",
            )
        if True in _possible(entries, "residual", False) and "valid" in _possible(entries, "padding", "same"):
            raise _fail(
                "a residual block needs padding same (its shortcut must match the convs' output size); "
                "set padding same or residual false",
                f"{where}.padding",
            )


def _possible(entries: Mapping[str, Entry], key: str, default: Any) -> tuple[Any, ...]:
    """Every value (range ends for ranges) a template's key can take; the builder's default if unset."""
    return entries[key].values() if key in entries else (default,)


def _section(raw: Mapping[Any, Any], key: str) -> Mapping[Any, Any]:
    section = raw.get(key)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise _fail(f"must be a mapping of keys to values or distributions (got {shown(section)})", key)
    return section


def _check_keys(raw: Mapping[Any, Any], allowed: tuple[str, ...], path: str) -> None:
    unknown = [key for key in raw if key not in allowed]
    if unknown:
        names = ", ".join(shown(key) for key in unknown)
        where = f"{path}.{unknown[0]}" if path else str(unknown[0])
        raise _fail(f"unknown key {names}; allowed keys here: {', '.join(allowed)}", where)


def _distribution(raw: Mapping[Any, Any], path: str) -> Spec:
    kinds = [kind for kind in _KIND_OPTIONS if kind in raw]
    if len(kinds) != 1:
        raise _fail(
            f"a mapping here must have exactly one of the keys {', '.join(_KIND_OPTIONS)} "
            f"(got keys: {', '.join(str(key) for key in raw)})",
            path,
        )
    kind = kinds[0]
    _check_keys(raw, (kind, *_KIND_OPTIONS[kind]), path)
    with _at(path):
        return _SPEC_BUILDERS[kind](raw)


def _bounds(raw: Mapping[Any, Any], kind: str) -> tuple[Any, Any]:
    bounds = raw[kind]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise _fail(f"`{kind}` takes a list [low, high] (got {shown(bounds)})")
    return bounds[0], bounds[1]


def _int_range(raw: Mapping[Any, Any]) -> Spec:
    low, high = _bounds(raw, "int")
    return IntRange(low, high, step=raw.get("step", 1), log=raw.get("log", False))


def _float_range(raw: Mapping[Any, Any]) -> Spec:
    low, high = _bounds(raw, "float")
    return FloatRange(low, high, step=raw.get("step"), log=raw.get("log", False))


def _choice(raw: Mapping[Any, Any]) -> Spec:
    if not isinstance(raw["choice"], list):
        raise _fail(f"`choice` takes a list of values (got {shown(raw['choice'])})")
    return Choice(tuple(raw["choice"]))


_SPEC_BUILDERS: Mapping[str, Callable[[Mapping[Any, Any]], Spec]] = {
    "int": _int_range,
    "float": _float_range,
    "choice": _choice,
    "value": lambda raw: Fixed(raw["value"]),
}
"""Distribution kind -> builder of its value object from the YAML mapping."""


def _check_rule(spec: Spec, rule: FieldRule, path: str) -> None:
    if isinstance(spec, FloatRange) and rule.kind == "int":
        raise _fail("takes integers; write {int: [low, high]} instead of {float: ...}", path)
    if isinstance(spec, (IntRange, FloatRange)) and rule.kind not in ("int", "float"):
        raise _fail(f"takes {rule.describe()}, not a range; write {{choice: [...]}} to search", path)
    for value in spec.values():
        if not rule.accepts(value):
            raise _fail(f"{shown(value)} is not allowed: the value must be {rule.describe()}", path)


def _check_alternatives(variants: tuple[Variant, ...], path: str) -> None:
    for number, variant in enumerate(variants[:-1], start=1):
        if not variant.when:
            raise _fail(
                f"alternative {number} has no `when`, so the alternatives after it are never used; "
                "give it a `when` or move it last",
                path,
            )
    searchable = [variant.spec for variant in variants if not isinstance(variant.spec, Fixed)]
    if any(not same_kind(searchable[0], spec) for spec in searchable[1:]):
        raise _fail(
            "alternatives must share their kind and `log` (and a choice its list), because Optuna keeps "
            "one distribution per parameter name",
            path,
        )


def _check_group(group: Group, syntax: _GroupSyntax, path: str) -> None:
    count_path = f"architecture.{syntax.count_key}"
    if not group.shared and group.max_count != len(group.templates):
        raise _fail(
            f"`{syntax.count_key}` reaches at most {group.max_count} but {path} lists {len(group.templates)} "
            f"templates; give one template per possible {syntax.item}",
            count_path,
        )
    if group.max_count > 0 and not group.templates:
        raise _fail(f"is required when `{syntax.count_key}` can be above 0", path)
    for index, template in enumerate(group.templates):
        _check_template(group, syntax, template, path if group.shared else f"{path}[{index}]", index + 1)


def _check_template(
    group: Group, syntax: _GroupSyntax, template: tuple[Entry, ...], path: str, index: int
) -> None:
    keys = {entry.key for entry in template}
    derived = group.growth is not None and not group.shared and index > 1
    if derived and syntax.grown_key in keys:
        raise _fail(
            f"`{syntax.grown_key}` of {syntax.item} {index} follows from `{syntax.growth_key}`; "
            f"remove it here or drop `{syntax.growth_key}`",
            f"{path}.{syntax.grown_key}",
        )
    for key, rule in syntax.fields.items():
        if rule.required and key not in keys and not derived:
            raise _fail(f"lacks `{key}`, which every {syntax.item} needs", path)
    for entry in template:
        if syntax.fields[entry.key].required and entry.is_conditional:
            raise _fail(
                f"every {syntax.item} needs `{entry.key}`, so it cannot depend on `when`", f"{path}.{entry.key}"
            )


def _check_conditions(space: SearchSpace, conditions: list[tuple[str, Condition]]) -> None:
    targets = {name: entry for name, entry in space.global_entries.items() if not name.endswith("_growth")}
    for path, condition in conditions:
        entry = targets.get(condition.target)
        if entry is None:
            raise _fail(
                f"`when` names {condition.target!r}, which is not a parameter of this space; "
                f"choose one of: {', '.join(targets)}",
                path,
            )
        for wanted in condition.values:
            if not entry.can_take(wanted):
                raise _fail(
                    f"`when` expects {condition.target} to be {shown(wanted)}, a value it can never take "
                    f"(it takes: {_describe(entry)})",
                    path,
                )
    _check_no_cycle(targets)


def _check_no_cycle(targets: Mapping[str, Entry]) -> None:
    edges = {
        name: [condition.target for variant in entry.variants for condition in variant.when]
        for name, entry in targets.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = " -> ".join([*trail[trail.index(name):], name])
            raise _fail(
                f"`when` conditions form a cycle ({cycle}); one parameter must not depend on itself", name
            )
        if name not in done:
            for target in edges.get(name, []):
                visit(target, [*trail, name])
            done.add(name)

    for name in edges:
        visit(name, [])


def _describe(entry: Entry) -> str:
    parts = []
    for variant in entry.variants:
        spec = variant.spec
        if isinstance(spec, (IntRange, FloatRange)):
            parts.append(f"[{spec.low}, {spec.high}]")
        else:
            parts.extend(shown(value) for value in spec.values())
    return ", ".join(parts)


def _description(raw: Mapping[Any, Any], text: str) -> str:
    if "description" in raw:
        description = raw["description"]
        if not isinstance(description, str) or not description.strip():
            raise _fail(f"must be a non-empty text (got {shown(description)})", "description")
        return " ".join(description.split())
    return _leading_comment(text)


def _leading_comment(text: str) -> str:
    """The first paragraph of the comment block the file starts with."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        content = line.lstrip("#").strip()
        if not content:
            if lines:
                break
            continue
        lines.append(content)
    return " ".join(lines)


def _max_macs(budget: Any) -> float | None:
    if budget is None:
        return None
    if not isinstance(budget, dict):
        raise _fail(f"must be a mapping such as {{max_macs: 20.0e6}} (got {shown(budget)})", "budget")
    _check_keys(budget, _BUDGET_KEYS, "budget")
    max_macs = budget.get("max_macs")
    if max_macs is None:
        return None
    if not is_number(max_macs) or not max_macs > 0:
        raise _fail(
            f"must be a number of multiply-accumulates > 0 such as 20e6 (got {shown(max_macs)})", "budget.max_macs"
        )
    return float(max_macs)
