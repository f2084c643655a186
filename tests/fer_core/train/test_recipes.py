"""Training recipes: one-cycle schedule, mixup/CutMix soft labels, weight EMA, their validation, a space using them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from fer_core.errors import ConfigError
from fer_core.model import ArchitectureConfig, build_model
from fer_core.train import AugmentationConfig, TrainConfig, TrainOutcome, build_augmentation, train
from fer_core.train._mixing import Mixing
from fer_core.train._optim import plan_learning_rate
from fer_core.train._pipeline import make_tf_dataset
from spaces import RandomSuggester, load_space
from tests.fer_core.train.test_trainer import brightness_task, tiny_model

FAST = {"batch_size": 16, "learning_rate": 0.03, "epochs": 2, "early_stopping_patience": None}


def _curve(config: TrainConfig, steps_per_epoch: int) -> np.ndarray:
    schedule = plan_learning_rate(config, steps_per_epoch, has_validation=True).learning_rate
    total = config.epochs * steps_per_epoch
    return np.array([float(schedule(step)) for step in range(total + 1)])


def test_one_cycle_rises_to_the_peak_where_configured_then_falls_to_the_floor() -> None:
    config = TrainConfig(schedule="onecycle", learning_rate=0.1, min_learning_rate=1e-4, epochs=10, cycle_peak=0.25)
    curve = _curve(config, steps_per_epoch=8)  # 80 steps: the peak is at step 20
    assert int(np.argmax(curve)) == 20
    assert curve[20] == pytest.approx(0.1)
    assert curve[0] == pytest.approx(0.1 / 25)
    assert curve[-1] == pytest.approx(1e-4)
    assert np.all(np.diff(curve[:21]) > 0) and np.all(np.diff(curve[20:]) < 0)


def test_cosine_reaches_its_floor_at_the_end_of_training() -> None:
    config = TrainConfig(schedule="cosine", learning_rate=0.1, min_learning_rate=1e-3, epochs=5)
    curve = _curve(config, steps_per_epoch=4)
    assert curve[0] == pytest.approx(0.1) and curve[-1] == pytest.approx(1e-3)
    assert np.all(np.diff(curve) <= 0)


def test_random_crop_with_padding_keeps_the_shape_and_moves_the_content() -> None:
    image = np.zeros((1, 48, 48, 1), np.float32)
    image[0, 20:28, 20:28, 0] = 1.0
    layer = build_augmentation(AugmentationConfig(crop_padding=4), seed=3)
    moved = [np.asarray(layer(image, training=True)) for _ in range(8)]
    assert all(batch.shape == image.shape for batch in moved)
    assert any(not np.array_equal(batch, image) for batch in moved)
    assert all(batch.sum() == pytest.approx(image.sum()) for batch in moved)  # the square moved, not cut


def _class_images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image per class, each a constant level, so a mixed image's mean tells its mix of classes."""
    labels = np.arange(7)
    levels = (labels * 30 + 20).astype(np.float64)
    images = np.repeat(levels, 48 * 48).reshape(7, 48, 48, 1).astype(np.uint8)
    return images, labels, levels


@pytest.mark.parametrize("mixing", [Mixing(mixup_alpha=0.4), Mixing(cutmix_alpha=1.0), Mixing(0.4, 1.0)])
def test_mixed_batches_have_convex_label_mixes_that_match_their_pixels(mixing: Mixing) -> None:
    images, labels, levels = _class_images()
    class_weights = np.linspace(0.5, 2.0, 7).astype(np.float32)
    batches = make_tf_dataset(
        images, labels, batch_size=7, shuffle=True, seed=0, class_weights=class_weights, mixing=mixing
    )
    soft_rows = 0
    for _ in range(6):
        for x, y, weights in batches:
            x, y, weights = np.asarray(x), np.asarray(y), np.asarray(weights)
            assert x.dtype == np.uint8 and x.shape == images.shape
            assert np.all(y >= 0) and np.allclose(y.sum(axis=1), 1.0)
            assert np.all((y > 1e-6).sum(axis=1) <= 2)  # each image mixes with one partner at most
            np.testing.assert_allclose(x.reshape(7, -1).mean(axis=1), y @ levels, atol=0.51)
            np.testing.assert_allclose(weights, y @ class_weights, rtol=1e-5)
            soft_rows += int(np.sum(y.max(axis=1) < 1 - 1e-6))
    assert soft_rows > 0


def test_mixing_is_reproducible_for_a_seed_and_changes_every_epoch() -> None:
    images, labels, _ = _class_images()

    def two_epochs() -> list[np.ndarray]:
        batches = make_tf_dataset(images, labels, batch_size=7, shuffle=False, seed=5, mixing=Mixing(0.4, 1.0))
        return [np.asarray(y) for _ in range(2) for _, y in batches]

    first, second = two_epochs(), two_epochs()
    for one, other in zip(first, second, strict=True):
        np.testing.assert_array_equal(one, other)
    assert not np.array_equal(first[0], first[1])


def test_training_with_mixup_and_cutmix_runs_an_epoch() -> None:
    train_set, val_set = brightness_task(64, seed=0), brightness_task(32, seed=1)
    config = TrainConfig.from_dict({**FAST, "epochs": 1, "mixup_alpha": 0.4, "cutmix_alpha": 1.0})
    result = train(tiny_model(), *train_set, validation=val_set, config=config, verbose=0)
    assert result.outcome is TrainOutcome.COMPLETED and result.n_epochs == 1
    assert np.isfinite(result.history["loss"][0]) and np.isfinite(result.history["val_accuracy"][0])


class _WeightSpy(keras.callbacks.Callback):
    """Records the weights validation scores and the raw weights training ends each epoch with."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[list[np.ndarray]] = []
        self.validated: list[tuple[list[np.ndarray], list[np.ndarray]]] = []

    def _weights(self) -> list[np.ndarray]:
        return [keras.ops.convert_to_numpy(variable) for variable in self.model.trainable_variables]

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._last_raw = self._weights()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.validated:  # the raw weights are back before the next epoch trains
            for now, before in zip(self._weights(), self.raw[-1], strict=True):
                np.testing.assert_array_equal(now, before)

    def on_test_begin(self, logs: dict | None = None) -> None:
        self.raw.append(self._last_raw)
        averages = self.model.optimizer._model_variables_moving_average
        self.validated.append((self._weights(), [keras.ops.convert_to_numpy(average) for average in averages]))


def test_ema_weights_are_the_ones_validated_and_returned() -> None:
    train_set, val_set = brightness_task(64, seed=0), brightness_task(32, seed=1)
    spy = _WeightSpy()
    config = TrainConfig.from_dict({**FAST, "epochs": 3, "ema_momentum": 0.9})
    result = train(tiny_model(), *train_set, validation=val_set, config=config, verbose=0, callbacks=[spy])
    assert len(spy.validated) == 3
    for (validated, averages), raw in zip(spy.validated, spy.raw, strict=True):
        for weights, average in zip(validated, averages, strict=True):
            np.testing.assert_array_equal(weights, average)
        assert any(not np.allclose(weights, raw_weights) for weights, raw_weights in zip(validated, raw, strict=True))
    final = [keras.ops.convert_to_numpy(variable) for variable in result.model.trainable_variables]
    for weights, average in zip(final, spy.validated[-1][1], strict=True):
        np.testing.assert_array_equal(weights, average)


def test_ema_of_a_resumed_run_starts_at_its_initial_weights(tmp_path: Path) -> None:
    train_set = brightness_task(64, seed=0)
    model = tiny_model()
    start = tmp_path / "start.weights.h5"
    model.save_weights(start)
    before = np.concatenate([np.ravel(keras.ops.convert_to_numpy(v)) for v in model.trainable_variables])
    config = TrainConfig.from_dict({**FAST, "learning_rate": 1e-4, "ema_momentum": 0.99})
    result = train(model, *train_set, validation=None, config=config, initial_epoch=1, initial_weights=start)
    after = np.concatenate([np.ravel(keras.ops.convert_to_numpy(v)) for v in result.model.trainable_variables])
    # An average started at zeros would have shrunk the weights ~25-fold after 4 steps at 0.99.
    assert np.linalg.norm(after) == pytest.approx(np.linalg.norm(before), rel=0.05)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"cycle_peak": 1.0}, r"training\.cycle_peak must be in \(0, 1\) \(got 1\)"),
        ({"cycle_peak": 0}, r"training\.cycle_peak must be in \(0, 1\) \(got 0\)"),
        ({"ema_momentum": 1.0}, r"training\.ema_momentum must be in \[0, 1\) \(got 1\)"),
        ({"ema_momentum": "high"}, r"training\.ema_momentum must be a finite number .*'high'"),
        ({"mixup_alpha": -0.1}, r"training\.mixup_alpha must be in \[0, 10\] \(got -0\.1\)"),
        ({"cutmix_alpha": 11}, r"training\.cutmix_alpha must be in \[0, 10\] \(got 11\)"),
        ({"schedule": "cyclic"}, r"training\.schedule .*onecycle"),
    ],
)
def test_bad_recipe_values_fail_with_the_rule_and_the_value(override: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(override)


def test_defaults_keep_the_recipes_off() -> None:
    config = TrainConfig()
    assert (config.ema_momentum, config.mixup_alpha, config.cutmix_alpha) == (0.0, 0.0, 0.0)
    assert config.schedule == "plateau"


def test_a_space_with_the_recipes_samples_and_trains_one_tiny_trial(tmp_path: Path) -> None:
    path = tmp_path / "recipes.yaml"
    path.write_text(
        textwrap.dedent(
            """
            architecture:
              n_blocks: 1
              blocks:
                filters: 4
            training:
              batch_size: 16
              epochs: 2
              schedule: {choice: [cosine, onecycle]}
              cycle_peak: {float: [0.2, 0.4], when: {training.schedule: onecycle}}
              ema_momentum: {choice: [0.0, 0.9]}
              mixup_alpha: {float: [0.1, 0.4]}
              cutmix_alpha: {choice: [0.0, 1.0]}
            augmentation:
              crop_padding: {int: [2, 4]}
            """
        ),
        encoding="utf-8",
    )
    space = load_space(path)
    suggester = RandomSuggester(0)
    candidate = space.sample(suggester)
    assert {"training.schedule", "training.ema_momentum", "training.mixup_alpha"} <= set(suggester.params)
    config = TrainConfig.from_dict(candidate["training"])
    augmentation = build_augmentation(AugmentationConfig.from_dict(candidate["augmentation"]), seed=0)
    model = build_model(ArchitectureConfig.from_dict(candidate["architecture"]), augmentation=augmentation)
    train_set, val_set = brightness_task(32, seed=0), brightness_task(16, seed=1)
    result = train(model, *train_set, validation=val_set, config=config, verbose=0)
    assert result.outcome is TrainOutcome.COMPLETED and result.n_epochs == 2
