"""Does an evaluation set hold faces the model was trained on? Exact pixel matches with its study's training.

An evaluation set is meant to be unseen. Faces byte-identical to a face of the study's training split
(``fer_core.audit``'s content hash) are counted; their share says how far the score is a memory test. The
study's test split is never read for this (only its training split is compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from search.errors import SearchError

if TYPE_CHECKING:
    from fer_core.data import FERDataset


@dataclass(frozen=True)
class TrainingOverlap:
    """The result of the check.

    Args:
        mask: True for each evaluated face that equals a training face (None when not checked).
        note: Why it was not checked, or what it was checked against.
    """

    mask: np.ndarray | None
    note: str

    @property
    def n_overlap(self) -> int | None:
        return None if self.mask is None else int(self.mask.sum())


def training_overlap(dataset: FERDataset, study_name: str | None, storage_url: str) -> TrainingOverlap:
    """Which faces of ``dataset`` also lie in the training split of ``study_name`` (None: no study known)."""
    if study_name is None:
        return TrainingOverlap(None, "not checked: the model belongs to no known study")
    from fer_core.errors import FerError
    from search.study import SETTINGS_ATTR, load_existing_study, load_study_data, open_storage

    try:
        study = load_existing_study(open_storage(storage_url), study_name)
        settings = study.user_attrs[SETTINGS_ATTR]
        data = load_study_data(settings["data"], split=settings["split"], subset=settings["subset"],
                               seed=settings["seed"])
    except (SearchError, FerError, KeyError, OSError) as error:
        return TrainingOverlap(None, f"not checked: cannot read study {study_name!r}'s data ({error})")
    from fer_core.audit import exact_hashes, overlap_with

    mask = overlap_with(exact_hashes(data.splits.train.images), dataset.images)
    return TrainingOverlap(mask, f"against the {len(data.splits.train)} training faces of study {study_name!r}")
