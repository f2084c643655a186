"""Exceptions raised for bad user input: each message states the rule, the value and the fix."""

from __future__ import annotations


class FerError(Exception):
    """Base class of every error fer_core raises on purpose."""


class DataError(FerError, ValueError):
    """A data file, folder or cache breaks a rule (names the file, the line or image, the rule)."""


class ConfigError(FerError, ValueError):
    """An architecture, training or augmentation configuration is invalid."""


class GeometryError(ConfigError):
    """A configuration whose feature map would shrink below 1x1 (names the block and the sizes)."""
