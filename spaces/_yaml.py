"""Safe YAML reading for space files: plain types only, `1e-4` read as a number, no duplicate keys.

Hostile files cost little: only a regular file of at most `MAX_SPACE_FILE_BYTES` is read (checked
before reading), and anchors and aliases may repeat a template (`<<: *block`) but not expand a
document beyond `MAX_EXPANDED_NODES` nodes, so an alias bomb ("billion laughs") fails at once.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from spaces._errors import SpaceError

MAX_SPACE_FILE_BYTES: int = 256 * 1024
"""Largest space file read (the shipped ones are under 10 KB); checked before a byte is read."""
MAX_EXPANDED_NODES: int = 50_000
"""Most YAML nodes a space may hold once every alias is expanded (the shipped ones hold a few hundred)."""
MAX_FLOW_NESTING: int = 64
"""Most nested `[...]` / `{...}` levels (the shipped spaces use 3): PyYAML's scanner is quadratic in it."""

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
"""Non-blocking, so that a FIFO named like a space file is refused instead of blocking the read."""

_FLOAT_WITH_EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
"""YAML 1.2 floats such as 1e-4 or 20e6, which PyYAML (YAML 1.1) would read as text."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _HostileYamlError(yaml.MarkedYAMLError):
    """YAML refused for its shape (alias expansion, recursion, nesting), not for its syntax."""


class _SpaceLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` (no Python objects, so as safe as `yaml.safe_load`) with two fixes and two limits.

    It reads `1e-4` as the number a space author means, and rejects a key given twice in one
    mapping instead of silently keeping the last one. It refuses more than `MAX_FLOW_NESTING` nested
    flow collections and documents that aliases would expand beyond `MAX_EXPANDED_NODES` nodes.
    """

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level >= MAX_FLOW_NESTING:
            raise _HostileYamlError(
                None,
                None,
                f"more than {MAX_FLOW_NESTING} nested [ ] / {{ }} levels, the limit for a space file",
                self.get_mark(),
            )
        super().fetch_flow_collection_start(TokenClass)

    def construct_document(self, node: yaml.Node) -> Any:
        _check_expanded_size(node)
        return super().construct_document(node)

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


def read_space_text(path: Path, source: str) -> str:
    """The text of a space file, refusing FIFOs, devices and files over `MAX_SPACE_FILE_BYTES` unread.

    The file is opened non-blocking and checked with `fstat` on the open descriptor, so nothing can be
    swapped in between the check and the read.

    Raises:
        SpaceError: The file is missing, unreadable, not a regular file, too large or not UTF-8.
    """
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise SpaceError(f"cannot read the space file: {error.strerror or error}", source=source) from None
    try:
        _check_space_file(os.fstat(descriptor), source)
        os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
        descriptor = -1  # the handle owns it now
        with handle:
            data = handle.read(MAX_SPACE_FILE_BYTES + 1)
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    if len(data) > MAX_SPACE_FILE_BYTES:  # it grew after its size was checked
        raise SpaceError(f"the space file is more than {MAX_SPACE_FILE_BYTES:,} bytes, the limit", source=source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpaceError(
            f"cannot read the space file: not UTF-8 text ({error.reason} at byte {error.start})", source=source
        ) from None


def _check_space_file(status: os.stat_result, source: str) -> None:
    """Refuse anything but a regular file of at most `MAX_SPACE_FILE_BYTES`."""
    if not stat.S_ISREG(status.st_mode):
        raise SpaceError(
            f"the space file is {_kind(status.st_mode)}, not a regular file; a space file must be a regular "
            "file (FIFOs, devices, folders and links to them are refused so that reading cannot hang)",
            source=source,
        )
    if status.st_size > MAX_SPACE_FILE_BYTES:
        raise SpaceError(
            f"the space file is {status.st_size:,} bytes, more than the limit of {MAX_SPACE_FILE_BYTES:,} "
            "bytes for a space file",
            source=source,
        )


def _kind(mode: int) -> str:
    """'a folder', 'a FIFO (named pipe)', 'a character device', ... for a non-regular ``st_mode``."""
    kinds = {
        stat.S_IFDIR: "a folder",
        stat.S_IFIFO: "a FIFO (named pipe)",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFSOCK: "a socket",
    }
    return kinds.get(stat.S_IFMT(mode), "of an unknown kind")


def parse_yaml(text: str, source: str) -> Any:
    """The plain data (dicts, lists, scalars) of `text`; a syntax error names its line and column."""
    try:
        return yaml.load(text, Loader=_SpaceLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise SpaceError("YAML nesting too deep for a space file", source=source) from None
    except _HostileYamlError as error:
        raise SpaceError(f"YAML refused{_describe(error)}", source=source) from None
    except yaml.MarkedYAMLError as error:
        raise SpaceError(f"YAML syntax error{_describe(error)}", source=source) from None
    except yaml.YAMLError as error:
        raise SpaceError(f"YAML syntax error: {error}", source=source) from None


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document whose nodes, counting every alias as a copy, exceed `MAX_EXPANDED_NODES`.

    Each node is counted once and its total reused (aliases share node objects), so the check is
    linear in the file's size however far its aliases would expand.
    """
    totals: dict[int, int] = {}
    open_nodes: set[int] = set()
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, children_done = pending.pop()
        if id(node) in totals:
            continue
        children = _children(node)
        if not children_done and children:
            if id(node) in open_nodes:
                raise _HostileYamlError(
                    None, None, "an alias refers to a value that contains it (a recursive alias)", node.start_mark
                )
            open_nodes.add(id(node))
            pending.append((node, True))
            pending.extend((child, False) for child in children if id(child) not in totals)
            continue
        total = 1 + sum(totals.get(id(child), 1) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise _HostileYamlError(
                None,
                None,
                f"this document expands to more than {MAX_EXPANDED_NODES:,} values once its aliases (*name) "
                "are expanded, the limit for a space file (an alias bomb?); write repeated parts out or "
                "use fewer nested aliases",
                node.start_mark,
            )
        totals[id(node)] = total


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes directly inside a sequence or mapping node (keys and values); none for a scalar."""
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _describe(error: yaml.MarkedYAMLError) -> str:
    """' at line L, column C: problem (context from line L0)', lines and columns 1-based."""
    text = _at_mark(error.problem_mark) + f": {error.problem or error.context or 'invalid YAML'}"
    if error.context and error.problem and error.context_mark is not None:
        text += f" ({error.context}{_at_mark(error.context_mark)})"
    return text


def _at_mark(mark: yaml.Mark | None) -> str:
    return "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
