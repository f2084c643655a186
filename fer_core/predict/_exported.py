"""An exported model file (ONNX, LiteRT ``.tflite``) run by its own runtime, usable where a Keras model is.

``load_exported_model(path)`` returns an ``ExportedModel``: it takes the same uint8 faces (N, 48, 48, 1) and
returns the same (N, 7) probabilities through ``predict_on_batch``, and shows the same ``inputs``/``outputs``
shapes, so ``EmotionPredictor``, ``predict_proba`` and ``measure_latency`` run it as they run a Keras model.
The runtimes are optional (``pip install -e ".[export]"``): a missing one is an error naming the extra.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import FerError

EXPORT_EXTRA = "export"
INSTALL_HINT = f'pip install -e ".[{EXPORT_EXTRA}]"'
MAX_MODEL_BYTES = 1024 * 1024 * 1024
"""Largest exported file loaded (1 GiB): a FER CNN is a few MB; anything bigger is not one of ours."""


class ExportRuntimeUnavailable(FerError):
    """The runtime of an exported format (onnxruntime, ai-edge-litert) is not installed."""


@dataclass(frozen=True)
class _Tensor:
    """The shape of a model input or output, as Keras shows it (``None`` for the batch)."""

    shape: tuple[int | None, ...]


class ExportedModel:
    """A model file run by its runtime, with the call and shapes of a Keras model.

    Args:
        path: The file.
        runtime: The runtime's name (``onnxruntime``, ``litert``).
        run: Maps a uint8 batch to its outputs.
    """

    def __init__(self, path: Path, runtime: str, run: Callable[[np.ndarray], np.ndarray]) -> None:
        self.path = path
        self.runtime = runtime
        self._run = run
        self.inputs = (_Tensor((None, *IMAGE_SHAPE)),)
        self.outputs = (_Tensor((None, N_CLASSES)),)
        self.name = path.stem

    def predict_on_batch(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, 7) float32 of uint8 faces (N, 48, 48, 1)."""
        batch = np.ascontiguousarray(images, dtype=np.uint8)
        return np.asarray(self._run(batch), dtype=np.float32)

    def predict(self, images: np.ndarray, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        """``predict_on_batch`` over slices of ``batch_size`` faces."""
        parts = [self.predict_on_batch(images[start : start + batch_size])
                 for start in range(0, len(images), batch_size)]
        return np.concatenate(parts) if parts else np.empty((0, N_CLASSES), dtype=np.float32)


EXPORTED_SUFFIXES = (".onnx", ".tflite")


def load_exported_model(path: str | os.PathLike[str]) -> ExportedModel:
    """Opens an ``.onnx`` file with ONNX Runtime or a ``.tflite`` file with the LiteRT interpreter.

    Raises:
        FileNotFoundError: No such file.
        FerError: Not an exported FER model (suffix, size, input or output shape).
        ExportRuntimeUnavailable: Its runtime is not installed.
    """
    file = Path(path)
    if file.suffix not in EXPORTED_SUFFIXES:
        raise FerError(f"An exported model file ends in {' or '.join(EXPORTED_SUFFIXES)} (got {str(file)!r})")
    if not file.is_file():
        raise FileNotFoundError(f"No exported model at {str(file)!r}; make one with `python -m search export`")
    size = file.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise FerError(f"{file} is {size:,} bytes, over the {MAX_MODEL_BYTES:,}-byte limit for an exported FER model")
    model = _open_onnx(file) if file.suffix == ".onnx" else _open_litert(file)
    _check_output(model)
    return model


def _open_onnx(file: Path) -> ExportedModel:
    ort = _runtime_module("onnxruntime", "onnxruntime", file)
    try:
        session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
        raise FerError(f"ONNX Runtime cannot load {file}: {error}") from None
    (model_input,) = session.get_inputs()
    if model_input.type != "tensor(uint8)" or tuple(model_input.shape[1:]) != IMAGE_SHAPE:
        raise FerError(f"{file} takes {model_input.type} {model_input.shape}; a FER model takes uint8 "
                       f"(N, {', '.join(map(str, IMAGE_SHAPE))}); export it with `python -m search export`")
    name = model_input.name

    def run(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {name: batch})[0]

    return ExportedModel(file, "onnxruntime", run)


def _open_litert(file: Path) -> ExportedModel:
    interpreter_module = _runtime_module("ai_edge_litert.interpreter", "ai-edge-litert", file)
    try:
        interpreter = interpreter_module.Interpreter(model_path=str(file))
    except Exception as error:  # noqa: BLE001 - the interpreter raises ValueError/RuntimeError for bad files
        raise FerError(f"The LiteRT interpreter cannot load {file}: {error}") from None
    (model_input,) = interpreter.get_input_details()
    if tuple(model_input["shape"][1:]) != IMAGE_SHAPE:
        raise FerError(f"{file} takes {tuple(model_input['shape'])}; a FER model takes (N, "
                       f"{', '.join(map(str, IMAGE_SHAPE))}); export it with `python -m search export`")
    return ExportedModel(file, "litert", _LiteRtRunner(interpreter))


class _LiteRtRunner:
    """Runs a LiteRT interpreter on batches of any size (resizing its input when the size changes)."""

    def __init__(self, interpreter: Any) -> None:
        self._interpreter = interpreter
        self._input = interpreter.get_input_details()[0]
        self._output_index = interpreter.get_output_details()[0]["index"]
        self._batch_size: int | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) != self._batch_size:
            self._interpreter.resize_tensor_input(self._input["index"], batch.shape, strict=False)
            self._interpreter.allocate_tensors()
            self._batch_size = len(batch)
        self._interpreter.set_tensor(self._input["index"], _quantized(batch, self._input))
        self._interpreter.invoke()
        output = self._interpreter.get_output_details()[0]
        return _dequantized(self._interpreter.get_tensor(self._output_index), output)


def _quantized(batch: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """``batch`` in the input's dtype (an int8 input is quantized with its scale and zero point)."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if detail["dtype"] == np.uint8 or not scale:
        return batch.astype(detail["dtype"], copy=False)
    return np.clip(np.round(batch / scale + zero_point), -128, 127).astype(detail["dtype"])


def _dequantized(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if values.dtype in (np.float32, np.float16) or not scale:
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * scale


def _runtime_module(module: str, package: str, file: Path) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportRuntimeUnavailable(
            f"Running {file.name} needs {package}, which is not installed: {INSTALL_HINT} "
            f"(the [{EXPORT_EXTRA}] extra), or use the Keras model"
        ) from None


def _check_output(model: ExportedModel) -> None:
    output = model.predict_on_batch(np.zeros((1, *IMAGE_SHAPE), dtype=np.uint8))
    if output.shape != (1, N_CLASSES):
        raise FerError(f"{model.path} returns shape {output.shape} for one face; a FER model returns "
                       f"({N_CLASSES},) probabilities per face")
