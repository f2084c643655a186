"""The one error type of the spaces package: a search-space file breaks a rule."""

from __future__ import annotations

import reprlib

from fer_core.errors import ConfigError

MAX_MESSAGE_CHARS: int = 2_000
"""Longest rule text kept in a message; the middle of a longer one is elided (its fix stays at the end)."""

_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 3
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxset = _SHORT_REPR.maxdict = 8
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 80
_ELISION = " [...] "


def shown(value: object) -> str:
    """`repr(value)` cut short (a few items per level, 80 characters per string), built without ever
    forming the full repr, so a parsed value of any size costs little in a message."""
    return _SHORT_REPR.repr(value)


class SpaceError(ConfigError):
    """A search space is invalid; the message names the rule, the file and the key path.

    Value objects raise it with the rule only; the reader adds the file and the key path with
    `located`, so every message reads "<rule> in <file>: <key path>".
    """

    def __init__(self, rule: str, *, source: str | None = None, key_path: str | None = None) -> None:
        self.rule = _bounded(rule)
        self.source = source
        self.key_path = key_path
        super().__init__(_compose(rule, source, key_path))

    def located(self, source: str | None = None, key_path: str | None = None) -> SpaceError:
        """A copy that names `source` and `key_path` unless this error already names its own."""
        return SpaceError(
            self.rule,
            source=self.source or source,
            key_path=self.key_path or key_path,
        )


def _bounded(text: str) -> str:
    """`text`, with its middle elided when it is longer than `MAX_MESSAGE_CHARS`."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    keep = (MAX_MESSAGE_CHARS - len(_ELISION)) // 2
    return text[:keep] + _ELISION + text[-keep:]


def _compose(rule: str, source: str | None, key_path: str | None) -> str:
    rule = _bounded(rule)
    key_path = None if key_path is None else _bounded(key_path)
    if source is None:
        return rule if key_path is None else f"{rule} (at {key_path})"
    return f"{rule} in {source}" if not key_path else f"{rule} in {source}: {key_path}"
