"""Timing a model: median of repeats after a warm-up, repeats chosen to fit a small time budget."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fer_core.errors import ConfigError, FerError
from fer_core.model import build_model, get_preset
from fer_core.predict import keras_predict_fn, load_exported_model, measure_latency
from fer_core.predict._latency import MAX_REPEATS, MIN_REPEATS, N_WARMUP


def test_a_keras_model_is_timed_within_its_budget() -> None:
    model = build_model(get_preset("tiny"))
    started = time.perf_counter()
    latency = measure_latency(keras_predict_fn(model), budget_s=0.3)
    elapsed = time.perf_counter() - started
    assert latency.single_ms > 0 and latency.batch_ms > 0 and latency.batch_size == 64
    assert MIN_REPEATS <= latency.n_single <= MAX_REPEATS and MIN_REPEATS <= latency.n_batch <= MAX_REPEATS
    assert elapsed < 10  # the budget, the warm-up calls and one trace per batch shape
    assert "ms per face" in latency.describe()


def test_the_median_of_a_known_call_time_is_found() -> None:
    calls: list[int] = []

    def slow(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        time.sleep(0.02)
        return np.zeros((len(batch), 7), dtype=np.float32)

    latency = measure_latency(slow, batch_size=8, budget_s=0.05)
    # 20 ms per call and 25 ms of budget per shape: the minimum of repeats, each after the warm-up.
    assert latency.n_single == latency.n_batch == MIN_REPEATS
    assert calls == [1] * (N_WARMUP + MIN_REPEATS) + [8] * (N_WARMUP + MIN_REPEATS)
    assert 19 <= latency.single_ms < 60 and 19 <= latency.batch_ms < 60


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="batch_size must be >= 1"):
        measure_latency(lambda batch: batch, batch_size=0)
    with pytest.raises(ConfigError, match=r"budget_s must be > 0 seconds \(got 0\)"):
        measure_latency(lambda batch: batch, budget_s=0)


def test_an_exported_file_is_checked_before_loading(tmp_path) -> None:
    with pytest.raises(FerError, match=r"An exported model file ends in \.onnx or \.tflite"):
        load_exported_model(tmp_path / "model.keras")
    with pytest.raises(FileNotFoundError, match="No exported model at"):
        load_exported_model(tmp_path / "missing.onnx")
