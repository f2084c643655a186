"""The one error type of the spaces package: a search-space file breaks a rule."""

from __future__ import annotations

from fer_core.errors import ConfigError


class SpaceError(ConfigError):
    """A search space is invalid; the message names the rule, the file and the key path.

    Value objects raise it with the rule only; the reader adds the file and the key path with
    `located`, so every message reads "<rule> in <file>: <key path>".
    """

    def __init__(self, rule: str, *, source: str | None = None, key_path: str | None = None) -> None:
        self.rule = rule
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


def _compose(rule: str, source: str | None, key_path: str | None) -> str:
    if source is None:
        return rule if key_path is None else f"{rule} (at {key_path})"
    return f"{rule} in {source}" if not key_path else f"{rule} in {source}: {key_path}"
