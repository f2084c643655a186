"""TrainConfig / AugmentationConfig: schema defaults, round trips and validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_core.errors import ConfigError
from fer_core.train import AugmentationConfig, TrainConfig, _precision, default_dtype_policy

SCHEMA_TRAINING_DEFAULTS = {
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "weight_decay": 0.0,
    "momentum": 0.9,
    "label_smoothing": 0.0,
    "class_weighting": False,
    "batch_size": 64,
    "epochs": 30,
    "early_stopping_patience": 10,
    "schedule": "plateau",
    "plateau_factor": 0.5,
    "plateau_patience": 3,
    "warmup_epochs": 0,
    "min_learning_rate": 1e-6,
    "cycle_peak": 0.3,
    "ema_momentum": 0.0,
    "mixup_alpha": 0.0,
    "cutmix_alpha": 0.0,
    "seed": 0,
}
SCHEMA_AUGMENTATION_DEFAULTS = {
    "horizontal_flip": False,
    "rotation": 0.0,
    "shift": 0.0,
    "zoom": 0.0,
    "erasing": 0.0,
    "crop_padding": 0,
}


def test_training_defaults_follow_the_schema() -> None:
    assert TrainConfig.from_dict({}).to_dict() == SCHEMA_TRAINING_DEFAULTS


def test_augmentation_defaults_are_all_off() -> None:
    config = AugmentationConfig.from_dict({})
    assert config.to_dict() == SCHEMA_AUGMENTATION_DEFAULTS
    assert config.is_off


def test_training_round_trips_through_dict() -> None:
    data = {
        **SCHEMA_TRAINING_DEFAULTS,
        "optimizer": "sgd",
        "schedule": "cosine",
        "warmup_epochs": 2,
        "early_stopping_patience": None,
        "class_weighting": True,
    }
    config = TrainConfig.from_dict(data)
    assert config.to_dict() == data
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_augmentation_round_trips_through_dict() -> None:
    data = {"horizontal_flip": True, "rotation": 15.0, "shift": 0.1, "zoom": 0.2, "erasing": 1.0, "crop_padding": 4}
    config = AugmentationConfig.from_dict(data)
    assert config.to_dict() == data
    assert not config.is_off


def test_integers_are_accepted_for_float_options_and_stored_as_float() -> None:
    config = TrainConfig.from_dict({"learning_rate": 1, "min_learning_rate": 0})
    assert config.learning_rate == 1.0 and isinstance(config.learning_rate, float)
    assert isinstance(AugmentationConfig(rotation=10).rotation, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"optimizer": "rmsprop"}, r"training\.optimizer must be one of adam, adamw, sgd \(got 'rmsprop'\)"),
        ({"learning_rate": 0}, r"training\.learning_rate must be > 0 \(got 0\)"),
        ({"learning_rate": "fast"}, r"training\.learning_rate must be a finite number > 0 \(got 'fast'\)"),
        ({"learning_rate": float("nan")}, r"training\.learning_rate must be a finite number"),
        ({"weight_decay": -0.1}, r"training\.weight_decay must be >= 0 \(got -0\.1\)"),
        ({"momentum": 1.0}, r"training\.momentum must be in \[0, 1\) \(got 1\)"),
        ({"label_smoothing": 1}, r"training\.label_smoothing must be in \[0, 1\) \(got 1\)"),
        ({"class_weighting": "yes"}, r"training\.class_weighting must be true or false \(got 'yes'\)"),
        ({"batch_size": 0}, r"training\.batch_size must be an integer >= 1 \(got 0\)"),
        ({"batch_size": True}, r"training\.batch_size must be an integer >= 1 \(got True\)"),
        ({"epochs": 2.5}, r"training\.epochs must be an integer >= 1 \(got 2\.5\)"),
        ({"early_stopping_patience": 0}, r"training\.early_stopping_patience must be an integer >= 1 \(got 0\)"),
        ({"schedule": "step"}, r"training\.schedule must be one of none, plateau, cosine, onecycle \(got 'step'\)"),
        ({"plateau_factor": 1.0}, r"training\.plateau_factor must be in \(0, 1\) \(got 1\)"),
        ({"plateau_patience": 0}, r"training\.plateau_patience must be an integer >= 1 \(got 0\)"),
        ({"warmup_epochs": -1}, r"training\.warmup_epochs must be an integer >= 0 \(got -1\)"),
        ({"seed": "0"}, r"training\.seed must be an integer \(got '0'\)"),
        (
            {"learning_rate": 1e-4, "min_learning_rate": 1e-3},
            r"training\.min_learning_rate must be <= training\.learning_rate "
            r"\(min_learning_rate=0\.001, learning_rate=0\.0001\)",
        ),
        (
            {"schedule": "cosine", "epochs": 3, "warmup_epochs": 3},
            r"training\.warmup_epochs must be < training\.epochs with the cosine schedule "
            r"\(warmup_epochs=3, epochs=3\)",
        ),
        ({"lr": 0.1, "epoch": 3}, r"Unknown key\(s\) in training: 'epoch', 'lr'; allowed keys are: batch_size, "),
    ],
)
def test_training_rejects_bad_values(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"horizontal_flip": 1}, r"augmentation\.horizontal_flip must be true or false \(got 1\)"),
        ({"rotation": 46}, r"augmentation\.rotation must be in \[0, 45\] \(got 46\)"),
        ({"shift": 0.5}, r"augmentation\.shift must be in \[0, 0\.5\) \(got 0\.5\)"),
        ({"zoom": -0.1}, r"augmentation\.zoom must be in \[0, 0\.5\) \(got -0\.1\)"),
        ({"erasing": 1.5}, r"augmentation\.erasing must be in \[0, 1\] \(got 1\.5\)"),
        ({"crop_padding": 17}, r"augmentation\.crop_padding must be an integer in \[0, 16\] \(got 17\)"),
        ({"crop_padding": 2.0}, r"augmentation\.crop_padding must be an integer in \[0, 16\] \(got 2\.0\)"),
        ({"flip": True}, r"Unknown key\(s\) in augmentation: 'flip'; allowed keys are: crop_padding, erasing, "),
    ],
)
def test_augmentation_rejects_bad_values(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AugmentationConfig.from_dict(data)


def test_a_non_mapping_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"training must be a mapping of option names to values \(got list"):
        TrainConfig.from_dict([("epochs", 3)])  # type: ignore[arg-type]


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ConfigError, match=r"training\.epochs must be an integer >= 1 \(got 0\)"):
        TrainConfig(epochs=0)


def test_default_dtype_policy_matches_the_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow as tf

    monkeypatch.delenv(_precision.POLICY_ENV, raising=False)
    if tf.config.list_physical_devices("GPU"):
        expected = "mixed_float16"
    else:
        expected = "mixed_bfloat16" if _precision.cpu_has_native_bf16() else "float32"
    assert default_dtype_policy() == expected


def test_default_dtype_policy_is_mixed_precision_where_the_hardware_computes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(_precision.POLICY_ENV, raising=False)
    monkeypatch.setattr(_precision, "gpu_available", lambda: True)
    assert default_dtype_policy() == "mixed_float16"
    monkeypatch.setattr(_precision, "gpu_available", lambda: False)
    monkeypatch.setattr(_precision, "cpu_has_native_bf16", lambda: True)
    assert default_dtype_policy() == "mixed_bfloat16"
    monkeypatch.setattr(_precision, "cpu_has_native_bf16", lambda: False)
    assert default_dtype_policy() == "float32"


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    zen4 = tmp_path / "zen4"
    zen4.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n")
    avx2 = tmp_path / "avx2"
    avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    assert _precision.cpu_has_native_bf16(zen4) is True
    assert _precision.cpu_has_native_bf16(avx2) is False
    assert _precision.cpu_has_native_bf16(tmp_path / "missing") is False


def test_the_environment_overrides_the_dtype_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_precision.POLICY_ENV, "float32")
    monkeypatch.setattr(_precision, "cpu_has_native_bf16", lambda: True)
    assert default_dtype_policy() == "float32"
    monkeypatch.setenv(_precision.POLICY_ENV, "float64")
    with pytest.raises(ConfigError, match=r"FER_DTYPE_POLICY must be one of .*\(got 'float64'\); unset it"):
        default_dtype_policy()
