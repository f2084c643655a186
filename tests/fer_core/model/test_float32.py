"""as_float32: the float32 serving copy of a mixed-precision model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_core.model import ArchitectureConfig, as_float32, build_model, get_preset, load_model, save_model
from fer_core.train import AugmentationConfig, build_augmentation

_RESIDUAL_SE = ArchitectureConfig.from_dict(
    {
        "blocks": [
            {"n_convs": 1, "filters": 8},
            {"n_convs": 2, "filters": 16, "conv_type": "separable", "residual": True, "se_ratio": 0.25},
        ],
        "batch_norm": "conv",
        "head": "gap",
    },
    path="test",
)


def _faces(n: int = 16) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)


def test_a_bfloat16_model_becomes_float32_with_the_same_weights(tmp_path: Path) -> None:
    augmentation = build_augmentation(AugmentationConfig(horizontal_flip=True, rotation=5.0))
    mixed = build_model(_RESIDUAL_SE, augmentation=augmentation, dtype_policy="mixed_bfloat16")

    served = as_float32(mixed)

    names = {layer.dtype_policy.name for layer in served.layers}
    names |= {layer.dtype_policy.name for layer in served.get_layer("augmentation").layers}
    assert names == {"float32"}
    assert all(np.array_equal(a, b) for a, b in zip(mixed.get_weights(), served.get_weights(), strict=True))
    probabilities = served.predict(_faces(), verbose=0)
    assert probabilities.dtype == np.float32
    # bfloat16 keeps 8 bits of mantissa: the two agree to a few thousandths.
    assert np.abs(probabilities - mixed.predict(_faces(), verbose=0)).max() < 0.02
    reloaded = load_model(save_model(served, tmp_path / "served.keras"), compile=False)
    np.testing.assert_allclose(reloaded.predict(_faces(), verbose=0), probabilities, atol=1e-6)


def test_a_float32_model_is_returned_as_it_is() -> None:
    model = build_model(get_preset("tiny"))
    assert as_float32(model) is model
