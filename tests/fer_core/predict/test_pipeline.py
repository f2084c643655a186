"""fer_core.predict: Haar detection, cropping, the whole-picture fallbacks, batched prediction, drawing."""

from __future__ import annotations

import importlib.util
from pathlib import Path, PurePath

import cv2
import keras
import numpy as np
import pytest
from PIL import Image

from fer_core.data import make_demo_dataset
from fer_core.emotions import EMOTIONS
from fer_core.errors import ConfigError, DataError, FerError
from fer_core.evaluate import predict_proba
from fer_core.model import build_model, get_preset
from fer_core.predict import (
    Box,
    EmotionPredictor,
    FaceDetectorUnavailable,
    FaceSource,
    HaarFaceDetector,
    InputFile,
    PhotoFailure,
    PhotoPrediction,
    check_model_io,
    crop_face,
    draw_predictions,
    locate_faces,
    read_photo,
    save_image,
)

GRACE_HOPPER_FACE = Box(155, 104, 224, 224)
"""Where OpenCV's own reader + cascade put the face in matplotlib's sample portrait."""


def _sample_portrait() -> Path:
    """matplotlib's bundled Grace Hopper portrait (a real photo of a face), or skip."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        pytest.skip("matplotlib (bundles the sample portrait used for detection) is not installed")
    path = Path(spec.origin).parent / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        pytest.skip(f"matplotlib's sample portrait is missing ({path})")
    return path


def _gradient(width: int = 300, height: int = 200) -> np.ndarray:
    """A smooth left-to-right ramp: nothing face-like for the cascade to find."""
    return np.tile(np.linspace(0, 255, width).astype(np.uint8), (height, 1))


class FixedDetector:
    """Finds the same boxes in every picture: exercises the detected-face path deterministically."""

    def __init__(self, *boxes: Box) -> None:
        self.boxes = boxes

    def detect(self, grey: np.ndarray) -> tuple[Box, ...]:
        return self.boxes


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return build_model(get_preset("tiny"))


@pytest.fixture(scope="module")
def detector() -> HaarFaceDetector:
    return HaarFaceDetector()


def test_haar_finds_the_face_in_a_real_portrait(detector: HaarFaceDetector) -> None:
    grey = read_photo(_sample_portrait()).grey
    (box,) = detector.detect(grey)
    assert box.iou(GRACE_HOPPER_FACE) > 0.8

    reduced = HaarFaceDetector(max_side=300)  # detection on a 256x300 copy, boxes mapped back
    (small_box,) = reduced.detect(grey)
    assert small_box.iou(GRACE_HOPPER_FACE) > 0.7
    assert small_box.right <= grey.shape[1] and small_box.bottom <= grey.shape[0]


def test_no_face_in_smooth_or_tiny_pictures(detector: HaarFaceDetector) -> None:
    assert detector.detect(_gradient()) == ()
    assert detector.detect(np.full((20, 400), 128, dtype=np.uint8)) == ()  # smaller than the cascade
    with pytest.raises(DataError, match=r"detect needs a grey \(height, width\) uint8 picture \(got "
                                        r"float32 \(20, 20, 3\)\)"):
        detector.detect(np.zeros((20, 20, 3), dtype=np.float32))


def test_detector_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"scale_factor must be > 1 \(got 1.0\)"):
        HaarFaceDetector(scale_factor=1.0)
    with pytest.raises(ConfigError, match=r"min_neighbors must be an integer >= 0 \(got -1\)"):
        HaarFaceDetector(min_neighbors=-1)
    with pytest.raises(ConfigError, match=r"max_side must be an integer >= 24 \(got 10\)"):
        HaarFaceDetector(max_side=10)


def test_missing_cascade_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path), raising=False)
    with pytest.raises(FaceDetectorUnavailable, match=r"ships no readable .*haarcascade_frontalface_default"
                                                      r".xml; install an OpenCV 4 wheel: pip install "
                                                      r"'opencv-python-headless>=4.9,<5' .*--no-detect"):
        HaarFaceDetector()


def test_crop_is_square_with_margin_and_repeats_edges_outside_the_picture() -> None:
    grey = np.zeros((100, 200), dtype=np.uint8)
    grey[20:60, 50:90] = 255  # a 40x40 white "face"
    tight = crop_face(grey, Box(50, 20, 40, 40), margin=0.0)
    assert tight.shape == (48, 48) and tight.dtype == np.uint8 and tight.min() == 255

    loose = crop_face(grey, Box(50, 20, 40, 40), margin=0.25)  # 60x60 around it: a black frame
    assert loose[24, 24] == 255 and loose[1, 24] == 0 and loose[24, 1] == 0

    corner = np.full((100, 100), 77, dtype=np.uint8)
    at_edge = crop_face(corner, Box(0, 0, 30, 50), margin=0.5)  # mostly outside: edges repeated
    assert at_edge.shape == (48, 48) and (at_edge == 77).all()

    with pytest.raises(ConfigError, match=r"margin must be a number in \[0, 1\] .*got 2"):
        crop_face(grey, Box(0, 0, 10, 10), margin=2)


def test_locate_faces_crop_whole_and_no_face_paths() -> None:
    face = make_demo_dataset(3, seed=0).images[0, ..., 0]
    fer_style = locate_faces(_photo(face), FixedDetector(Box(0, 0, 5, 5)), margin=0.1)
    assert fer_style.source is FaceSource.FACE_CROP and fer_style.boxes == (Box(0, 0, 48, 48),)
    assert np.array_equal(fer_style.crops[0, ..., 0], face)  # classified as is, detector not asked

    no_face = locate_faces(_photo(_gradient()), FixedDetector(), margin=0.1)
    assert no_face.source is FaceSource.NO_FACE and no_face.boxes == (Box(0, 0, 300, 200),)
    assert no_face.crops.shape == (1, 48, 48, 1) and no_face.crops.dtype == np.uint8

    switched_off = locate_faces(_photo(_gradient()), None, margin=0.1)
    assert switched_off.source is FaceSource.WHOLE

    two = locate_faces(_photo(_gradient()), FixedDetector(Box(10, 10, 50, 50), Box(150, 20, 60, 70)),
                       margin=0.1)
    assert two.source is FaceSource.DETECTED and two.crops.shape == (2, 48, 48, 1)


def _photo(grey: np.ndarray):
    from fer_core.predict import Photo

    return Photo(grey=grey, rgb=None, image_format="PNG")


def _write_photos(folder: Path) -> list[InputFile]:
    """Six files: three 48x48 crops, a corrupt one in the middle, two larger pictures."""
    folder.mkdir()
    faces = make_demo_dataset(3, seed=1).images[:, ..., 0]
    names = []
    for index in range(3):
        Image.fromarray(faces[index]).save(folder / f"crop{index}.png")
        names.append(f"crop{index}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    names.append("broken.png")
    canvas = np.random.default_rng(0).integers(100, 140, (240, 320), dtype=np.uint8)
    canvas[40:184, 60:204] = cv2.resize(faces[3], (144, 144), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(canvas).convert("RGB").save(folder / "scene.jpg", quality=95)
    Image.fromarray(_gradient()).save(folder / "ramp.png")
    names += ["scene.jpg", "ramp.png"]
    return [InputFile(folder / name, PurePath(name)) for name in names]


def test_batches_give_the_same_answers_in_input_order(tmp_path: Path, model: keras.Model) -> None:
    files = _write_photos(tmp_path / "photos")
    two_boxes = FixedDetector(Box(60, 40, 144, 144), Box(200, 100, 60, 60))

    def run(batch_size: int) -> list:
        predictor = EmotionPredictor(model, detector=two_boxes, batch_size=batch_size)
        return list(predictor.predict_files(files))

    one_at_a_time, in_one_batch = run(1), run(64)
    assert [r.file for r in one_at_a_time] == files == [r.file for r in in_one_batch]
    assert isinstance(one_at_a_time[3], PhotoFailure) and isinstance(in_one_batch[3], PhotoFailure)
    assert one_at_a_time[3].message.startswith("corrupt or truncated image")
    good = [r for r in in_one_batch if isinstance(r, PhotoPrediction)]
    assert [len(r.faces) for r in good] == [1, 1, 1, 2, 2]
    for single, batched in zip(one_at_a_time, in_one_batch):
        if isinstance(batched, PhotoPrediction):
            for a, b in zip(single.faces, batched.faces):
                assert a.box == b.box and a.source is b.source
                np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)

    crop = in_one_batch[0].faces[0]
    expected = predict_proba(model, read_photo(files[0].path).grey[np.newaxis])[0]
    np.testing.assert_allclose(crop.probabilities, expected, atol=1e-5)
    assert crop.source is FaceSource.FACE_CROP and abs(sum(crop.probabilities) - 1) < 1e-4
    assert crop.emotion == EMOTIONS[int(np.argmax(expected))] and crop.probability == max(crop.probabilities)
    assert list(crop.probability_by_emotion()) == list(EMOTIONS)
    assert in_one_batch[0].photo is None  # colour is kept only for annotation


def test_real_detector_end_to_end_falls_back_to_the_whole_picture(tmp_path: Path, model: keras.Model,
                                                                  detector: HaarFaceDetector) -> None:
    Image.fromarray(_gradient()).save(tmp_path / "ramp.png")
    (result,) = EmotionPredictor(model, detector=detector, keep_colour=True).predict_files(
        [InputFile(tmp_path / "ramp.png", PurePath("ramp.png"))])
    (face,) = result.faces
    assert face.source is FaceSource.NO_FACE and face.box == Box(0, 0, 300, 200)
    assert result.photo is not None and result.photo.rgb.shape == (200, 300, 3)


def test_predictor_refuses_models_and_settings_it_cannot_use(model: keras.Model) -> None:
    inputs = keras.Input((48, 48, 1), dtype="uint8")
    three_classes = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    with pytest.raises(FerError, match=r"The model maps \(48, 48, 1\) to \(3,\), but predict needs "
                                       r"\(48, 48, 1\) images to \(7,\) probabilities in the order angry"):
        check_model_io(three_classes)
    with pytest.raises(ConfigError, match=r"batch_size must be an integer >= 1 \(got 0\)"):
        EmotionPredictor(model, detector=None, batch_size=0)


def test_annotated_copy_has_boxes_and_labels(tmp_path: Path, model: keras.Model) -> None:
    rgb = np.full((240, 320, 3), 128, dtype=np.uint8)
    (result,) = EmotionPredictor(model, detector=FixedDetector(Box(100, 60, 80, 80))).predict_files(
        [InputFile(_png_rgb(tmp_path / "in.png", rgb), PurePath("in.png"))])

    drawn = draw_predictions(rgb, result.faces)
    assert drawn.shape == rgb.shape and (rgb == 128).all()  # the input is left alone
    assert (drawn[100, 100] != 128).any() and (drawn[100, 140] == 128).all()  # box edge, box inside
    assert (drawn[45:60, 100:140] != 128).any()  # the label tag above the box

    for name, image_format in (("out/a.png", "PNG"), ("out/deep/b.jpg", "JPEG")):
        written = save_image(drawn, tmp_path / name, image_format)
        assert read_photo(written, keep_colour=True).rgb.shape == rgb.shape
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["a.png", "b.jpg", "deep"]


def _png_rgb(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path
