"""``python -m search predict``: formats, annotation, per-file errors and exit status, model URIs."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np
import optuna
import pytest
from PIL import Image

from fer_core.data import make_demo_dataset
from fer_core.emotions import EMOTIONS
from fer_core.evaluate import log_probabilities, temperature_scaled
from fer_core.model import build_model, get_preset, save_model
from search import main
from tests.fixtures.studies import SMOKE_STUDY, SmokeStudy

STUDY = SMOKE_STUDY


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(build_model(get_preset("tiny")), tmp_path_factory.mktemp("model") / "tiny.keras")


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good photos only: two FER-style 48x48 crops (one nested), a bigger scene, a smooth ramp."""
    root = tmp_path_factory.mktemp("in") / "photos"
    (root / "nested").mkdir(parents=True)
    faces = make_demo_dataset(3, seed=2).images[..., 0]
    Image.fromarray(faces[0]).save(root / "crop.png")
    Image.fromarray(faces[1]).save(root / "nested" / "crop.bmp")
    scene = np.random.default_rng(1).integers(90, 150, (300, 400), dtype=np.uint8)
    scene[60:252, 100:292] = cv2.resize(faces[2], (192, 192), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(scene).convert("RGB").save(root / "scene.jpg", quality=95)
    Image.fromarray(np.tile(np.linspace(0, 255, 320).astype(np.uint8), (240, 1))).save(root / "ramp.png")
    (root / "README.txt").write_text("not a photo: skipped in a directory")
    return root


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    noise = np.random.default_rng(0).integers(0, 256, (120, 120), dtype=np.uint8)
    Image.fromarray(noise).save(root / "whole.png")
    (root / "corrupt.png").write_bytes((root / "whole.png").read_bytes()[:3000])  # cut off mid-data
    (root / "text.jpg").write_text("hello, I am not a picture\n")
    Image.fromarray(np.zeros((1500, 1000), dtype=np.uint8)).save(root / "huge.png")
    return {"corrupt": root / "corrupt.png", "text": root / "text.jpg", "huge": root / "huge.png",
            "missing": root / "missing.png"}


def _predict(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    status = main(["predict", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err.strip().splitlines()


def test_json_has_every_face_with_box_and_all_probabilities(photos: Path, tiny_model: Path, capsys) -> None:
    status, out, err = _predict(capsys, str(photos), "--model", str(tiny_model), "--format", "json")

    assert status == 0
    rows = json.loads(out)
    assert [(Path(r["file"]).relative_to(photos).as_posix(), r["source"]) for r in rows if
            r["source"] != "detected"] == [("crop.png", "face-crop"), ("ramp.png", "no-face"),
                                           ("nested/crop.bmp", "face-crop")]  # a folder's files first
    by_file = {Path(r["file"]).name: r for r in rows}
    assert by_file["crop.png"]["box"] == {"x": 0, "y": 0, "width": 48, "height": 48}
    assert by_file["ramp.png"]["box"] == {"x": 0, "y": 0, "width": 320, "height": 240}
    assert {r["source"] for r in rows if Path(r["file"]).name == "scene.jpg"} <= {"detected", "no-face"}
    for row in rows:
        assert list(row["probabilities"]) == list(EMOTIONS)
        assert row["emotion"] == max(row["probabilities"], key=row["probabilities"].get)
        assert row["probability"] == row["probabilities"][row["emotion"]]
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-3 and row["face"] >= 1
    assert err[-1].startswith(f"Classified {len(rows)} face(s) in 4 photo(s)")
    assert "1 photo(s) with no face found were classified whole" in err[-1]
    assert "1 non-photo file(s) skipped" in err[-1]


def test_csv_and_table_formats_and_batching(photos: Path, tiny_model: Path, capsys) -> None:
    common = [str(photos), "--model", str(tiny_model), "--no-detect"]
    status, out, _ = _predict(capsys, *common, "--format", "csv", "--batch-size", "1")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["file", "face", "source", "x", "y", "width", "height", "emotion",
                             "probability", *EMOTIONS]
    assert [Path(r["file"]).name for r in rows] == ["crop.png", "ramp.png", "scene.jpg", "crop.bmp"]
    assert [r["source"] for r in rows] == ["face-crop", "whole", "whole", "face-crop"]

    _, out_batched, _ = _predict(capsys, *common, "--format", "csv", "--batch-size", "64")
    batched = list(csv.DictReader(io.StringIO(out_batched)))
    for one, many in zip(rows, batched, strict=True):
        assert one["emotion"] == many["emotion"]
        np.testing.assert_allclose([float(one[e]) for e in EMOTIONS], [float(many[e]) for e in EMOTIONS],
                                   atol=2e-4)

    status, table, _ = _predict(capsys, *common)
    header, rule, *lines = table.splitlines()
    assert header.split()[:6] == ["file", "face", "source", "box", "(x,y,wxh)", "emotion"]
    assert set(rule) <= {"-", " "} and len(lines) == 4 and "0,0,48x48" in lines[0]


def test_bad_files_fail_one_line_each_while_the_others_succeed(photos: Path, bad_files: dict[str, Path],
                                                                tiny_model: Path, capsys) -> None:
    status, out, err = _predict(capsys, str(bad_files["corrupt"]), str(photos / "crop.png"),
                                str(bad_files["text"]), str(bad_files["huge"]), str(bad_files["missing"]),
                                "--model", str(tiny_model), "--format", "json", "--max-pixels", "1000000")
    assert status == 1
    assert [Path(r["file"]).name for r in json.loads(out)] == ["crop.png"]
    errors = [line for line in err if line.startswith("error: ")]
    assert errors == [
        f"error: {bad_files['corrupt']}: " + errors[0].split(": ", 2)[2],
        f"error: {bad_files['text']}: not a PNG, JPEG, BMP or WebP image",
        f"error: {bad_files['huge']}: 1000x1500 = 1,500,000 pixels is more than the limit of 1,000,000 "
        "(a decompression-bomb guard; raise --max-pixels if the file is genuine)",
        f"error: {bad_files['missing']}: no such file",
    ]
    assert errors[0].split(": ", 2)[2].startswith("corrupt or truncated image (")
    assert err[-1] == "Classified 1 face(s) in 1 photo(s); 4 file(s) failed."

    status, _, err = _predict(capsys, str(bad_files["huge"]), "--model", str(tiny_model),
                              "--max-file-mb", "0.001")
    assert status == 1 and "more than the limit of 1,048 bytes (raise --max-file-mb" in err[0]


def test_annotate_writes_labelled_copies_mirroring_the_tree(photos: Path, tiny_model: Path, tmp_path: Path,
                                                            capsys) -> None:
    out_dir = tmp_path / "annotated"
    status, _, _ = _predict(capsys, str(photos), str(photos / "crop.png"), "--model", str(tiny_model),
                            "--annotate", str(out_dir), "--format", "json")
    assert status == 0
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert written == ["crop.png", "photos/crop.png", "photos/nested/crop.bmp", "photos/ramp.png",
                       "photos/scene.jpg"]
    for name in written:
        original = Image.open(photos / name.removeprefix("photos/"))
        copy = Image.open(out_dir / name)
        assert copy.size == original.size and copy.format == original.format and copy.mode == "RGB"
    ramp = np.asarray(Image.open(out_dir / "photos/ramp.png"))
    assert (ramp[0, :, 0] == 255).sum() > 50  # the orange whole-picture frame along the top edge

    status, _, err = _predict(capsys, str(photos / "crop.png"), "--model", str(tiny_model),
                              "--annotate", str(photos))
    assert status == 1 and "its annotated copy would overwrite it" in err[0]
    assert Image.open(photos / "crop.png").mode == "L"  # the input was not touched


def test_model_and_input_mistakes_are_one_line_errors(photos: Path, tmp_path: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    crop = str(photos / "crop.png")
    cases = [
        ([crop, "--model", "model.h5"], r"^error: --model must be an MLflow model URI .*\(got 'model.h5'\)$"),
        ([crop, "--model", "absent.keras"], r"^error: Model file not found: 'absent.keras'"),
        ([crop], r"^error: Cannot load models:/fer-emotion@champion: there is no MLflow store at .*mlruns"),
        ([str(tmp_path)], r"^error: No photos found in .*\.png, \.jpg, \.jpeg, \.bmp or \.webp"),
    ]
    for argv, message in cases:
        status, out, err = _predict(capsys, *argv)
        assert (status, out, len(err)) == (1, "", 1), argv
        assert _matches(message, err[0]), err
    assert not (tmp_path / "mlruns").exists()  # loading never creates a store

    with pytest.raises(SystemExit) as exit_info:
        main(["predict", crop, "--batch-size", "0"])
    assert exit_info.value.code == 2
    assert "argument --batch-size: must be an integer >= 1 (got '0')" in capsys.readouterr().err


def _matches(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


# --- MLflow URIs: one small study, promoted ----------------------------------------------------------
@pytest.fixture(scope="module")
def promoted_study(tmp_path_factory: pytest.TempPathFactory, smoke_study: SmokeStudy) -> Path:
    """A private copy of the session's smoke study: 3 trials, test-scored, promoted as fer-emotion@champion."""
    workdir = tmp_path_factory.mktemp("study")
    smoke_study.copy_to(workdir)
    return workdir


@pytest.mark.integration
def test_registry_and_run_model_uris(promoted_study: Path, photos: Path, capsys,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(promoted_study)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    capsys.readouterr()
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{promoted_study / 'mlruns/optuna.db'}")
    scored = study.trials[study.user_attrs["fer.test_score"]["trial"]]
    uris = ["models:/fer-emotion@champion", "models:/fer-emotion/1", scored.user_attrs["model_uri"],
            f"runs:/{scored.user_attrs['mlflow_run_id']}/model"]

    answers = []
    for uri in uris:
        argv = [str(photos / "crop.png"), str(photos / "ramp.png"), "--format", "json"]
        if uri != uris[0]:
            argv += ["--model", uri]  # the first one is the default
        status, out, err = _predict(capsys, *argv)
        assert status == 0, err
        answers.append([row["probabilities"] for row in json.loads(out)])
    # The registered version applies the temperature fitted on validation (softmax(log p / T)); the run's model
    # is the scored model itself.
    assert answers[1] == answers[0] and answers[3] == answers[2] and len(answers[0]) == 2
    temperature = study.user_attrs["fer.calibration"]["temperature"]
    raw = np.array([[face[name] for name in EMOTIONS] for face in answers[2]])
    calibrated = temperature_scaled(log_probabilities(raw), temperature)
    np.testing.assert_allclose([[face[name] for name in EMOTIONS] for face in answers[0]], calibrated, atol=1e-4)

    status, _, err = _predict(capsys, str(photos / "crop.png"), "--model", "models:/no-such-model@champion")
    assert status == 1 and len(err) == 1
    assert err[0].startswith("error: Cannot load models:/no-such-model@champion from sqlite:///")
    assert os.fspath(promoted_study) in err[0]


@pytest.mark.integration
def test_auto_tta_follows_the_version_tags_with_one_notice(promoted_study: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A version that applies its TTA itself gets none on top; an older one (tag `tta` only) gets its mode."""
    from mlflow import MlflowClient

    from fer_core.errors import ConfigError
    from search.cli._predict import resolve_tta
    from search.paths import default_tracking_uri

    monkeypatch.chdir(promoted_study)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    client = MlflowClient(default_tracking_uri())
    champion = client.get_model_version_by_alias("fer-emotion", "champion")
    client.create_registered_model("tta-tags")
    versions = {"older": {"tta": "flip"},
                "inside": {"tta": "ten_crop", "tta_in_model": "true", "scored_model": "models:/m-plain"}}
    for alias, tags in versions.items():
        version = client.create_model_version("tta-tags", source=champion.source, tags=tags)
        client.set_registered_model_alias("tta-tags", alias, version.version)

    assert resolve_tta("models:/tta-tags@older", "auto") == (
        "flip", "Test-time augmentation: flip (the mode models:/tta-tags@older was test-scored with; --tta none to "
        "turn it off)")
    assert resolve_tta("models:/tta-tags@older", "none") == ("none", None)
    assert resolve_tta("models:/tta-tags@inside", "auto") == (
        "none", "Test-time augmentation: ten_crop, applied by models:/tta-tags@inside itself (the mode it was "
        "test-scored with)")
    with pytest.raises(ConfigError, match=r"--tta flip cannot change it; .* --model models:/m-plain "):
        resolve_tta("models:/tta-tags@inside", "flip")
    assert resolve_tta("models:/fer-emotion@champion", "auto") == ("none", None)  # scored without TTA
    assert resolve_tta("model.keras", "auto") == ("none", None)


def test_an_unreachable_store_with_a_password_is_named_without_it(
    workdir: Path, photos: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # MLflow's own message repeats the tracking URL, credentials included: predict's message must not.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://fer:S3cretPw@127.0.0.1:1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    assert main(["predict", str(photos), "--no-detect", "--model", "models:/fer-emotion/1"]) == 1
    error = capsys.readouterr().err
    assert "error: Cannot load models:/fer-emotion/1 from http://fer:***@127.0.0.1:1: " in error
    assert "S3cretPw" not in error
