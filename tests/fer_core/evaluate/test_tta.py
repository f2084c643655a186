"""Test-time augmentation: the views made of each image and the averaged probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.errors import ConfigError
from fer_core.evaluate import TTA_MODES, evaluate, predict_proba, tta_views, with_tta
from fer_core.model import build_model, get_preset


@pytest.fixture(scope="module")
def tiny_model():
    return build_model(get_preset("tiny"))


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(9, 48, 48, 1), dtype=np.uint8)


def test_flip_views_are_the_image_and_its_mirror(images: np.ndarray) -> None:
    original, mirrored = tta_views(images, "flip")
    assert np.array_equal(original, images)
    assert np.array_equal(mirrored, images[:, :, ::-1])


def test_ten_crop_views_are_shifted_corner_and_centre_crops_and_their_mirrors(images: np.ndarray) -> None:
    views = tta_views(images, "ten_crop", crop=44)
    assert len(views) == 10 and all(v.shape == images.shape and v.dtype == np.uint8 for v in views)
    top_left = views[0]
    # The 44 x 44 top-left crop sits in the middle of the frame (2 px margins)...
    assert np.array_equal(top_left[:, 2:46, 2:46], images[:, 0:44, 0:44])
    # ... and the margins repeat its edge pixels.
    assert np.array_equal(top_left[:, 0, 2:46], images[:, 0, 0:44])
    centre = views[4]
    assert np.array_equal(centre[:, 2:46, 2:46], images[:, 2:46, 2:46])
    for plain, mirrored in zip(views[:5], views[5:]):
        assert np.array_equal(mirrored, plain[:, :, ::-1])


def test_flip_probabilities_are_the_mean_over_both_views(tiny_model, images: np.ndarray) -> None:
    plain = predict_proba(tiny_model, images)
    mirrored = predict_proba(tiny_model, np.ascontiguousarray(images[:, :, ::-1]))
    averaged = predict_proba(tiny_model, images, tta="flip", batch_size=4)
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, atol=1e-5)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, atol=1e-5)


def test_ten_crop_of_a_flat_image_changes_nothing(tiny_model) -> None:
    flat = np.full((3, 48, 48, 1), 117, dtype=np.uint8)
    np.testing.assert_allclose(predict_proba(tiny_model, flat, tta="ten_crop"), predict_proba(tiny_model, flat),
                               atol=1e-5)


def test_evaluate_accepts_every_mode(tiny_model, images: np.ndarray) -> None:
    labels = np.arange(len(images)) % 7
    for mode in TTA_MODES:
        assert 0.0 <= evaluate(tiny_model, images, labels, tta=mode).accuracy <= 1.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tta": "five_crop"}, r"Unknown tta 'five_crop'; choose one of: none, flip, ten_crop"),
    ({"tta": "ten_crop", "crop": 48}, r"tta crop must be an integer in \[24, 47\] \(got 48\)"),
])
def test_bad_tta_options_fail_with_the_rule(tiny_model, images: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        predict_proba(tiny_model, images, **kwargs)


# --- TTA inside the model (with_tta) ---------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "crop"), [("flip", 44), ("ten_crop", 44), ("ten_crop", 37)])
def test_a_model_with_tta_predicts_what_predict_proba_scores(tiny_model, images: np.ndarray, mode: str,
                                                             crop: int) -> None:
    wrapped = with_tta(tiny_model, mode, crop=crop)
    expected = predict_proba(tiny_model, images, tta=mode, crop=crop)
    np.testing.assert_allclose(wrapped.predict_on_batch(images), expected, atol=1e-6)
    assert not (mode == "ten_crop" and np.allclose(expected, predict_proba(tiny_model, images), atol=1e-6))


def test_a_model_with_tta_saves_and_loads_in_safe_mode(tiny_model, images: np.ndarray, tmp_path) -> None:
    import keras

    wrapped = with_tta(tiny_model, "ten_crop")
    path = tmp_path / "with_tta.keras"
    wrapped.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(images), wrapped.predict_on_batch(images), atol=1e-7)
    assert loaded.count_params() == wrapped.count_params()
    assert not any(layer.trainable_weights for layer in loaded.layers if layer.name.startswith("crop"))


def test_no_tta_is_the_model_itself_and_a_bad_mode_fails_with_the_rule(tiny_model) -> None:
    assert with_tta(tiny_model, "none") is tiny_model
    with pytest.raises(ConfigError, match=r"Unknown tta 'five_crop'; choose one of: none, flip, ten_crop"):
        with_tta(tiny_model, "five_crop")
