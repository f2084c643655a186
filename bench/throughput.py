"""Benchmark: `fer_core.train.train` (uint8 tf.data pipeline) vs plain `model.fit` on float32 arrays.

Both variants train the `seed` network on the same FER2013 images with the same batch size, after
a short warm-up each. The timed images are split into rounds that alternate between the variants
(AB, BA, AB, ...) so that load from other processes hits both alike. Every call is timed by the
same callback: batch-to-batch intervals after the call's first batch (which mostly measures graph
tracing), in wall-clock seconds and in CPU seconds of this process (all its threads, the input
pipeline's included; less sensitive to other processes than wall-clock time).

Input memory is the bytes of the arrays/tensors each variant builds to feed the model: uint8 images
+ int32 labels vs float32 images + float32 one-hot labels (the uint8 source array both are made from
is not counted).

Targets: wall-clock throughput ratio train/fit >= 1.0 and input-memory ratio <= 0.25; exit status 1
when one is missed.

Usage:
    python bench/throughput.py [--n-images 4096] [--batch-size 64] [--rounds 8] [--warmup-batches 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_core.data import Usage, load_csv  # noqa: E402
from fer_core.emotions import IMAGE_SHAPE, N_CLASSES  # noqa: E402
from fer_core.model import build_model, get_preset  # noqa: E402
from fer_core.train import TrainConfig, default_dtype_policy, train  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FER2013 = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
SPEED_TARGET = 1.0
MEMORY_TARGET = 0.25
SEED = 0


@dataclass
class Timing:
    """Timed batches of one variant, summed over its calls."""

    n_images: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.n_images / self.wall_s

    @property
    def images_per_cpu_s(self) -> float:
        return self.n_images / self.cpu_s


class BatchClock(keras.callbacks.Callback):
    """Adds each call's batch-to-batch intervals after its first batch to a `Timing`."""

    def __init__(self, timing: Timing, batch_size: int) -> None:
        super().__init__()
        self._timing = timing
        self._batch_size = batch_size
        self._last: tuple[float, float] | None = None

    def on_train_begin(self, logs: Mapping[str, object] | None = None) -> None:
        self._last = None

    def on_train_batch_end(self, batch: int, logs: Mapping[str, object] | None = None) -> None:
        now = (time.perf_counter(), time.process_time())
        if self._last is not None:
            self._timing.n_images += self._batch_size
            self._timing.wall_s += now[0] - self._last[0]
            self._timing.cpu_s += now[1] - self._last[1]
        self._last = now


def load_images(n_images: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The first ``n_images`` FER2013 training images ($FER2013_CSV or ../shared/...), else random ones."""
    path = Path(os.environ.get("FER2013_CSV", DEFAULT_FER2013))
    if not path.is_file():
        print(f"NOTICE: FER2013 not found at {path} (set FER2013_CSV); using random uint8 images", file=sys.stderr)
        rng = np.random.default_rng(SEED)
        images = rng.integers(0, 256, (n_images, *IMAGE_SHAPE), dtype=np.uint8)
        return images, rng.integers(0, N_CLASSES, n_images), "random uint8 images"
    dataset = load_csv(path)
    rows = np.arange(len(dataset)) if dataset.usage is None else np.flatnonzero(dataset.usage == Usage.TRAIN)
    rows = rows[:n_images]
    return dataset.images[rows], dataset.labels[rows], f"FER2013 ({path})"


def seed_network() -> keras.Model:
    keras.utils.set_random_seed(SEED)
    return build_model(get_preset("seed"), dtype_policy=default_dtype_policy())


def bench_config(batch_size: int) -> TrainConfig:
    """One epoch, constant learning rate, no early stopping: only the input path differs from `fit`."""
    return TrainConfig(batch_size=batch_size, epochs=1, schedule="none", early_stopping_patience=None, seed=SEED)


def compile_like_train(model: keras.Model, batch_size: int) -> None:
    """The compile that `train` does for `bench_config` (Adam, categorical cross-entropy, accuracy)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=bench_config(batch_size).learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=4096, help="timed images per variant (all rounds)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8, help="alternating timed rounds per variant")
    parser.add_argument("--warmup-batches", type=int, default=3, help="untimed batches per variant first")
    args = parser.parse_args()
    for name in ("n_images", "batch_size", "rounds", "warmup_batches"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1 (got {getattr(args, name)})")
    if args.n_images // args.rounds < 2 * args.batch_size:
        parser.error(
            f"--n-images / --rounds must be >= 2 batches ({2 * args.batch_size} images) so each round times "
            f"at least one batch (got {args.n_images} / {args.rounds}); raise --n-images or lower --rounds"
        )
    return args


def print_report(ours: Timing, plain: Timing, ours_bytes: int, plain_bytes: int) -> bool:
    """Print the table and ratios; True when both targets are met."""
    print(f"\n{'variant':<40}{'images/s':>10}{'img/CPU-s':>11}{'timed s':>9}{'input MiB':>11}")
    for name, timing, n_bytes in (
        ("fer_core.train.train (uint8, tf.data)", ours, ours_bytes),
        ("model.fit (float32 numpy, one-hot)", plain, plain_bytes),
    ):
        print(f"{name:<40}{timing.images_per_s:>10.1f}{timing.images_per_cpu_s:>11.1f}"
              f"{timing.wall_s:>9.1f}{n_bytes / 2**20:>11.2f}")
    speed_ratio = ours.images_per_s / plain.images_per_s
    memory_ratio = ours_bytes / plain_bytes
    speed_ok, memory_ok = speed_ratio >= SPEED_TARGET, memory_ratio <= MEMORY_TARGET
    print(f"\nthroughput ratio train/fit (wall clock): {speed_ratio:.3f}x (target >= {SPEED_TARGET}) "
          f"{'OK' if speed_ok else 'MISSED'}")
    print(f"throughput ratio train/fit (CPU time):   {ours.images_per_cpu_s / plain.images_per_cpu_s:.3f}x (info)")
    print(f"input memory ratio train/fit: {memory_ratio:.4f} (target <= {MEMORY_TARGET}) "
          f"{'OK' if memory_ok else 'MISSED'}")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{load:.2f}' for load in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs; other processes skew wall-clock figures")
    return speed_ok and memory_ok


def main() -> int:
    args = parse_args()
    n_per_round = (args.n_images // args.rounds) // args.batch_size * args.batch_size
    n_warmup = args.warmup_batches * args.batch_size
    images, labels, source = load_images(n_warmup + n_per_round * args.rounds)
    if len(images) < n_warmup + n_per_round * args.rounds:
        print(f"ERROR: only {len(images)} images available, need {n_warmup + n_per_round * args.rounds}",
              file=sys.stderr)
        return 2
    images_float = images.astype(np.float32)  # the plain-Keras baseline's copy
    one_hot = np.eye(N_CLASSES, dtype=np.float32)[labels]
    print(f"data: {source}; {args.rounds} rounds x {n_per_round} images per variant, batch {args.batch_size}, "
          f"dtype policy {default_dtype_policy()}, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    ours_model, plain_model = seed_network(), seed_network()
    ours, plain = Timing(), Timing()
    ours_clock, plain_clock = BatchClock(ours, args.batch_size), BatchClock(plain, args.batch_size)
    compile_like_train(plain_model, args.batch_size)

    def run_ours(rows: slice, clock: list[keras.callbacks.Callback]) -> None:
        train(ours_model, images[rows], labels[rows], validation=None, config=bench_config(args.batch_size),
              verbose=0, callbacks=clock)

    def run_plain(rows: slice, clock: list[keras.callbacks.Callback]) -> None:
        plain_model.fit(images_float[rows], one_hot[rows], batch_size=args.batch_size, epochs=1, verbose=0,
                        callbacks=clock)

    run_ours(slice(0, n_warmup), [])
    run_plain(slice(0, n_warmup), [])
    for round_index in range(args.rounds):
        rows = slice(n_warmup + round_index * n_per_round, n_warmup + (round_index + 1) * n_per_round)
        order = [(run_ours, ours_clock), (run_plain, plain_clock)]
        for run, clock in order if round_index % 2 == 0 else reversed(order):
            run(rows, [clock])
        print(f"round {round_index + 1}/{args.rounds}: train {ours.images_per_s:.1f} img/s, "
              f"fit {plain.images_per_s:.1f} img/s (cumulative)", flush=True)

    n_timed = n_per_round * args.rounds
    ours_bytes = images[:n_timed].nbytes + n_timed * np.dtype(np.int32).itemsize
    plain_bytes = images_float[:n_timed].nbytes + one_hot[:n_timed].nbytes
    return 0 if print_report(ours, plain, ours_bytes, plain_bytes) else 1


if __name__ == "__main__":
    sys.exit(main())
