"""save_model / load_model: native .keras round-trip, atomic writes, clear errors."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from fer_core.errors import FerError
from fer_core.model import ArchitectureConfig, build_model, load_model, save_model


@pytest.fixture(scope="module")
def model() -> keras.Model:
    config = ArchitectureConfig.from_dict(
        {
            "blocks": [{"filters": 4, "n_convs": 1, "dropout": 0.2}, {"filters": 6, "n_convs": 1}],
            "activation": "leaky_relu",
            "batch_norm": "conv",
            "dense": [{"units": 5, "dropout": 0.1}],
        }
    )
    return build_model(config)


def test_round_trip_gives_identical_predictions(model: keras.Model, tmp_path: Path) -> None:
    images = np.random.default_rng(1).integers(0, 256, size=(4, 48, 48, 1), dtype=np.uint8)
    path = save_model(model, tmp_path / "nested" / "best.keras")
    assert path == tmp_path / "nested" / "best.keras"
    assert [p.name for p in path.parent.iterdir()] == ["best.keras"]  # no temporary file left over
    loaded = load_model(path)
    assert loaded.inputs[0].dtype == "uint8"
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))


def test_saving_over_an_existing_file_replaces_it(model: keras.Model, tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    save_model(model, str(path))
    assert load_model(path).count_params() == model.count_params()


def test_wrong_suffix_is_rejected(model: keras.Model, tmp_path: Path) -> None:
    with pytest.raises(FerError, match=r"Model path must end with \.keras \(got '.*model\.h5'\)"):
        save_model(model, tmp_path / "model.h5")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FerError, match=r"Model file not found: '.*absent\.keras'; save one with save_model"):
        load_model(tmp_path / "absent.keras")


def test_a_file_that_is_not_a_keras_model_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.keras"
    path.write_text("not a zip archive")
    with pytest.raises(FerError, match=r"'.*broken\.keras' is not a loadable Keras model \(.*expected a native \.keras"):
        load_model(path)
