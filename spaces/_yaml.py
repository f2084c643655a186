"""Safe YAML reading for space files: plain types only, `1e-4` read as a number, no duplicate keys."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml

from spaces._errors import SpaceError

_FLOAT_WITH_EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
"""YAML 1.2 floats such as 1e-4 or 20e6, which PyYAML (YAML 1.1) would read as text."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _SpaceLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` (no Python objects, so as safe as `yaml.safe_load`) with two fixes.

    It reads `1e-4` as the number a space author means, and rejects a key given twice in one
    mapping instead of silently keeping the last one.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # `<<: *anchor`: explicit keys may override the merged ones
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeLoader itself reports the unhashable key
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} is given twice in one mapping; keep one",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_SpaceLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_WITH_EXPONENT, list("-+0123456789"))


def parse_yaml(text: str, source: str) -> Any:
    """The plain data (dicts, lists, scalars) of `text`; a syntax error names its line and column."""
    try:
        return yaml.load(text, Loader=_SpaceLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        raise SpaceError(f"YAML syntax error{_describe(error)}", source=source) from None
    except yaml.YAMLError as error:
        raise SpaceError(f"YAML syntax error: {error}", source=source) from None


def _describe(error: yaml.MarkedYAMLError) -> str:
    """' at line L, column C: problem (context from line L0)', lines and columns 1-based."""
    text = _at_mark(error.problem_mark) + f": {error.problem or error.context or 'invalid YAML'}"
    if error.context and error.problem and error.context_mark is not None:
        text += f" ({error.context}{_at_mark(error.context_mark)})"
    return text


def _at_mark(mark: yaml.Mark | None) -> str:
    return "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
