"""Finding spaces: the shipped YAML files by name, or any YAML file by path."""

from __future__ import annotations

import os
from pathlib import Path

from spaces._errors import SpaceError
from spaces._reader import read_space
from spaces._space import SearchSpace
from spaces._yaml import read_space_text

SHIPPED_SPACES_DIR: Path = Path(__file__).resolve().parent
"""Folder of the spaces that ship with fer-search (smoke, seed, vgg, compact, ...)."""

_YAML_SUFFIXES = (".yaml", ".yml")


def shipped_space_names() -> list[str]:
    """Names of the shipped spaces, sorted."""
    return sorted(path.stem for path in SHIPPED_SPACES_DIR.glob("*.yaml"))


def load_space(name_or_path: str | os.PathLike[str]) -> SearchSpace:
    """Read and validate a shipped space by name (`smoke`) or any space file by path.

    Raises:
        SpaceError: The name is unknown, the file is missing or unreadable, or breaks a rule; the
            message names the file, the key path and the rule.
    """
    path, source = _locate(name_or_path)
    text = read_space_text(path, source)
    return read_space(text, name=path.stem, path=path, source=source)


def list_spaces() -> list[SearchSpace]:
    """Every shipped space, loaded and validated, sorted by name."""
    return [load_space(name) for name in shipped_space_names()]


def _locate(name_or_path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The file to read and how messages show it (spaces/<name>.yaml for shipped ones)."""
    text = os.fspath(name_or_path)
    shipped = ", ".join(shipped_space_names())
    if isinstance(name_or_path, os.PathLike) or os.sep in text or text.endswith(_YAML_SUFFIXES):
        path = Path(text)
        if not path.exists():
            raise SpaceError(
                f"space file {text} not found; give the path of a YAML file or a shipped space: {shipped}"
            )
        return path, text
    path = SHIPPED_SPACES_DIR / f"{text}.yaml"
    if not path.is_file():
        raise SpaceError(f"unknown space {text!r}; choose one of: {shipped}, or give the path of a YAML file")
    return path, f"spaces/{path.name}"
