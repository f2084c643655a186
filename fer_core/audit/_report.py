"""The data audit: exact and near duplicates within and across splits, label conflicts, blanks, balance.

Definitions (the ones that reproduce the counts quoted for FER2013):
- ``exact[a][b]`` (a != b): rows of split ``a`` whose pixels equal those of some row of split ``b``.
- ``exact[a][a]``: rows of split ``a`` that repeat an earlier row of the same split (copies beyond the first).
- ``near[a][b]``: rows of ``a`` within ``threshold`` bits (perceptual hash) of some row of ``b`` that is not
  an exact copy of it (near-duplicates *beyond* the exact ones); faces outside ``train`` are also probed at
  shifts of up to 2 pixels (``fer_core.audit._probe``).
- conflicting groups: groups of byte-identical images (over all splits) that carry more than one label.
- blank: pixel standard deviation below ``BLANK_STD`` (0..255 scale).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_core.audit._exact import exact_groups, exact_hashes
from fer_core.audit._near import near_pairs
from fer_core.audit._perceptual import N_BITS, NEAR_THRESHOLD, perceptual_hashes
from fer_core.audit._probe import MAX_SHIFT, PROBE_THRESHOLD, probe_pairs, shifted_hashes
from fer_core.emotions import EMOTIONS, N_CLASSES

REFERENCE_SPLIT = "train"
"""The split the others are checked against (``in_train``; shift probing of the other splits' faces)."""
BLANK_STD = 3.0
"""An image whose pixel standard deviation is below this is blank or near-constant."""
HASH_NAME = f"DCT pHash ({N_BITS} bits: 8x8 low frequencies of the 3x3-block-mean 16x16 image)"


@dataclass(frozen=True)
class AuditReport:
    """What the audit found; ``to_dict`` is its JSON form.

    Args:
        split_names: Names of the splits, in order.
        n_images: Images per split.
        exact: ``exact[a][b]``: see the module docstring.
        near: ``near[a][b]``: see the module docstring.
        n_conflicting_groups: Groups of identical images with more than one label.
        n_conflicting_images: Images in those groups.
        n_blank: Blank images per split.
        class_counts: Images per emotion, per split.
        threshold: Hamming threshold of near-duplicates (bits of ``N_BITS``).
        seconds: Time the hashing and matching took.
        blank_examples: Positions (within their split) of the first few blank images.
    """

    split_names: tuple[str, ...]
    n_images: Mapping[str, int]
    exact: Mapping[str, Mapping[str, int]]
    near: Mapping[str, Mapping[str, int]]
    n_conflicting_groups: int
    n_conflicting_images: int
    n_blank: Mapping[str, int]
    class_counts: Mapping[str, Mapping[str, int]]
    threshold: int = NEAR_THRESHOLD
    seconds: float = 0.0
    blank_examples: Mapping[str, list[int]] = field(default_factory=dict)

    def in_train(self, split: str) -> int:
        """Rows of ``split`` that exactly duplicate a training row."""
        return int(self.exact[split].get("train", 0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, with the rules used."""
        return {
            "splits": list(self.split_names),
            "n_images": dict(self.n_images),
            "exact_duplicates": {a: dict(row) for a, row in self.exact.items()},
            "near_duplicates": {a: dict(row) for a, row in self.near.items()},
            "conflicting_label_groups": self.n_conflicting_groups,
            "conflicting_label_images": self.n_conflicting_images,
            "blank": dict(self.n_blank),
            "blank_examples": {a: list(v) for a, v in self.blank_examples.items()},
            "class_counts": {a: dict(row) for a, row in self.class_counts.items()},
            "rules": {
                "exact": "byte-identical uint8 pixels (BLAKE2b-128 of the pixels); exact[a][b] = rows of a equal to "
                         "some row of b; exact[a][a] = repeated rows of a beyond the first",
                "near": f"{HASH_NAME}, Hamming distance <= {self.threshold}; or, for validation and test faces, "
                        f"<= {PROBE_THRESHOLD} after moving the face back by up to {MAX_SHIFT} px in x and y "
                        "(25 shift probes); exact copies not counted",
                "blank": f"pixel standard deviation < {BLANK_STD:g}",
                "conflicting": "groups of byte-identical images with more than one label",
            },
            "hash": HASH_NAME,
            "threshold": self.threshold,
            "seconds": round(self.seconds, 3),
        }


def audit_splits(splits: Mapping[str, tuple[np.ndarray, np.ndarray]], *, threshold: int = NEAR_THRESHOLD,
                 n_examples: int = 5) -> AuditReport:
    """Audits named splits of (uint8 images, int labels); ``train`` is the reference for ``in_train``.

    Args:
        splits: Split name -> (images (N, 48, 48[, 1]) uint8, labels (N,)).
        threshold: Hamming threshold of near-duplicates.
        n_examples: Blank images listed per split.
    """
    started = time.perf_counter()
    names = tuple(splits)
    images = np.concatenate([_rows(splits[name][0]) for name in names])
    labels = np.concatenate([np.asarray(splits[name][1], dtype=np.int64) for name in names])
    owner = np.concatenate([np.full(len(splits[name][1]), k) for k, name in enumerate(names)])
    groups = exact_groups(exact_hashes(images))
    pairs = _near(images, owner, names, threshold) if len(images) else None
    near = _near_counts(names, owner, groups, pairs)
    blank = _blank(images)
    n_groups, n_images = _conflicts(groups, labels)
    return AuditReport(
        split_names=names,
        n_images={name: int((owner == k).sum()) for k, name in enumerate(names)},
        exact=_exact_counts(names, owner, groups),
        near=near,
        n_conflicting_groups=n_groups,
        n_conflicting_images=n_images,
        n_blank={name: int(blank[owner == k].sum()) for k, name in enumerate(names)},
        class_counts={name: dict(zip(EMOTIONS, np.bincount(labels[owner == k], minlength=N_CLASSES).tolist()))
                      for k, name in enumerate(names)},
        threshold=threshold,
        seconds=time.perf_counter() - started,
        blank_examples={name: np.flatnonzero(blank[owner == k])[:n_examples].tolist()
                        for k, name in enumerate(names)},
    )


def _rows(images: np.ndarray) -> np.ndarray:
    """(N, pixels) view of (N, 48, 48[, 1]) images (N may be 0)."""
    images = np.asarray(images)
    return images.reshape(len(images), int(np.prod(images.shape[1:], dtype=np.int64)))


def _near(images: np.ndarray, owner: np.ndarray, names: tuple[str, ...], threshold: int) -> np.ndarray:
    """Near pairs: hashes within ``threshold``, plus (shift probing) faces outside ``train`` that, moved back by up
    to ``MAX_SHIFT`` pixels, hash within ``PROBE_THRESHOLD`` bits of any face."""
    hashes = perceptual_hashes(images.reshape(len(images), 48, 48))
    pairs = near_pairs(hashes, threshold)
    queries = np.flatnonzero(owner != names.index(REFERENCE_SPLIT)) if REFERENCE_SPLIT in names else np.arange(0)
    if len(queries):
        probed = probe_pairs(shifted_hashes(images[queries]), hashes)
        probed[:, 0] = queries[probed[:, 0]]
        probed = probed[probed[:, 0] != probed[:, 1]]
        pairs = np.concatenate([pairs, np.sort(probed, axis=1)])
    return pairs


def _blank(rows: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Rows whose pixel standard deviation is below ``BLANK_STD`` (in batches: bounded float temporaries)."""
    blank = np.zeros(len(rows), dtype=bool)
    for start in range(0, len(rows), batch_size):
        blank[start : start + batch_size] = rows[start : start + batch_size].std(axis=1) < BLANK_STD
    return blank


def _exact_counts(names: tuple[str, ...], owner: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    for a, name_a in enumerate(names):
        mine = groups[owner == a]
        counts[name_a] = {}
        for b, name_b in enumerate(names):
            if a == b:
                counts[name_a][name_b] = int(len(mine) - len(np.unique(mine)))
            else:
                present = np.zeros(n_groups, dtype=bool)
                present[groups[owner == b]] = True
                counts[name_a][name_b] = int(present[mine].sum())
    return counts


def _near_counts(names: tuple[str, ...], owner: np.ndarray, groups: np.ndarray,
                 pairs: np.ndarray | None) -> dict[str, dict[str, int]]:
    """Rows of a with a near (not exact) duplicate in b."""
    counts = {name: dict.fromkeys(names, 0) for name in names}
    if pairs is None or len(pairs) == 0:
        return counts
    i, j = pairs[:, 0], pairs[:, 1]
    not_exact = groups[i] != groups[j]
    i, j = i[not_exact], j[not_exact]
    both_i = np.concatenate([i, j])
    both_j = np.concatenate([j, i])
    for a, name_a in enumerate(names):
        for b, name_b in enumerate(names):
            hit = (owner[both_i] == a) & (owner[both_j] == b)
            counts[name_a][name_b] = int(len(np.unique(both_i[hit])))
    return counts


def _conflicts(groups: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(groups with more than one label, images in them)."""
    if len(groups) == 0:
        return 0, 0
    pairs = np.unique(np.stack([groups, labels], axis=1), axis=0)
    n_labels = np.bincount(pairs[:, 0], minlength=int(groups.max()) + 1)
    conflicting = n_labels > 1
    return int(conflicting.sum()), int(conflicting[groups].sum())
