"""Exporting a registered model to edge formats (ONNX, LiteRT, SavedModel), float or quantized, checked for
parity with the Keras model, timed with each format's own runtime and logged on the registered version; and
the latency gate of ``promote --max-latency-ms``.

Beside ``report``, ``refit`` and ``engines``: it reads the registry and the study (below it), never them.
"""

from __future__ import annotations

from search.export._convert import convert
from search.export._formats import FORMATS, INSTALL_HINT, QUANTIZATIONS, ExportFormat, ExportUnavailable, export_format
from search.export._inference import inference_copy
from search.export._job import ExportResult, export_registered_model
from search.export._parity import FLOAT_TOLERANCE, ExportParityError, Parity, measure_parity
from search.export._promotion_latency import LatencyRefused, check_promotion_latency

__all__ = [
    "FLOAT_TOLERANCE",
    "FORMATS",
    "INSTALL_HINT",
    "QUANTIZATIONS",
    "ExportFormat",
    "ExportParityError",
    "ExportResult",
    "ExportUnavailable",
    "LatencyRefused",
    "Parity",
    "check_promotion_latency",
    "convert",
    "export_format",
    "export_registered_model",
    "inference_copy",
    "measure_parity",
]
