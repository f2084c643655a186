"""Load a labelled image folder from another source (``<root>/<emotion name>/*``) for evaluation.

Unlike ``load_image_folder`` (a study's own data, strict: every folder must be one of our seven names),
an evaluation set comes from elsewhere: its folders may use other names for our emotions (``anger``,
``happiness``: see ``fer_core.data._label_names``), it may lack some of them, and it may hold emotions we do
not classify (``contempt``). Those folders are skipped and reported, never guessed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_core.data._dataset import FERDataset, LoadReport
from fer_core.data._folder import DEFAULT_MAX_IMAGE_PIXELS, IMAGE_EXTENSIONS, BadImage, read_image_bytes
from fer_core.data._images import DECODE_ERRORS, ImageTooLargeError, decode_face
from fer_core.data._label_names import emotion_label
from fer_core.emotions import EMOTIONS, IMAGE_SHAPE
from fer_core.errors import DataError

DEFAULT_MAX_FILES = 200_000
"""Most images read from one evaluation folder (a guard against pointing it at a whole disk)."""
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest image file read, in bytes."""
_HASH_FORMAT = b"fer-search evaluation folder v1\0"


@dataclass(frozen=True)
class LabelledFolder:
    """An evaluation folder read into a dataset, and the folders that had no label of ours.

    Args:
        dataset: The faces of the recognised folders (usage None).
        folder_labels: Folder name -> our emotion name, for every recognised folder.
        unknown_folders: Folder name -> number of files, for folders skipped as unknown emotions.
    """

    dataset: FERDataset
    folder_labels: dict[str, str]
    unknown_folders: dict[str, int]


def load_labelled_folder(
    root: str | os.PathLike[str],
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> LabelledFolder:
    """Reads ``<root>/<emotion name>/*.png|jpg`` into 48x48 grey faces, mapping synonyms to our labels.

    Raises:
        DataError: ``root`` is not a folder, two folders name the same emotion, no folder names one of ours,
            a file is unreadable, too large or not an image, or there are more than ``max_files`` images.
    """
    root_path = Path(root)
    if not root_path.is_dir():
        raise DataError(f"Evaluation folder {root_path} is not a folder; pass <root> holding <emotion>/*.png")
    folders = sorted((entry for entry in root_path.iterdir() if entry.is_dir() and not entry.name.startswith(".")),
                     key=lambda entry: entry.name)
    labelled, unknown = _classify_folders(root_path, folders)
    files = [(path, label) for folder, label in labelled for path in _image_files(folder)]
    if not files:
        raise DataError(f"No image in the emotion folders of {root_path} (looked for {', '.join(IMAGE_EXTENSIONS)})")
    if len(files) > max_files:
        raise DataError(f"{root_path} holds {len(files)} images, more than the limit of {max_files}; "
                        "evaluate a smaller folder or raise the limit")
    dataset = _read(root_path, files, max_image_pixels, max_file_bytes)
    return LabelledFolder(dataset=dataset,
                          folder_labels={folder.name: EMOTIONS[label] for folder, label in labelled},
                          unknown_folders={folder.name: len(_image_files(folder)) for folder in unknown})


def _classify_folders(root: Path, folders: list[Path]) -> tuple[list[tuple[Path, int]], list[Path]]:
    """Recognised folders with their label, and the unknown ones; two folders for one emotion are an error."""
    labelled: list[tuple[Path, int]] = []
    unknown: list[Path] = []
    seen: dict[int, Path] = {}
    for folder in folders:
        label = emotion_label(folder.name)
        if label is None:
            unknown.append(folder)
            continue
        if label in seen:
            raise DataError(f"Folders {seen[label].name} and {folder.name} in {root} both mean "
                            f"{EMOTIONS[label]!r}; merge them into one folder")
        seen[label] = folder
        labelled.append((folder, label))
    if not labelled:
        raise DataError(f"No folder of {root} names one of our emotions ({', '.join(EMOTIONS)} or a synonym "
                        f"such as anger, happiness, sadness); found: {', '.join(f.name for f in folders) or 'none'}")
    return labelled, unknown


def _image_files(folder: Path) -> list[Path]:
    """Every visible entry named like an image but a folder: FIFOs and devices are kept, to be refused by name
    when read, never skipped in silence."""
    return sorted(path for path in folder.iterdir()
                  if not path.is_dir() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS)


def _read(root: Path, files: list[tuple[Path, int]], max_image_pixels: int, max_file_bytes: int) -> FERDataset:
    images = np.empty((len(files), *IMAGE_SHAPE), dtype=np.uint8)
    labels = np.empty(len(files), dtype=np.int64)
    hasher = hashlib.sha256(_HASH_FORMAT)
    n_converted = 0
    for index, (path, label) in enumerate(files):
        try:  # a regular file, size-capped and signature-checked before it is read whole
            data = read_image_bytes(path, max_file_bytes)
        except BadImage as error:
            raise DataError(f"{error}; remove or fix the file") from None
        name = path.relative_to(root).as_posix().encode("utf-8")
        hasher.update(len(name).to_bytes(8, "little") + name + len(data).to_bytes(8, "little") + data)
        try:
            face = decode_face(data, max_image_pixels=max_image_pixels)
        except ImageTooLargeError as error:
            raise DataError(f"Image {path} is too large: {error}") from error
        except DECODE_ERRORS as error:
            raise DataError(f"Cannot decode {path} as PNG/JPEG: {error}; fix or remove the file") from error
        images[index, :, :, 0] = face.pixels
        labels[index] = label
        n_converted += face.converted
    return FERDataset(images=images, labels=labels, usage=None, source=str(root), content_hash=hasher.hexdigest(),
                      report=LoadReport(n_rows=len(files), n_converted=n_converted))
