"""Load an image-folder tree (`<root>/[<split>/]<emotion>/*.png|jpg`) into a ``FERDataset``."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from fer_core.data._dataset import FERDataset, LoadReport, Usage
from fer_core.data._files import REASON_MISSING, REASON_UNREADABLE, FileRefusedError, open_regular_file
from fer_core.data._images import DECODE_ERRORS, DecodedImage, ImageTooLargeError, decode_face
from fer_core.emotions import EMOTIONS, IMAGE_SHAPE
from fer_core.errors import DataError

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpeg", ".jpg", ".png")
"""File types read from emotion folders (compared case-insensitively)."""

SPLIT_FOLDERS: Mapping[str, Usage] = {
    "train": Usage.TRAIN,
    "val": Usage.VALIDATION,
    "validation": Usage.VALIDATION,
    "test": Usage.TEST,
}
"""Split folder name (case-insensitive) -> usage code of its images."""

DEFAULT_MAX_IMAGE_PIXELS = 20_000_000
"""Largest width * height decoded per file: a guard against decompression bombs."""

DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024
"""Largest image file read (checked before reading): a 10 GB video named .png costs nothing."""

IMAGE_SIGNATURES: tuple[bytes, ...] = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
"""First bytes of a PNG and of a JPEG file, checked before a file is read whole."""
_SIGNATURE_BYTES = 8

_IGNORED_NAMES = frozenset({"__macosx", "thumbs.db", "desktop.ini"})
"""Operating-system litter skipped silently, like every name starting with a dot."""

_HASH_FORMAT = b"fer-search image folder v1\0"
_N_SKIPPED_EXAMPLES = 5
_SKIP_HINT = "Fix or remove the file, or pass skip_bad_rows=True to skip bad images."

_EMOTION_LABELS: Mapping[str, int] = {name: label for label, name in enumerate(EMOTIONS)}


@dataclass(frozen=True)
class _Limits:
    """Per-file limits: bytes read and pixels decoded."""

    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class _ImageFile:
    """One candidate file of the tree with the label and usage its folders give it."""

    path: Path
    relative: str
    label: int
    usage: Usage | None


class _Hasher(Protocol):
    """The part of a ``hashlib`` hash object the loader uses."""

    def update(self, data: bytes, /) -> None: ...


class BadImage(Exception):
    """A file that cannot become a face; ``reason`` is the short key counted in the report."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    skip_bad_rows: bool = False,
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
) -> FERDataset:
    """Read a tree of face images into 48x48 grey uint8 arrays.

    Two layouts are accepted (folder names case-insensitive, hidden entries ignored):
    ``<root>/<split>/<emotion>/*`` with splits ``train``, ``val`` or ``validation``, ``test``
    (any of them; usage codes follow the folder), or ``<root>/<emotion>/*`` (usage None).
    Emotion folders are named after ``fer_core.emotions.EMOTIONS``. Files of any size and mode
    are converted to 48x48 grey; the report counts those that were not already.

    Args:
        root: The tree's top folder.
        skip_bad_rows: Skip unreadable, corrupt, oversized or non-image files and count them in
            the report instead of failing on the first one.
        max_image_pixels: Largest width * height decoded (decompression-bomb guard).
        max_image_bytes: Largest file read; FIFOs, devices and links to them are never read.

    Returns:
        The dataset; ``content_hash`` covers the sorted relative paths and every image file's bytes
        (a file refused before reading, such as a ``.mp4`` or a FIFO, counts by its name only).

    Raises:
        DataError: Missing root, unknown or duplicate folder names, mixed layouts, an empty
            emotion folder, a bad file (unless ``skip_bad_rows``), or no usable image at all.
    """
    _check_limit("max_image_pixels", max_image_pixels)
    _check_limit("max_image_bytes", max_image_bytes)
    root_path = Path(root)
    files = _discover_files(root_path)
    limits = _Limits(max_bytes=max_image_bytes, max_pixels=max_image_pixels)
    return _read_files(root_path, files, skip_bad_rows=skip_bad_rows, limits=limits)


def _check_limit(name: str, value: int) -> None:
    """Reject a limit that is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (got {value!r})")
    if value < 1:
        raise ValueError(f"{name} must be >= 1 (got {value})")


# --------------------------------------------------------------------------- discovering the tree


def _discover_files(root: Path) -> list[_ImageFile]:
    """Every candidate file under ``root`` with its label and usage, sorted by relative path."""
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise DataError(
            f"Image folder {root} {what}; pass the top folder of <root>/[<split>/]<emotion>/*.png"
        )
    folders = _visible_subfolders(root)
    split_folders = {name: path for name, path in folders.items() if name.lower() in SPLIT_FOLDERS}
    emotion_folders = {name: path for name, path in folders.items() if name.lower() in _EMOTION_LABELS}
    _check_root_names(root, folders, split_folders, emotion_folders)
    if split_folders:
        files = [
            file
            for usage, split_path in _folders_by_key(root, split_folders, SPLIT_FOLDERS, "split").items()
            for file in _files_of_split(root, split_path, usage)
        ]
    else:
        files = list(_files_of_split(root, root, None))
    return sorted(files, key=lambda file: file.relative)


def _check_root_names(
    root: Path,
    folders: Mapping[str, Path],
    split_folders: Mapping[str, Path],
    emotion_folders: Mapping[str, Path],
) -> None:
    """The root holds either split folders or emotion folders, nothing else and not both."""
    if not folders:
        raise DataError(
            f"Image folder {root} has no sub-folders; expected <root>/<emotion>/*.png or "
            f"<root>/<split>/<emotion>/*.png with emotions {', '.join(EMOTIONS)}"
        )
    unknown = sorted(set(folders) - set(split_folders) - set(emotion_folders))
    if unknown:
        raise DataError(
            f"Unknown folder name(s) {', '.join(unknown)} in {root}; use split folders "
            f"({', '.join(SPLIT_FOLDERS)}) or emotion folders ({', '.join(EMOTIONS)}), case-insensitive"
        )
    if split_folders and emotion_folders:
        raise DataError(
            f"Image folder {root} mixes split folders ({', '.join(sorted(split_folders))}) with emotion "
            f"folders ({', '.join(sorted(emotion_folders))}); move the emotion folders into a split folder"
        )


def _files_of_split(root: Path, split_path: Path, usage: Usage | None) -> Iterable[_ImageFile]:
    """The candidate files of every emotion folder directly under ``split_path``."""
    folders = _visible_subfolders(split_path)
    if not folders:
        raise DataError(f"Split folder {split_path} has no emotion folders ({', '.join(EMOTIONS)})")
    unknown = sorted(name for name in folders if name.lower() not in _EMOTION_LABELS)
    if unknown:
        raise DataError(
            f"Unknown emotion folder name(s) {', '.join(unknown)} in {split_path}; "
            f"choose from {', '.join(EMOTIONS)} (case-insensitive)"
        )
    for label, class_path in _folders_by_key(split_path, folders, _EMOTION_LABELS, "emotion").items():
        for path in _files_of_class(class_path):
            yield _ImageFile(path=path, relative=path.relative_to(root).as_posix(), label=label, usage=usage)


def _files_of_class(class_path: Path) -> list[Path]:
    """The visible files of one emotion folder; sub-folders and an empty folder are errors."""
    entries = _visible_entries(class_path)
    nested = sorted(entry.name for entry in entries if entry.is_dir())
    if nested:
        raise DataError(
            f"Emotion folder {class_path} contains folder(s) {', '.join(nested)}; "
            "images must lie directly in the emotion folder"
        )
    if not entries:
        raise DataError(f"Emotion folder {class_path} is empty; add images or remove the folder")
    return entries


_Key = TypeVar("_Key", bound=int)


def _folders_by_key(
    parent: Path, folders: Mapping[str, Path], keys: Mapping[str, _Key], kind: str
) -> dict[_Key, Path]:
    """Map folders to their split/label code; two folders for the same code are an error."""
    by_key: dict[_Key, Path] = {}
    for name in sorted(folders):
        key = keys[name.lower()]
        if key in by_key:
            raise DataError(
                f"Folders {by_key[key].name} and {name} in {parent} name the same {kind}; "
                "merge them into one folder"
            )
        by_key[key] = folders[name]
    return dict(sorted(by_key.items()))


def _visible_entries(folder: Path) -> list[Path]:
    """Entries of ``folder`` except hidden ones and operating-system litter, sorted by name."""
    try:
        entries = list(folder.iterdir())
    except OSError as error:
        raise DataError(f"Cannot list folder {folder}: {error}") from error
    visible = (entry for entry in entries if not _is_ignored(entry.name))
    return sorted(visible, key=lambda entry: entry.name)


def _is_ignored(name: str) -> bool:
    """Hidden entries and operating-system litter (``__MACOSX``, ``Thumbs.db``, ...)."""
    return name.startswith(".") or name.lower() in _IGNORED_NAMES


def _visible_subfolders(folder: Path) -> dict[str, Path]:
    """Visible sub-folders by name; image files lying here (they would have no label) are errors."""
    entries = _visible_entries(folder)
    stray_images = [entry.name for entry in entries if entry.is_file() and _is_image_name(entry)]
    if stray_images:
        raise DataError(
            f"Image(s) {', '.join(stray_images[:3])} in {folder} lie outside an emotion folder, so they "
            "have no label; move them into <emotion>/ folders"
        )
    return {entry.name: entry for entry in entries if entry.is_dir()}


def _is_image_name(path: Path) -> bool:
    """True for the accepted image extensions, in any case."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


# --------------------------------------------------------------------------- reading the files


class _SkipLog:
    """Counts skipped files per reason and keeps the first few examples for the report."""

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, file: _ImageFile, bad: BadImage) -> None:
        self.reasons[bad.reason] += 1
        if len(self.examples) < _N_SKIPPED_EXAMPLES:
            self.examples.append(f"{file.relative}: {bad.detail}")

    @property
    def n_skipped(self) -> int:
        return sum(self.reasons.values())


def _read_files(root: Path, files: list[_ImageFile], *, skip_bad_rows: bool, limits: _Limits) -> FERDataset:
    """Decode every file in order into preallocated uint8 arrays, hashing paths and bytes."""
    n_files = len(files)
    images = np.empty((n_files, *IMAGE_SHAPE), dtype=np.uint8)
    labels = np.empty(n_files, dtype=np.int64)
    usage = np.empty(n_files, dtype=np.uint8)
    hasher = hashlib.sha256(_HASH_FORMAT)
    skips = _SkipLog()
    n_kept = n_converted = 0
    for file in files:
        try:
            face = _decode_file(file, hasher, limits)
        except BadImage as bad:
            if not skip_bad_rows:
                raise DataError(f"{bad.detail}. {_SKIP_HINT}") from bad.__cause__
            skips.add(file, bad)
            continue
        images[n_kept, :, :, 0] = face.pixels
        labels[n_kept] = file.label
        usage[n_kept] = file.usage if file.usage is not None else 0
        n_converted += face.converted
        n_kept += 1
    if n_kept == 0:
        raise DataError(
            f"No usable image in {root}: all {n_files} file(s) were skipped "
            f"({_describe_reasons(skips.reasons)}); first: {skips.examples[0]}"
        )
    report = LoadReport(
        n_rows=n_files,
        n_skipped=skips.n_skipped,
        skipped_reasons=dict(skips.reasons),
        skipped_examples=tuple(skips.examples),
        n_converted=n_converted,
    )
    has_usage = files[0].usage is not None
    return FERDataset(
        images=_trimmed(images, n_kept),
        labels=_trimmed(labels, n_kept),
        usage=_trimmed(usage, n_kept) if has_usage else None,
        source=str(root),
        content_hash=hasher.hexdigest(),
        report=report,
    )


def _decode_file(file: _ImageFile, hasher: _Hasher, limits: _Limits) -> DecodedImage:
    """Check, read and decode one file (feeding the content hash), or raise ``BadImage`` saying why.

    The name, the kind of file and its size are checked before it is read, its first bytes before it
    is read whole, and the pixel count on the image header before a pixel is decoded.
    """
    data = b""
    try:
        _check_image_name(file)
        data = read_image_bytes(file.path, limits.max_bytes)
    finally:
        _hash_entry(hasher, file.relative, data)
    try:
        return decode_face(data, max_image_pixels=limits.max_pixels)
    except ImageTooLargeError as error:
        raise BadImage("image too large", f"Image {file.path} is too large: {error}") from error
    except DECODE_ERRORS as error:
        raise BadImage("corrupt image", f"Cannot decode {file.path} as PNG/JPEG: {error}") from error


def _check_image_name(file: _ImageFile) -> None:
    """Refuse, unread, a file whose extension is not an accepted image type."""
    if not _is_image_name(file.path):
        raise BadImage(
            "unsupported file type",
            f"Unsupported file type '{file.path.suffix}' for {file.path} "
            f"(allowed: {', '.join(IMAGE_EXTENSIONS)})",
        )


def read_image_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` that starts like a PNG or a JPEG."""
    try:
        with open_regular_file(path, max_bytes=max_bytes, what="image file") as handle:
            head = handle.read(_SIGNATURE_BYTES)
            if not head.startswith(IMAGE_SIGNATURES):
                raise BadImage(
                    "corrupt image",
                    f"Cannot decode {path} as PNG/JPEG: it does not start with a PNG or JPEG signature "
                    f"(first bytes {head[:8].hex(' ') or 'none'})",
                )
            data = head + handle.read(max_bytes + 1 - len(head))
    except FileRefusedError as error:
        if error.reason in (REASON_MISSING, REASON_UNREADABLE):
            raise BadImage("unreadable file", f"Cannot read {path}: {error.strerror}") from None
        raise BadImage(error.reason, str(error)) from None
    except OSError as error:
        raise BadImage("unreadable file", f"Cannot read {path}: {error.strerror or error}") from error
    if len(data) > max_bytes:  # the file grew after its size was checked
        raise BadImage("file too large", f"{path} is more than the limit of {max_bytes:,} bytes for an image file")
    return data


def _hash_entry(hasher: _Hasher, relative: str, data: bytes) -> None:
    """Feed one file into the hash, length-prefixed so that no two trees collide by concatenation."""
    name = relative.encode("utf-8")
    hasher.update(len(name).to_bytes(8, "little") + name + len(data).to_bytes(8, "little"))
    hasher.update(data)


def _trimmed(array: np.ndarray, n_kept: int) -> np.ndarray:
    """``array`` without the unused tail left by skipped files (a copy only when something was skipped)."""
    return array if n_kept == len(array) else array[:n_kept].copy()


def _describe_reasons(reasons: Mapping[str, int]) -> str:
    """'corrupt image: 3, unreadable file: 1'."""
    return ", ".join(f"{reason}: {count}" for reason, count in sorted(reasons.items()))
