"""Converting a Keras model to an export format, float or quantized.

ONNX goes through Keras' own ``model.export(format="onnx")`` (tf2onnx), int8 ONNX through ONNX Runtime's
static quantization (QDQ); LiteRT through Keras' ``model.export(format="litert")`` (TensorFlow's LiteRT
converter), with its float16 or int8 post-training quantization; SavedModel through ``format="tf_saved_model"``.
Every quantization to int8 is calibrated on the faces given (training faces).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import UsageError
from search.export._formats import ExportFormat
from search.export._inference import inference_copy

SAVED_MODEL_FILE = "saved_model.pb"


def convert(model: Any, export_format: ExportFormat, quantize: str, out: Path, calibration: np.ndarray) -> Path:
    """Writes ``model`` (its inference copy) to ``out`` in ``export_format``; returns ``out``.

    Args:
        model: A Keras model taking uint8 faces (N, 48, 48, 1).
        export_format: The format (its converter must be installed: ``check_installed``).
        quantize: ``none``, ``float16`` or ``int8`` (one the format supports).
        out: The file (or directory, for a SavedModel) to write; replaced when it exists.
        calibration: uint8 faces that calibrate an int8 quantization (ignored otherwise).
    """
    export_format.check_quantization(quantize)
    copy = inference_copy(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_dir():
        if not (out / SAVED_MODEL_FILE).is_file():  # never delete a folder this command did not write
            raise UsageError(f"--out {out} is a folder that is not a SavedModel: pass a new path (an existing "
                             "SavedModel is replaced)")
        shutil.rmtree(out)
    if export_format.name == "onnx":
        _to_onnx(copy, out, quantize, calibration)
    elif export_format.name == "litert":
        copy.export(str(out), format="litert", verbose=False, **_litert_options(quantize, calibration))
    else:
        copy.export(str(out), format="tf_saved_model", verbose=False)
    return out


def _to_onnx(model: Any, out: Path, quantize: str, calibration: np.ndarray) -> None:
    if quantize == "none":
        model.export(str(out), format="onnx", verbose=False)
        return
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    with tempfile.TemporaryDirectory(prefix="fer-export-") as folder:
        float_file = Path(folder) / "float.onnx"
        model.export(str(float_file), format="onnx", verbose=False)
        quantize_static(str(float_file), str(out), _OnnxCalibration(float_file, calibration),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True)


class _OnnxCalibration:
    """ONNX Runtime's CalibrationDataReader over calibration faces, one face per call."""

    def __init__(self, float_file: Path, faces: np.ndarray) -> None:
        import onnxruntime as ort

        session = ort.InferenceSession(str(float_file), providers=["CPUExecutionProvider"])
        self._name = session.get_inputs()[0].name
        self._faces: Iterator[np.ndarray] = iter(faces)

    def get_next(self) -> dict[str, np.ndarray] | None:
        face = next(self._faces, None)
        return None if face is None else {self._name: face[np.newaxis]}


def _litert_options(quantize: str, calibration: np.ndarray) -> dict[str, Any]:
    """Converter settings of a LiteRT post-training quantization (none: plain float32)."""
    if quantize == "none":
        return {}
    import tensorflow as tf

    if quantize == "float16":
        return {"optimizations": [tf.lite.Optimize.DEFAULT], "target_spec": {"supported_types": [tf.float16]}}

    def representative() -> Iterator[list[np.ndarray]]:
        for face in calibration:
            yield [face[np.newaxis]]

    return {"optimizations": [tf.lite.Optimize.DEFAULT], "representative_dataset": representative}
