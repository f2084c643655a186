"""An evaluation folder from elsewhere: synonyms, absent classes, unknown emotions."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core.data import emotion_label, load_labelled_folder
from fer_core.emotions import EMOTIONS
from fer_core.errors import DataError


def _write_faces(folder: Path, n: int, seed: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for index in range(n):
        Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(folder / f"{index}.png")


@pytest.mark.parametrize(("name", "emotion"), [("anger", "angry"), ("Happiness", "happy"), ("sadness", "sad"),
                                               ("surprised", "surprise"), ("fearful", "fear"),
                                               ("disgusted", "disgust"), ("NEUTRAL", "neutral")])
def test_synonyms_map_to_our_emotions(name: str, emotion: str) -> None:
    assert emotion_label(name) == EMOTIONS.index(emotion)


def test_unknown_folders_are_skipped_and_reported(tmp_path: Path) -> None:
    _write_faces(tmp_path / "anger", 3, 0)
    _write_faces(tmp_path / "happiness", 2, 1)
    _write_faces(tmp_path / "contempt", 4, 2)
    loaded = load_labelled_folder(tmp_path)
    assert loaded.unknown_folders == {"contempt": 4}
    assert loaded.folder_labels == {"anger": "angry", "happiness": "happy"}
    assert loaded.dataset.images.shape == (5, 48, 48, 1)
    assert sorted(loaded.dataset.labels.tolist()) == [0, 0, 0, 3, 3]


def test_two_folders_for_one_emotion_and_no_known_folder_are_errors(tmp_path: Path) -> None:
    _write_faces(tmp_path / "a" / "anger", 1, 0)
    _write_faces(tmp_path / "a" / "angry", 1, 1)
    with pytest.raises(DataError, match="both mean 'angry'"):
        load_labelled_folder(tmp_path / "a")
    _write_faces(tmp_path / "b" / "contempt", 1, 2)
    with pytest.raises(DataError, match="No folder of .* names one of our emotions"):
        load_labelled_folder(tmp_path / "b")


def test_too_many_files_is_refused(tmp_path: Path) -> None:
    _write_faces(tmp_path / "sad", 3, 0)
    with pytest.raises(DataError, match="more than the limit of 2"):
        load_labelled_folder(tmp_path, max_files=2)


def test_a_fifo_or_a_link_to_dev_zero_named_like_an_image_is_refused_without_reading(tmp_path: Path) -> None:
    """An evaluation folder is read as warily as a study's: no hang on a FIFO, no endless read of /dev/zero."""
    _write_faces(tmp_path / "happiness", 2, seed=0)
    os.mkfifo(tmp_path / "happiness" / "stuck.png")
    with pytest.raises(DataError, match=r"stuck\.png.*not a regular file"):
        load_labelled_folder(tmp_path)
    (tmp_path / "happiness" / "stuck.png").unlink()
    (tmp_path / "happiness" / "zero.png").symlink_to("/dev/zero")
    with pytest.raises(DataError, match=r"zero\.png.*not a regular file"):
        load_labelled_folder(tmp_path)
