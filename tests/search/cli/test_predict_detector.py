"""``python -m search predict --detector mtcnn|haar`` and ``--no-align`` on a real photo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core.evaluate import predict_proba
from fer_core.model import build_model, get_preset, load_model, save_model
from fer_core.predict import DEFAULT_DETECTOR, DETECTOR_NAMES, HaarFaceDetector, crop_face, read_photo
from search import main
from search.cli import _predict


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(build_model(get_preset("tiny")), tmp_path_factory.mktemp("model") / "tiny.keras")


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """skimage's astronaut, a real colour photo of one frontal face, as a JPEG."""
    data = pytest.importorskip("skimage.data", reason="scikit-image (the dev extra) has the sample photo")
    path = tmp_path_factory.mktemp("photos") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=95)
    return path


def _rows(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[list[dict], str]:
    assert main(["predict", *argv, "--format", "json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err.strip().splitlines()[-1]


def test_haar_detector_crops_as_before(portrait: Path, tiny_model: Path, capsys) -> None:
    (row,), summary = _rows(capsys, str(portrait), "--model", str(tiny_model), "--detector", "haar",
                            "--tta", "none")
    grey = read_photo(portrait).grey
    (box,) = HaarFaceDetector().detect(grey)
    assert row["source"] == "detected" and row["detector"] == "haar" and row["aligned"] is False
    assert row["box"] == box.to_dict()
    # Same answer as the square 10 %-margin crop of the Haar box that predict classified before alignment.
    expected = predict_proba(load_model(tiny_model, compile=False), crop_face(grey, box, 0.1)[None, ..., None])[0]
    np.testing.assert_allclose(list(row["probabilities"].values()), expected, atol=1e-5)
    assert summary == "Classified 1 face(s) in 1 photo(s) (found by haar, 0 aligned)."


def test_mtcnn_detector_finds_and_aligns_the_face(portrait: Path, tiny_model: Path, capsys) -> None:
    (row,), summary = _rows(capsys, str(portrait), "--model", str(tiny_model), "--detector", "mtcnn")
    assert row["source"] == "detected" and row["detector"] == "mtcnn" and row["aligned"] is True
    box = row["box"]
    assert 150 < box["x"] < 200 and 40 < box["y"] < 90 and 70 < box["width"] < 120  # her face (hand-checked)
    assert summary == "Classified 1 face(s) in 1 photo(s) (found by mtcnn, 1 aligned)."

    (square,), _ = _rows(capsys, str(portrait), "--model", str(tiny_model), "--detector", "mtcnn", "--no-align")
    assert square["aligned"] is False and square["box"] == box and square["probabilities"] != row["probabilities"]


def test_unknown_detector_is_a_usage_error(portrait: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(portrait), "--detector", "yunet"])
    assert exit_info.value.code == 2
    # Python 3.12.8+ prints the choices without quotes.
    assert re.search(r"argument --detector: invalid choice: 'yunet' \(choose from '?mtcnn'?, '?haar'?\)",
                     capsys.readouterr().err)


def test_cli_choices_match_fer_core() -> None:
    assert _predict.DETECTOR_CHOICES == DETECTOR_NAMES and _predict.DEFAULT_DETECTOR_NAME == DEFAULT_DETECTOR
