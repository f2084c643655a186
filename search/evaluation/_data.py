"""The labelled set an ``evaluate`` scores: a FER2013-layout CSV (every row) or an image folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from search.errors import UsageError

if TYPE_CHECKING:
    from fer_core.data import FERDataset


@dataclass(frozen=True)
class EvaluationSet:
    """The faces to score and what was left out of them.

    Args:
        dataset: The faces and their labels (every row of a CSV: its ``Usage`` column is ignored).
        kind: ``csv`` or ``folder``.
        unknown_folders: Folder name -> files, for folders of emotions we do not classify (skipped).
        folder_labels: Folder name -> our emotion, for the folders that were read.
    """

    dataset: FERDataset
    kind: str
    unknown_folders: dict[str, int] = field(default_factory=dict)
    folder_labels: dict[str, str] = field(default_factory=dict)


def load_evaluation_set(path: str | Path) -> EvaluationSet:
    """Reads ``path``: a folder of ``<emotion>/`` folders (synonyms allowed, unknown ones skipped), or a
    ``.csv``/``.csv.gz`` (columns ``emotion,pixels[,Usage]``) or ``.npz`` cache file.

    Raises:
        UsageError: ``path`` does not exist.
        DataError: The set breaks a rule of its format (see ``fer_core.data``).
    """
    from fer_core.data import load_dataset, load_labelled_folder

    path = Path(path)
    if not path.exists():
        raise UsageError(f"--data {path} does not exist; pass a labelled image folder (<root>/<emotion>/*.png) "
                         "or a CSV with columns emotion,pixels[,Usage]")
    if path.is_dir():
        folder = load_labelled_folder(path)
        return EvaluationSet(dataset=folder.dataset, kind="folder", unknown_folders=folder.unknown_folders,
                             folder_labels=folder.folder_labels)
    return EvaluationSet(dataset=load_dataset(path, use_cache=False), kind="csv")
