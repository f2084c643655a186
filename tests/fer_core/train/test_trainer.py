"""train(): learning, optimizers and schedules, early stopping, NaN outcome, hooks, input checks."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from fer_core.errors import ConfigError, DataError
from fer_core.model import ArchitectureConfig, build_model
from fer_core.train import (
    AugmentationConfig,
    TrainConfig,
    TrainOutcome,
    TrainResult,
    _pipeline,
    build_augmentation,
    train,
)

FAST = {"batch_size": 16, "learning_rate": 0.03, "epochs": 2}


def tiny_model(*, emit_nan: bool = False, dtype: str | None = None) -> keras.Model:
    """A model built like fer_core.model's: uint8 input, Rescaling inside, 7-way float32 softmax."""
    inputs = keras.Input((48, 48, 1), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255, dtype=dtype)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=3, activation="relu", dtype=dtype)(x)
    x = keras.layers.GlobalAveragePooling2D(dtype=dtype)(x)
    if emit_nan:
        x = keras.layers.Lambda(lambda features: features * math.nan)(x)
    outputs = keras.layers.Dense(7, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


def brightness_task(n_images: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Trivially separable: the class is the image's brightness level (0, 36, ..., 216 plus noise)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n_images)
    images = labels[:, None, None, None] * 36 + rng.integers(0, 30, (n_images, 48, 48, 1))
    return images.astype(np.uint8), labels


@pytest.fixture(scope="module")
def train_set() -> tuple[np.ndarray, np.ndarray]:
    """Small: most tests check behaviour, not accuracy."""
    return brightness_task(128, seed=0)


@pytest.fixture(scope="module")
def val_set() -> tuple[np.ndarray, np.ndarray]:
    return brightness_task(64, seed=1)


def run(train_set, val_set, *, model: keras.Model | None = None, **overrides) -> TrainResult:
    keras.utils.set_random_seed(0)
    config = TrainConfig.from_dict({**FAST, **overrides.pop("config", {})})
    return train(model or tiny_model(), *train_set, validation=val_set, config=config, **overrides)


def test_learns_a_separable_task_well_above_chance() -> None:
    train_set, val_set = brightness_task(448, seed=0), brightness_task(128, seed=1)
    result = run(train_set, val_set, config={"epochs": 3, "early_stopping_patience": None})

    assert result.outcome is TrainOutcome.COMPLETED
    assert result.n_epochs == 3
    assert result.best_val_accuracy is not None and result.best_val_accuracy > 0.5  # chance: 1/7
    assert result.best_epoch == int(np.argmax(result.history["val_accuracy"]))
    assert result.best_val_accuracy == max(result.history["val_accuracy"])
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(values) == 3 for values in result.history.values())
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.images_per_s > 0 and result.duration_s > 0


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam", "schedule": "none", "weight_decay": 1e-4},
        {"optimizer": "adamw", "schedule": "plateau", "weight_decay": 1e-2},
        {"optimizer": "sgd", "schedule": "cosine", "momentum": 0.8, "learning_rate": 0.05},
        {"optimizer": "adam", "schedule": "cosine", "warmup_epochs": 1},
    ],
    ids=["adam-none", "adamw-plateau", "sgd-cosine", "adam-cosine-warmup"],
)
def test_every_optimizer_and_schedule_trains(train_set, val_set, options: dict) -> None:
    result = run(train_set, val_set, config=options)

    assert result.outcome is TrainOutcome.COMPLETED
    assert all(math.isfinite(loss) for loss in result.history["loss"])
    if options["schedule"] == "none":
        assert result.history["learning_rate"] == pytest.approx([0.03, 0.03])


def test_cosine_schedule_warms_up_then_decays_to_the_minimum(train_set, val_set) -> None:
    config = {"schedule": "cosine", "epochs": 3, "warmup_epochs": 1, "min_learning_rate": 1e-4}
    rates = run(train_set, val_set, config=config).history["learning_rate"]

    assert rates[0] == pytest.approx(0.03)  # end of the warm-up: the peak
    assert rates[0] > rates[1] > rates[2]
    assert rates[2] == pytest.approx(1e-4)  # end of training: the floor


def test_plateau_schedule_lowers_the_rate_when_val_accuracy_stalls(train_set, val_set) -> None:
    """With a vanishing learning rate val accuracy cannot change, so the rate is halved each epoch."""
    config = {"learning_rate": 1e-9, "min_learning_rate": 1e-12, "plateau_patience": 1, "epochs": 3}
    rates = run(train_set, val_set, config={**config, "early_stopping_patience": None}).history["learning_rate"]

    assert rates == pytest.approx([1e-9, 1e-9, 0.5e-9])


def test_early_stopping_stops_and_restores_the_best_weights(train_set) -> None:
    """Validation labels are noise, so val accuracy soon stops improving while the weights keep moving."""
    rng = np.random.default_rng(5)
    noise_val = (train_set[0][:96], rng.integers(0, 7, 96))
    model = tiny_model()
    weights_after_epoch: list[list[np.ndarray]] = []

    result = run(
        train_set,
        noise_val,
        model=model,
        config={"epochs": 8, "early_stopping_patience": 1, "schedule": "none"},
        on_epoch_end=lambda epoch, logs: weights_after_epoch.append(model.get_weights()),
    )

    assert result.outcome is TrainOutcome.EARLY_STOPPED
    assert result.n_epochs < 8
    assert result.best_epoch is not None and result.best_epoch < result.n_epochs - 1
    for restored, best in zip(model.get_weights(), weights_after_epoch[result.best_epoch]):
        np.testing.assert_array_equal(restored, best)
    assert not all(
        np.array_equal(restored, last) for restored, last in zip(model.get_weights(), weights_after_epoch[-1])
    )


@pytest.mark.parametrize(
    ("model_options", "config"),
    [({}, {"learning_rate": 1e30, "optimizer": "sgd"}), ({"emit_nan": True}, {})],
    ids=["exploding-learning-rate", "model-emits-nan"],
)
def test_nan_loss_stops_at_once_and_is_an_outcome(train_set, val_set, model_options: dict, config: dict) -> None:
    calls: list[int] = []
    result = run(
        train_set,
        val_set,
        model=tiny_model(**model_options),
        config={**config, "epochs": 3},
        on_epoch_end=lambda epoch, logs: calls.append(epoch),
    )

    assert result.outcome is TrainOutcome.NAN_LOSS
    assert result.n_epochs == 1
    assert not math.isfinite(result.history["loss"][-1])
    assert calls == []  # the aborted epoch is reported through the outcome, not the hook


def test_on_epoch_end_gets_every_epoch_with_float_logs(train_set, val_set) -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    extra_epochs: list[int] = []
    extra = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: extra_epochs.append(epoch))
    result = run(train_set, val_set, on_epoch_end=lambda epoch, logs: seen.append((epoch, logs)), callbacks=[extra])

    assert [epoch for epoch, _ in seen] == [0, 1]
    assert extra_epochs == [0, 1]  # extra Keras callbacks run too
    for epoch, logs in seen:
        assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(logs)
        assert all(type(value) is float for value in logs.values())
        assert logs["val_accuracy"] == result.history["val_accuracy"][epoch]


def test_an_exception_from_on_epoch_end_propagates_unchanged(train_set, val_set) -> None:
    class Pruned(Exception):
        pass

    raised = Pruned("stop this trial")

    def prune_after_first_epoch(epoch: int, logs: dict[str, float]) -> None:
        raise raised

    with pytest.raises(Pruned) as caught:
        run(train_set, val_set, on_epoch_end=prune_after_first_epoch)
    assert caught.value is raised


@pytest.mark.parametrize(
    ("config", "class_weight"),
    [
        ({"class_weighting": True}, None),
        ({"class_weighting": True}, {0: 2.0, 1: 0.5, 6: 3}),
        ({"label_smoothing": 0.1}, None),
    ],
    ids=["balanced-weights", "explicit-weights-override", "label-smoothing"],
)
def test_class_weights_and_label_smoothing_are_accepted(train_set, val_set, config: dict, class_weight) -> None:
    result = run(train_set, val_set, config=config, class_weight=class_weight)

    assert result.outcome is TrainOutcome.COMPLETED
    assert all(math.isfinite(loss) for loss in result.history["loss"])
    assert result.model.loss.label_smoothing == config.get("label_smoothing", 0.0)


def test_class_weights_weigh_the_loss(train_set, val_set) -> None:
    """All-zero class weights zero every sample's loss, so the weights do reach the loss."""
    result = run(train_set, val_set, config={"epochs": 1}, class_weight=dict.fromkeys(range(7), 0.0))
    assert result.history["loss"] == [0.0]
    assert result.history["val_loss"][0] > 0.0  # validation is never weighted


def test_mixed_precision_layers_get_loss_scaling_and_a_working_plateau(train_set, val_set) -> None:
    """Per-layer mixed_float16 (as build_model sets it) still trains with loss scaling; LR changes reach it."""
    model = tiny_model(dtype="mixed_float16")
    config = {"learning_rate": 1e-9, "min_learning_rate": 0, "plateau_patience": 1, "epochs": 3}
    result = run(train_set, val_set, model=model, config={**config, "early_stopping_patience": None})

    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert result.outcome is TrainOutcome.COMPLETED
    assert result.history["learning_rate"] == pytest.approx([1e-9, 1e-9, 0.5e-9])


@pytest.mark.integration
def test_trains_a_built_model_with_its_augmentation_layer(train_set, val_set) -> None:
    architecture = ArchitectureConfig.from_dict({"blocks": [{"filters": 4, "n_convs": 1}], "head": "gap", "dense": []})
    augmentation = build_augmentation(AugmentationConfig(horizontal_flip=True, rotation=10, crop_padding=2), seed=0)
    result = run(train_set, val_set, model=build_model(architecture, augmentation=augmentation))

    assert result.outcome is TrainOutcome.COMPLETED
    assert result.n_epochs == 2


def test_trains_without_validation(train_set) -> None:
    keras.utils.set_random_seed(0)
    result = train(tiny_model(), *train_set, validation=None, config=TrainConfig(**FAST))

    assert result.outcome is TrainOutcome.COMPLETED
    assert result.best_epoch is None and result.best_val_accuracy is None
    assert "val_accuracy" not in result.history


def test_falls_back_to_a_py_dataset_without_tensorflow(train_set, val_set, monkeypatch) -> None:
    monkeypatch.setattr(_pipeline, "tensorflow_available", lambda: False)
    result = run(train_set, val_set, config={"class_weighting": True})

    assert result.outcome is TrainOutcome.COMPLETED
    assert result.n_epochs == 2 and result.best_val_accuracy is not None


def test_verbose_auto_is_quiet_when_stdout_is_not_a_terminal(train_set, val_set, capsys) -> None:
    run(train_set, val_set, config={"epochs": 1}, verbose="auto")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (
            np.zeros((4, 48, 48, 1), np.float32),
            np.zeros(4, int),
            r"x_train must be a uint8 numpy array of shape \(N, 48, 48, 1\) \(got float32 \(4, 48, 48, 1\)\); "
            r"pass the raw 0\.\.255 images",
        ),
        (np.zeros((4, 48, 48), np.uint8), np.zeros(4, int), r"x_train must be a uint8 numpy array .*\(4, 48, 48\)"),
        (np.zeros((0, 48, 48, 1), np.uint8), np.zeros(0, int), r"x_train must hold at least one image \(got 0\)"),
        (
            np.zeros((4, 48, 48, 1), np.uint8),
            np.zeros(3, int),
            r"y_train must be an integer numpy array of shape \(4,\).*\(got int64 \(3,\)\)",
        ),
        (np.zeros((4, 48, 48, 1), np.uint8), np.array([0, 1, 2, 7]), r"y_train must hold class indices 0\.\.6 "),
    ],
)
def test_bad_training_data_is_rejected(images, labels, message: str) -> None:
    with pytest.raises(DataError, match=message):
        train(tiny_model(), images, labels, validation=None, config=TrainConfig())


def test_bad_validation_data_is_rejected(train_set) -> None:
    bad_val = (train_set[0][:4], np.array([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(DataError, match=r"validation\[1\] must be an integer numpy array"):
        train(tiny_model(), *train_set, validation=bad_val, config=TrainConfig())


def test_a_config_dict_instead_of_a_train_config_is_rejected(train_set) -> None:
    message = r"config must be a TrainConfig \(got dict\); build one with TrainConfig\.from_dict"
    with pytest.raises(ConfigError, match=message):
        train(tiny_model(), *train_set, validation=None, config={"epochs": 1})  # type: ignore[arg-type]


def test_bad_verbose_is_rejected(train_set) -> None:
    with pytest.raises(ConfigError, match=r"verbose must be 0, 1, 2 or 'auto' \(got 'loud'\)"):
        train(tiny_model(), *train_set, validation=None, config=TrainConfig(), verbose="loud")


def test_initial_epoch_and_weights_continue_an_earlier_run(train_set, val_set, tmp_path) -> None:
    first = run(train_set, val_set, config={"epochs": 1, "early_stopping_patience": None})
    weights = tmp_path / "first.weights.h5"
    first.model.save_weights(weights)
    epochs_seen: list[int] = []
    model = tiny_model()
    continued = run(
        train_set, val_set, model=model, initial_epoch=1, initial_weights=weights,
        on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch),
        config={"epochs": 3, "early_stopping_patience": None, "schedule": "cosine"},
    )

    assert epochs_seen == [1, 2]  # absolute epoch numbers, from initial_epoch on
    assert continued.n_epochs == 2 and continued.best_epoch in (1, 2)
    # Started from the earlier run's weights, not from a fresh initialisation.
    assert continued.history["loss"][0] < first.history["loss"][0]
    # The per-step cosine schedule resumed where a 3-epoch run is after its second epoch.
    fresh = run(train_set, val_set, config={"epochs": 3, "early_stopping_patience": None, "schedule": "cosine"})
    assert continued.history["learning_rate"] == pytest.approx(fresh.history["learning_rate"][1:])


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # Keras warns before refusing other weights
def test_bad_initial_epoch_or_weights_are_rejected(train_set, val_set, tmp_path) -> None:
    rule = r"initial_epoch must be an integer in \[0, epochs\) \(initial_epoch=2, epochs=2\)"
    with pytest.raises(ConfigError, match=rule):
        run(train_set, val_set, initial_epoch=2)
    with pytest.raises(ConfigError, match="initial_weights .*missing.weights.h5' does not exist"):
        run(train_set, val_set, initial_weights=tmp_path / "missing.weights.h5")
    other = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7)])
    other.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ConfigError, match="do not fit this model .*same architecture"):
        run(train_set, val_set, initial_weights=tmp_path / "other.weights.h5")
