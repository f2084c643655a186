"""Converting a model with augmentation layers and test-time augmentation inside (as a promoted champion has)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from fer_core.data import make_demo_dataset
from fer_core.evaluate import predict_proba, with_tta
from fer_core.model import ArchitectureConfig, build_model
from fer_core.predict import load_exported_model
from fer_core.train import AugmentationConfig, build_augmentation
from search.export import FLOAT_TOLERANCE, convert, export_format, inference_copy

RUNTIME = {"onnx": "onnxruntime", "litert": "ai_edge_litert"}


@pytest.fixture(scope="module")
def tta_model():
    """A small CNN with random augmentation layers, wrapped with flip TTA (standard layers)."""
    architecture = ArchitectureConfig.from_dict({"blocks": [{"filters": 4, "kernel_size": 3, "padding": "same",
                                                             "pooling": "max", "pool_size": 4}], "batch_norm": "conv"})
    augmentation = build_augmentation(AugmentationConfig.from_dict({"horizontal_flip": True, "shift": 0.1}))
    return with_tta(build_model(architecture, augmentation=augmentation), "flip")


def test_inference_copy_drops_only_the_random_layers(tta_model) -> None:
    copy = inference_copy(tta_model)
    faces = make_demo_dataset(5, seed=0).images
    np.testing.assert_allclose(predict_proba(copy, faces), predict_proba(tta_model, faces), atol=1e-6)
    names = [type(layer).__name__ for layer in _all_layers(copy)]
    assert not [name for name in names if name.startswith("Random")] and "Dense" in names  # TTA's views kept


@pytest.mark.parametrize("name", ["onnx", "litert"])
def test_a_tta_model_exports_with_float_parity(tta_model, tmp_path: Path, name: str) -> None:
    if importlib.util.find_spec(RUNTIME[name]) is None:
        pytest.skip(f'--format {name} needs {RUNTIME[name]}: pip install -e ".[export]"')
    fmt = export_format(name)
    faces = make_demo_dataset(30, seed=5).images
    out = convert(tta_model, fmt, "none", tmp_path / f"model{fmt.suffix}", faces[:10])
    exported = predict_proba(load_exported_model(out), faces, batch_size=64)
    assert np.abs(exported - predict_proba(tta_model, faces, batch_size=64)).max() <= FLOAT_TOLERANCE


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def test_an_existing_folder_that_is_not_a_saved_model_is_never_replaced(tta_model, tmp_path: Path) -> None:
    from search.errors import UsageError

    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="is a folder that is not a SavedModel"):
        convert(tta_model, export_format("saved_model"), "none", tmp_path, np.zeros((1, 48, 48, 1), np.uint8))
    assert (tmp_path / "keep.txt").read_text() == "mine"
