"""Benchmark: the product's trainer vs plain `model.fit` on a compact candidate, against the machine's matmul speed.

One run reports, on the same images and at the same batch size:

- images/s of a compact candidate (default: 3 blocks of two 3x3 'same' convs with batch norm per
  conv, 12-30-48 filters, max pooling, relu, global-average-pooling head: 14.6 M MACs per image)
  trained by `fer_core.train.train` (uint8 tf.data pipeline, `default_dtype_policy()`), and by
  plain `model.fit` on float32 numpy arrays with one-hot labels and a float32 model (what a user
  writes without the product). Both start from the same initial weights. The timed images are split
  into rounds that alternate AB, BA, AB, ... so that load from other processes hits both alike.
  Within every call the first ``--skip-batches`` batches are not timed (graph tracing, pipeline
  start); the rest are timed batch end to batch end, in wall-clock and in CPU seconds of this
  process (all threads; less sensitive to other processes).
- the machine's own speed: the best of five 2048x2048 TensorFlow matmuls in float32 (and in the
  trainer's compute dtype when that is not float32, e.g. bfloat16 on CPUs with native bf16).
- achieved GFLOP/s = images/s x 6 x MACs per image. Convention: a forward pass costs 2 FLOPs per
  multiply-accumulate, the backward pass about twice the forward one (gradients with respect to
  activations and to weights), so a training step costs 6 x MACs FLOPs per image. MACs are those
  of the convs and dense layers (`fer_core.model.count_macs`); batch norm, activations, pooling and
  the optimizer update are not counted, so the figure slightly understates the work done.

``fraction_of_matmul`` = trainer GFLOP/s / float32 matmul GFLOP/s; ``fraction_of_matmul_same_dtype``
divides by the matmul in the trainer's own compute dtype when it differs from float32.

With ``--curves N``: both variants train N epochs from the same initial weights and seed on a fixed
subset of the FER2013 training rows (``--curves-images``), validated on PublicTest after every
epoch; validation accuracy and training loss per epoch are printed, written to the JSON and, with
``--curves-html PATH``, drawn as a plotly figure.

Targets (issue 21, item 1): trainer_vs_fit >= 2.5 and fraction_of_matmul >= 0.40; exit status 1
when one is missed, 2 on bad arguments.

Usage:
    python bench/throughput.py [--n-images 6144] [--rounds 6] [--batch-size 64] [--skip-batches 2]
        [--warmup-batches 3] [--curves 6 --curves-images 4096 --curves-html curves.html] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _machine import cpu_model, load_average, matmul_gflops  # noqa: E402

from fer_core.data import FERDataset, Usage, load_csv, make_demo_dataset  # noqa: E402
from fer_core.emotions import N_CLASSES  # noqa: E402
from fer_core.model import ArchitectureConfig, ConvBlockConfig, build_model, count_macs, count_params  # noqa: E402
from fer_core.train import TrainConfig, default_dtype_policy, train  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FER2013 = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
DEFAULT_FILTERS = (12, 30, 48)
FLOPS_PER_MAC_TRAINING = 6
SPEED_TARGET = 2.5
FRACTION_TARGET = 0.40
SEED = 0
TRAINER = "fer_core.train.train"
FIT = "model.fit (float32)"


# --- data and model ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchData:
    """uint8 training images and labels, validation (PublicTest) ones, and where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    source: str


def load_data(path: Path, n_train: int) -> BenchData:
    """FER2013 Training and PublicTest rows from ``path``; else the demo set, with a printed note."""
    if path.is_file():
        dataset, source = load_csv(path), f"FER2013 ({path})"
    else:
        n_per_class = math.ceil(n_train / (0.8 * N_CLASSES)) + 1
        print(f"NOTE: FER2013 not found at {path} (pass --csv or set FER2013_CSV); using fer_core's synthetic "
              f"demo set ({n_per_class} faces per class): speed figures hold, learning curves do not transfer",
              flush=True)
        dataset = make_demo_dataset(n_per_class, seed=SEED)
        source = dataset.source
    return _split(dataset, source)


def _split(dataset: FERDataset, source: str) -> BenchData:
    """Training rows (all rows when there are no usage codes) and validation rows (PublicTest)."""
    if dataset.usage is None:
        train_rows = val_rows = np.arange(len(dataset))
    else:
        train_rows = np.flatnonzero(dataset.usage == Usage.TRAIN)
        val_rows = np.flatnonzero(dataset.usage == Usage.VALIDATION)
    return BenchData(dataset.images[train_rows], dataset.labels[train_rows], dataset.images[val_rows],
                     dataset.labels[val_rows], source)


def compact_candidate(filters: Sequence[int]) -> ArchitectureConfig:
    """Blocks of two 3x3 'same' convs with batch norm per conv and max pooling, relu, GAP head."""
    blocks = tuple(ConvBlockConfig(filters=n_filters, n_convs=2, kernel_size=3, padding="same", pooling="max")
                   for n_filters in filters)
    return ArchitectureConfig(blocks=blocks, activation="relu", batch_norm="conv", head="gap")


def model_pair(config: ArchitectureConfig, policy: str) -> tuple[keras.Model, keras.Model]:
    """The trainer's model (``policy``) and the plain float32 one, with the same initial weights."""
    keras.utils.set_random_seed(SEED)
    ours = build_model(config, dtype_policy=policy)
    plain = build_model(config, dtype_policy="float32")
    plain.set_weights([np.asarray(weights, dtype=np.float32) for weights in ours.get_weights()])
    return ours, plain


def compile_plain(model: keras.Model) -> None:
    """The compile a user writes: Adam at the trainer's default rate, cross-entropy on one-hot labels."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=TrainConfig().learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


def trainer_config(batch_size: int, epochs: int) -> TrainConfig:
    """Constant learning rate, no early stopping: only the trainer's own machinery differs from `fit`."""
    return TrainConfig(batch_size=batch_size, epochs=epochs, schedule="none", early_stopping_patience=None,
                       seed=SEED)


def as_float_inputs(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plain baseline's inputs: float32 images (0..255) and float32 one-hot labels."""
    return images.astype(np.float32), np.eye(N_CLASSES, dtype=np.float32)[labels]


# --- timing -----------------------------------------------------------------------------------------
@dataclass
class Timing:
    """Timed batches of one variant, summed over its calls."""

    n_images: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.n_images / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def images_per_cpu_s(self) -> float:
        return self.n_images / self.cpu_s if self.cpu_s > 0 else float("nan")


class BatchClock(keras.callbacks.Callback):
    """Adds each call's batch-end-to-batch-end intervals after its first ``n_skip`` batches to a `Timing`."""

    def __init__(self, timing: Timing, batch_size: int, n_skip: int) -> None:
        super().__init__()
        self._timing = timing
        self._batch_size = batch_size
        self._n_skip = n_skip
        self._last: tuple[float, float] | None = None

    def on_train_begin(self, logs: Mapping[str, object] | None = None) -> None:
        self._last = None

    def on_train_batch_end(self, batch: int, logs: Mapping[str, object] | None = None) -> None:
        if batch + 1 < self._n_skip:
            return
        now = (time.perf_counter(), time.process_time())
        if self._last is not None:
            self._timing.n_images += self._batch_size
            self._timing.wall_s += now[0] - self._last[0]
            self._timing.cpu_s += now[1] - self._last[1]
        self._last = now


Runner = Callable[[slice, list[keras.callbacks.Callback]], None]


def runners(ours: keras.Model, plain: keras.Model, images: np.ndarray, labels: np.ndarray,
            batch_size: int) -> tuple[Runner, Runner]:
    """One epoch over the given rows: by the trainer (uint8 images), by plain `fit` (float32 copies)."""
    images_float, one_hot = as_float_inputs(images, labels)
    compile_plain(plain)

    def run_ours(rows: slice, callbacks: list[keras.callbacks.Callback]) -> None:
        train(ours, images[rows], labels[rows], validation=None, config=trainer_config(batch_size, 1), verbose=0,
              callbacks=callbacks)

    def run_plain(rows: slice, callbacks: list[keras.callbacks.Callback]) -> None:
        plain.fit(images_float[rows], one_hot[rows], batch_size=batch_size, epochs=1, verbose=0,
                  callbacks=callbacks)

    return run_ours, run_plain


def time_rounds(run_ours: Runner, run_plain: Runner, args: argparse.Namespace, n_per_round: int,
                machine_note: str) -> tuple[Timing, Timing]:
    """Untimed warm-up of each, then ``args.rounds`` rounds alternating AB, BA, ... over fresh rows."""
    n_warmup = args.warmup_batches * args.batch_size
    run_ours(slice(0, n_warmup), [])
    run_plain(slice(0, n_warmup), [])
    ours, plain = Timing(), Timing()
    clocks = (BatchClock(ours, args.batch_size, args.skip_batches), BatchClock(plain, args.batch_size,
                                                                               args.skip_batches))
    for index in range(args.rounds):
        rows = slice(n_warmup + index * n_per_round, n_warmup + (index + 1) * n_per_round)
        order = [(run_ours, clocks[0]), (run_plain, clocks[1])]
        for run, clock in order if index % 2 == 0 else reversed(order):
            run(rows, [clock])
        print(f"round {index + 1}/{args.rounds} ({'AB' if index % 2 == 0 else 'BA'}): trainer "
              f"{ours.images_per_s:.1f} img/s, fit {plain.images_per_s:.1f} img/s (cumulative) {machine_note}",
              flush=True)
    return ours, plain


# --- learning curves --------------------------------------------------------------------------------
@dataclass
class Curve:
    """Per-epoch training loss, validation accuracy and wall-clock seconds of one variant."""

    loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_s: list[float] = field(default_factory=list)


class EpochClock(keras.callbacks.Callback):
    """Records every epoch's wall-clock seconds (its validation included) into a `Curve`."""

    def __init__(self, curve: Curve) -> None:
        super().__init__()
        self._curve = curve
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, object] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, object] | None = None) -> None:
        self._curve.epoch_s.append(time.perf_counter() - self._started)


def learning_curves(config: ArchitectureConfig, policy: str, data: BenchData, args: argparse.Namespace
                    ) -> dict[str, Curve]:
    """Both variants for ``args.curves`` epochs on the first ``args.curves_images`` training rows."""
    x_train, y_train = data.x_train[: args.curves_images], data.y_train[: args.curves_images]
    ours_model, plain_model = model_pair(config, policy)
    ours, plain = Curve(), Curve()
    result = train(ours_model, x_train, y_train, validation=(data.x_val, data.y_val),
                   config=trainer_config(args.batch_size, args.curves), verbose=0, callbacks=[EpochClock(ours)])
    ours.loss, ours.val_accuracy = list(result.history["loss"]), list(result.history["val_accuracy"])
    keras.utils.set_random_seed(SEED)
    compile_plain(plain_model)
    history = plain_model.fit(*as_float_inputs(x_train, y_train), batch_size=args.batch_size, epochs=args.curves,
                              validation_data=as_float_inputs(data.x_val, data.y_val), verbose=0,
                              callbacks=[EpochClock(plain)])
    plain.loss = [float(value) for value in history.history["loss"]]
    plain.val_accuracy = [float(value) for value in history.history["val_accuracy"]]
    return {TRAINER: ours, FIT: plain}


def print_curves(curves: Mapping[str, Curve], machine_note: str) -> None:
    """Per epoch: training loss, validation accuracy and seconds of each variant."""
    print(f"\nlearning curves (validation: PublicTest for FER2013) {machine_note}")
    short = {TRAINER: "trainer", FIT: "fit"}
    print(f"{'epoch':>5}" + "".join(f"{short[name] + ' ' + column:>16}" for name in curves
                                    for column in ("loss", "val acc", "s")))
    n_epochs = max(len(curve.loss) for curve in curves.values())
    for epoch in range(n_epochs):
        cells = []
        for curve in curves.values():
            for values, digits in ((curve.loss, 4), (curve.val_accuracy, 4), (curve.epoch_s, 1)):
                cells.append(f"{values[epoch]:>16.{digits}f}" if epoch < len(values) else f"{'-':>16}")
        print(f"{epoch + 1:>5}" + "".join(cells))


def write_curves_html(curves: Mapping[str, Curve], path: Path, title: str) -> None:
    """Plotly figure: validation accuracy and training loss per epoch, and accuracy per wall-clock second."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=3, subplot_titles=(
        "validation accuracy (PublicTest) per epoch", "training loss per epoch",
        "validation accuracy per training second"))
    for (name, curve), colour in zip(curves.items(), ("#1f77b4", "#d62728")):
        epochs = list(range(1, len(curve.loss) + 1))
        seconds = np.cumsum(curve.epoch_s).tolist()
        style = {"line": {"color": colour}, "legendgroup": name}
        figure.add_trace(go.Scatter(x=epochs, y=curve.val_accuracy, name=name, mode="lines+markers", **style),
                         row=1, col=1)
        figure.add_trace(go.Scatter(x=epochs, y=curve.loss, name=name, mode="lines+markers", showlegend=False,
                                    **style), row=1, col=2)
        figure.add_trace(go.Scatter(x=seconds, y=curve.val_accuracy, name=name, mode="lines+markers",
                                    showlegend=False, **style), row=1, col=3)
    for col, label in ((1, "epoch"), (2, "epoch"), (3, "seconds (validation included)")):
        figure.update_xaxes(title_text=label, row=1, col=col)
    figure.update_layout(title={"text": title, "font": {"size": 13}}, height=430, width=1300)
    figure.write_html(path, include_plotlyjs="cdn", full_html=True)


# --- report -----------------------------------------------------------------------------------------
def summary(ours: Timing, plain: Timing, macs: int, matmul_f32: float, matmul_same: float | None
            ) -> dict[str, float | None]:
    """The ratios of issue 21 item 1 (``None`` for the same-dtype fraction when the trainer computes in float32)."""
    trainer_gflops = ours.images_per_s * FLOPS_PER_MAC_TRAINING * macs / 1e9
    fit_gflops = plain.images_per_s * FLOPS_PER_MAC_TRAINING * macs / 1e9
    return {
        "trainer_images_per_s": ours.images_per_s,
        "fit_images_per_s": plain.images_per_s,
        "trainer_vs_fit": ours.images_per_s / plain.images_per_s,
        "trainer_vs_fit_cpu_time": ours.images_per_cpu_s / plain.images_per_cpu_s,
        "trainer_gflops": trainer_gflops,
        "fit_gflops": fit_gflops,
        "fraction_of_matmul": trainer_gflops / matmul_f32,
        "fit_fraction_of_matmul": fit_gflops / matmul_f32,
        "fraction_of_matmul_same_dtype": None if matmul_same is None else trainer_gflops / matmul_same,
    }


def print_report(ours: Timing, plain: Timing, figures: Mapping[str, Any], machine_note: str) -> bool:
    """The table, the ratios and PASS/MISS per target; True when both targets are met."""
    print(f"\nthroughput at batch {figures['batch_size']} {machine_note}")
    print(f"{'variant':<26}{'dtype policy':>15}{'images/s':>10}{'img/CPU-s':>11}{'GFLOP/s':>9}"
          f"{'of matmul':>11}{'timed img':>11}{'timed s':>9}")
    rows = ((TRAINER, figures["dtype_policy"], ours, figures["trainer_gflops"], figures["fraction_of_matmul"]),
            (FIT, "float32", plain, figures["fit_gflops"], figures["fit_fraction_of_matmul"]))
    for name, policy, timing, gflops, fraction in rows:
        print(f"{name:<26}{policy:>15}{timing.images_per_s:>10.1f}{timing.images_per_cpu_s:>11.1f}"
              f"{gflops:>9.1f}{fraction:>11.1%}{timing.n_images:>11}{timing.wall_s:>9.1f}")
    if figures["fraction_of_matmul_same_dtype"] is not None:
        print(f"trainer vs the {figures['trainer_compute_dtype']} matmul "
              f"({figures['matmul_gflops_same_dtype']:.1f} GFLOP/s): {figures['fraction_of_matmul_same_dtype']:.1%}")
    speed_ok = figures["trainer_vs_fit"] >= SPEED_TARGET
    fraction_ok = figures["fraction_of_matmul"] >= FRACTION_TARGET
    print(f"trainer_vs_fit: {figures['trainer_vs_fit']:.2f}x wall clock ({figures['trainer_vs_fit_cpu_time']:.2f}x "
          f"per CPU-second, info); target >= {SPEED_TARGET}x: {'PASS' if speed_ok else 'MISS'}")
    print(f"fraction_of_matmul: {figures['fraction_of_matmul']:.1%} of the float32 matmul; "
          f"target >= {FRACTION_TARGET:.0%}: {'PASS' if fraction_ok else 'MISS'}")
    load = ", ".join(f"{value:.2f}" for value in load_average())
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs; "
          f"other processes skew wall-clock figures")
    return speed_ok and fraction_ok


def curves_json(curves: Mapping[str, Curve], n_train: int, n_val: int) -> dict[str, Any]:
    return {"n_train_images": n_train, "n_val_images": n_val,
            **{("trainer" if name == TRAINER else "fit"): asdict(curve) for name, curve in curves.items()}}


# --- command line -----------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Flags, checked together: each round must time at least one batch after the skipped ones."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("FER2013_CSV", DEFAULT_FER2013)),
                        help="FER2013 CSV (default: $FER2013_CSV or ../shared/data/fer2013/fer2013.csv.gz; "
                             "the synthetic demo set when absent)")
    parser.add_argument("--n-images", type=int, default=6144,
                        help="timed images per variant, all rounds (default: 6144)")
    parser.add_argument("--batch-size", type=int, default=64, help="(default: 64, the seed study's)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds per variant (default: 6)")
    parser.add_argument("--skip-batches", type=int, default=2, help="untimed first batches of every call (default: 2)")
    parser.add_argument("--warmup-batches", type=int, default=3, help="untimed batches per variant first (default: 3)")
    parser.add_argument("--filters", type=int, nargs="+", default=list(DEFAULT_FILTERS),
                        help="filters per block of the compact candidate (default: 12 30 48)")
    parser.add_argument("--curves", type=int, default=0, help="epochs of learning curves, 0 = none (default: 0)")
    parser.add_argument("--curves-images", type=int, default=4096,
                        help="training rows the curves train on (default: 4096)")
    parser.add_argument("--curves-html", type=Path, help="write the curves as a plotly HTML figure here")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    _check_args(parser, args)
    return args


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in ("n_images", "batch_size", "rounds", "warmup_batches", "curves_images"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1 (got {getattr(args, name)})")
    for name in ("skip_batches", "curves"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0 (got {getattr(args, name)})")
    if any(n_filters < 1 for n_filters in args.filters):
        parser.error(f"--filters must all be >= 1 (got {' '.join(map(str, args.filters))})")
    n_batches = args.n_images // args.rounds // args.batch_size
    if n_batches < args.skip_batches + 2:
        parser.error(
            f"--n-images / --rounds must hold at least --skip-batches + 2 = {args.skip_batches + 2} batches of "
            f"{args.batch_size} so each call times one interval (got {args.n_images} / {args.rounds} = "
            f"{n_batches} batches); raise --n-images or lower --rounds or --skip-batches"
        )
    if args.curves_html is not None and args.curves == 0:
        parser.error("--curves-html needs --curves N (N >= 1 epochs); add --curves 6, for example")
    for name in ("json", "curves_html"):
        path = getattr(args, name)
        if path is not None and not path.resolve().parent.is_dir():
            parser.error(f"--{name.replace('_', '-')}: the folder {path.resolve().parent} does not exist; create it")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    n_per_round = args.n_images // args.rounds // args.batch_size * args.batch_size
    n_needed = args.warmup_batches * args.batch_size + n_per_round * args.rounds
    data = load_data(args.csv, max(n_needed, args.curves_images))
    rows = np.arange(n_needed) % len(data.y_train)  # repeats rows only when the data set is smaller
    policy = default_dtype_policy()
    compute_dtype = keras.dtype_policies.get(policy).compute_dtype
    config = compact_candidate(args.filters)
    macs, cpu = count_macs(config), cpu_model()

    matmul_f32 = matmul_gflops("float32")
    matmul_same = None if compute_dtype == "float32" else matmul_gflops(compute_dtype)
    same_note = "" if matmul_same is None else f", {compute_dtype} {matmul_same:.1f}"
    machine_note = f"[{cpu}, {os.cpu_count()} CPUs; reference {matmul_f32:.1f} GFLOP/s float32 matmul{same_note}]"
    print(f"data: {data.source}; {args.rounds} rounds x {n_per_round} images per variant, batch {args.batch_size}; "
          f"candidate: filters {'-'.join(map(str, args.filters))}, {macs / 1e6:.2f} M MACs/image, "
          f"{count_params(config):,} parameters; trainer dtype policy {policy}; load average "
          f"{load_average()[0]:.2f} {machine_note}", flush=True)

    ours_model, plain_model = model_pair(config, policy)
    run_ours, run_plain = runners(ours_model, plain_model, data.x_train[rows], data.y_train[rows], args.batch_size)
    ours, plain = time_rounds(run_ours, run_plain, args, n_per_round, machine_note)
    figures: dict[str, Any] = {
        **summary(ours, plain, macs, matmul_f32, matmul_same),
        "matmul_gflops_f32": matmul_f32, "matmul_gflops_same_dtype": matmul_same,
        "dtype_policy": policy, "trainer_compute_dtype": compute_dtype, "cpu": cpu, "n_cpus": os.cpu_count(),
        "batch_size": args.batch_size, "macs_per_image": macs, "n_params": count_params(config),
        "filters": list(args.filters), "flops_per_mac_training": FLOPS_PER_MAC_TRAINING,
        "n_timed_images_per_variant": ours.n_images, "rounds": args.rounds, "data": data.source,
        "keras": keras.__version__,
    }
    if compute_dtype == "bfloat16":
        figures["matmul_gflops_bf16"] = matmul_same
    passed = print_report(ours, plain, figures, machine_note)

    if args.curves:
        curves = learning_curves(config, policy, data, args)
        print_curves(curves, machine_note)
        figures["curves"] = curves_json(curves, min(args.curves_images, len(data.y_train)), len(data.y_val))
        if args.curves_html is not None:
            title = (f"{TRAINER} ({policy}) vs plain model.fit (float32): compact {'-'.join(map(str, args.filters))}, "
                     f"batch {args.batch_size}, {figures['curves']['n_train_images']} training faces; {data.source}; "
                     f"{cpu}, reference {matmul_f32:.1f} GFLOP/s float32 matmul")
            write_curves_html(curves, args.curves_html, title)
            print(f"learning curves figure: {args.curves_html}")
    figures["matmul_gflops_f32_end"] = matmul_gflops("float32")
    figures["load_average_end"] = list(load_average())
    figures["targets"] = {"trainer_vs_fit": SPEED_TARGET, "fraction_of_matmul": FRACTION_TARGET}
    figures["passed"] = passed
    print(f"float32 matmul at the end: {figures['matmul_gflops_f32_end']:.1f} GFLOP/s (start: {matmul_f32:.1f})")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
