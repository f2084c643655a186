"""Expand the user's file and directory arguments into the photos to process, in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from fer_core.predict._photo import PHOTO_SUFFIXES


@dataclass(frozen=True)
class InputFile:
    """One photo to process.

    Args:
        path: Where to read it.
        output_name: Relative path of its annotated copy (unique within one listing): the file name for
            a file argument, ``<dir name>/<path inside the dir>`` for a file found in a directory.
    """

    path: Path
    output_name: PurePath

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class InputListing:
    """The photos found and how many directory entries were skipped for not having a photo suffix."""

    files: tuple[InputFile, ...]
    n_skipped: int


def collect_inputs(arguments: Iterable[str | os.PathLike[str]]) -> InputListing:
    """Files named directly (always tried, whatever their suffix, missing ones included so that they
    fail with their own message) and, recursively, the photos inside directories.

    Directories are walked in sorted order without following symbolic links; hidden entries (".name")
    are ignored, and files without a photo suffix (.png .jpg .jpeg .bmp .webp) are counted as skipped.
    """
    files: list[InputFile] = []
    used: set[PurePath] = set()
    n_skipped = 0
    for argument in arguments:
        path = Path(argument)
        if not path.is_dir():
            files.append(InputFile(path, _unique(PurePath(path.name or "photo"), used)))
            continue
        root_name = PurePath(path.resolve().name or "root")
        for found, is_photo in _walk(path):
            if not is_photo:
                n_skipped += 1
                continue
            files.append(InputFile(found, _unique(root_name / found.relative_to(path), used)))
    return InputListing(files=tuple(files), n_skipped=n_skipped)


def _walk(root: Path) -> Iterator[tuple[Path, bool]]:
    """Every non-hidden file under ``root`` (sorted, symlinked directories not followed) and whether
    its suffix is a photo suffix."""
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(folder) / name, Path(name).suffix.lower() in PHOTO_SUFFIXES


def _unique(name: PurePath, used: set[PurePath]) -> PurePath:
    """``name``, or ``name-2``, ``name-3``, ... when another input already got that output name."""
    candidate, counter = name, 1
    while candidate in used:
        counter += 1
        candidate = name.with_name(f"{name.stem}-{counter}{name.suffix}")
    used.add(candidate)
    return candidate
