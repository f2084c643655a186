"""The audit on synthetic faces with planted duplicates: exact counts, detector recall, no false matches."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fer_core.audit import (
    BLANK_STD,
    NEAR_THRESHOLD,
    audit_splits,
    exact_hashes,
    hamming,
    honest_score,
    near_pairs,
    overlap_with,
    perceptual_hashes,
    wilson_interval,
)
from fer_core.errors import DataError


def distinct_faces(n: int, seed: int) -> np.ndarray:
    """``n`` unrelated smooth 48x48 images (bicubic-upsampled random 8x8 layouts plus pixel noise)."""
    rng = np.random.default_rng(seed)
    layouts = rng.uniform(0, 255, (n, 8, 8)).astype(np.uint8)
    big = np.stack([np.asarray(Image.fromarray(layout).resize((48, 48), Image.BICUBIC)) for layout in layouts])
    return np.clip(big.astype(int) + rng.integers(-8, 9, big.shape), 0, 255).astype(np.uint8)[..., None]


def jpeg_round_trip(image: np.ndarray, quality: int = 75) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0]).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))[..., None]


def shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``image`` moved by (dx, dy) pixels, the uncovered border filled with the edge pixels."""
    padded = np.pad(image[..., 0], 2, mode="edge")
    return padded[2 - dy : 50 - dy, 2 - dx : 50 - dx][..., None]


def test_exact_duplicates_across_and_within_splits_and_conflicting_labels_are_counted_exactly() -> None:
    faces = distinct_faces(60, seed=1)
    train, train_labels = faces[:40], np.arange(40) % 7
    # validation: 5 copies of training faces (2 with another label), 5 new faces, 1 face repeated once
    validation = np.concatenate([train[:5], faces[40:45], faces[40:41]])
    validation_labels = np.concatenate([train_labels[:3], (train_labels[3:5] + 1) % 7, np.zeros(6, int)])
    # test: 3 copies of training faces, 1 copy of a validation-only face, 6 new faces
    test = np.concatenate([train[10:13], faces[44:45], faces[45:51]])
    test_labels = np.concatenate([train_labels[10:13], [0], np.zeros(6, int)])

    report = audit_splits({"train": (train, train_labels), "validation": (validation, validation_labels),
                           "test": (test, test_labels)})

    assert report.in_train("validation") == 5
    assert report.in_train("test") == 3
    assert report.exact["test"]["validation"] == 1
    assert report.exact["validation"]["validation"] == 1  # faces[40] twice
    assert report.exact["train"]["validation"] == 5
    assert report.n_conflicting_groups == 2
    assert report.n_conflicting_images == 4
    assert report.n_images == {"train": 40, "validation": 11, "test": 10}
    assert report.to_dict()["rules"]["blank"] == "pixel standard deviation < 3"


def test_the_hash_alone_finds_re_encoded_and_one_pixel_shifted_copies_and_no_unrelated_face() -> None:
    originals = distinct_faces(200, seed=2)
    jpeg = np.stack([jpeg_round_trip(face) for face in originals])
    one_px = np.stack([shifted(face, (-1) ** k, 0) if k % 2 else shifted(face, 0, (-1) ** k)
                       for k, face in enumerate(originals)])
    base = perceptual_hashes(originals)

    def recall(copies: np.ndarray) -> float:
        return float((hamming(base, perceptual_hashes(copies)) <= NEAR_THRESHOLD).mean())

    assert recall(jpeg) == 1.0  # measured 1.00 (JPEG quality 75)
    assert recall(one_px) >= 0.75  # measured 0.86 on 400 such faces; shift probing (below) finds the rest
    assert len(near_pairs(base, NEAR_THRESHOLD)) == 0  # 200 unrelated faces: no pair within the threshold
    assert len(near_pairs(np.concatenate([base, perceptual_hashes(jpeg)]), NEAR_THRESHOLD)) == 200


@pytest.mark.parametrize(("dx", "dy", "quality"), [(1, 0, None), (1, -1, None), (0, 2, None), (2, 2, None),
                                                   (-2, 2, 75), (0, 0, 50)])
def test_the_audit_finds_every_shifted_or_re_encoded_copy_and_no_unrelated_face(dx: int, dy: int,
                                                                                quality: int | None) -> None:
    originals = distinct_faces(150, seed=2)
    copies = np.stack([shifted(face, dx, dy) for face in originals])
    if quality is not None:
        copies = np.stack([jpeg_round_trip(face, quality) for face in copies])
    unrelated = distinct_faces(150, seed=11)
    labels = np.zeros(150, int)
    report = audit_splits({"train": (originals, labels), "validation": (copies, labels),
                           "test": (unrelated, labels)})
    assert report.near["validation"]["train"] == 150  # recall 100 % (also measured on 400 faces)
    assert report.near["test"]["train"] == 0 and report.near["test"]["validation"] == 0
    assert report.in_train("validation") == 0  # none is byte-identical


def test_shifted_hashes_equal_the_hashes_of_moved_images() -> None:
    from fer_core.audit._probe import shifted_hashes

    faces = distinct_faces(20, seed=8)
    probes = shifted_hashes(faces)
    offsets = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)]
    for (dx, dy), probe in zip(offsets, probes):
        moved = np.stack([shifted(face, dx, dy) for face in faces])
        assert (probe == perceptual_hashes(moved)).all()


def test_near_duplicates_are_counted_beyond_exact_ones_per_pair_of_splits() -> None:
    faces = distinct_faces(50, seed=3)
    labels = np.zeros(50, int)
    validation = np.concatenate([np.stack([jpeg_round_trip(face) for face in faces[:4]]), faces[:2]])
    report = audit_splits({"train": (faces, labels), "validation": (validation, np.zeros(6, int)),
                           "test": (distinct_faces(5, seed=4), np.zeros(5, int))})
    assert report.in_train("validation") == 2
    assert report.near["validation"]["train"] == 4  # the re-encoded ones (the exact copies are not counted again)
    assert report.near["test"]["train"] == 0
    assert report.threshold == NEAR_THRESHOLD


def test_near_pairs_match_a_brute_force_search() -> None:
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 2**63, 400, dtype=np.uint64)
    hashes[200:260] = hashes[:60] ^ np.uint64(0b101)  # 2 bits apart
    hashes[260:300] = hashes[60:100] ^ np.uint64(0b1111111)  # 7 bits apart: beyond 6
    distances = hamming(hashes[:, None], hashes[None, :])
    i, j = np.triu_indices(len(hashes), 1)
    expected = {(a, b) for a, b, d in zip(i, j, distances[i, j]) if d <= 6}
    assert {tuple(pair) for pair in near_pairs(hashes, 6).tolist()} == expected
    assert len(expected) >= 60


def test_blank_images_follow_the_std_rule() -> None:
    faces = distinct_faces(10, seed=6)
    faces[0] = 128
    faces[1] = 100 + (np.arange(48 * 48).reshape(48, 48, 1) % 2).astype(np.uint8) * 4  # std 2: near-constant
    report = audit_splits({"train": (faces, np.zeros(10, int)), "validation": (faces[2:3], [0]),
                           "test": (faces[3:4], [0])})
    assert BLANK_STD == 3.0
    assert report.n_blank == {"train": 2, "validation": 0, "test": 0}
    assert report.blank_examples["train"] == [0, 1]


def test_overlap_with_marks_exact_copies_only() -> None:
    faces = distinct_faces(8, seed=7)
    reference = exact_hashes(faces[:4])
    query = np.concatenate([faces[2:6], jpeg_round_trip(faces[0])[None]])
    assert overlap_with(reference, query).tolist() == [True, True, False, False, False]


def test_hashes_reject_non_uint8_images() -> None:
    with pytest.raises(DataError, match="uint8"):
        exact_hashes(np.zeros((2, 48, 48), dtype=np.float32))
    with pytest.raises(DataError, match="multiple of 16"):
        perceptual_hashes(np.zeros((2, 40, 40), dtype=np.uint8))


def test_wilson_interval_and_honest_score() -> None:
    from scipy.stats import binomtest

    low, high = wilson_interval(2297, 3589)  # 64 % of 3,589 faces: about +-1.6 points
    reference = binomtest(2297, 3589).proportion_ci(method="wilson")  # SciPy's own Wilson interval
    assert (low, high) == (pytest.approx(reference.low, abs=1e-12), pytest.approx(reference.high, abs=1e-12))
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0)
    labels = np.array([0, 1, 2, 3])
    score = honest_score(labels, np.array([0, 1, 0, 0]), clean=np.array([True, False, True, True]))
    assert (score.accuracy, score.n, score.clean_accuracy, score.n_clean) == (0.5, 4, pytest.approx(1 / 3), 3)
    assert score.ci_low < 0.5 < score.ci_high
