"""The export formats: file suffix, the quantizations each supports, and the packages it needs."""

from __future__ import annotations

from dataclasses import dataclass

from search.errors import SearchError, UsageError

EXPORT_EXTRA = "export"
INSTALL_HINT = f'pip install -e ".[{EXPORT_EXTRA}]"'
QUANTIZATIONS = ("none", "float16", "int8")


class ExportUnavailable(SearchError):
    """A converter or runtime of the asked format is not installed (the message names the extra)."""


@dataclass(frozen=True)
class ExportFormat:
    """One export format.

    Args:
        name: ``--format`` value.
        suffix: The exported file's suffix (empty: a directory).
        quantizations: The ``--quantize`` values it supports.
        runtime: The runtime its latency and accuracy are measured with.
        modules: Python modules (and their pip packages) the conversion and the runtime need.
    """

    name: str
    suffix: str
    quantizations: tuple[str, ...]
    runtime: str
    modules: tuple[tuple[str, str], ...]

    def check_quantization(self, quantize: str) -> None:
        """Raises UsageError for a ``--quantize`` this format does not support."""
        if quantize not in self.quantizations:
            raise UsageError(f"--format {self.name} supports --quantize {' or '.join(self.quantizations)} (got "
                             f"{quantize!r}); float16 and int8 are for --format litert, int8 also for onnx")

    def check_installed(self) -> None:
        """Raises ExportUnavailable naming the missing packages and the extra that installs them."""
        import importlib.util

        missing = [package for module, package in self.modules if importlib.util.find_spec(module) is None]
        if missing:
            raise ExportUnavailable(f"--format {self.name} needs {', '.join(missing)}, not installed: run "
                                    f"{INSTALL_HINT} (the [{EXPORT_EXTRA}] extra)")


FORMATS: dict[str, ExportFormat] = {
    "onnx": ExportFormat("onnx", ".onnx", ("none", "int8"), "onnxruntime",
                         (("tf2onnx", "tf2onnx"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime"))),
    "litert": ExportFormat("litert", ".tflite", ("none", "float16", "int8"), "litert",
                           (("ai_edge_litert", "ai-edge-litert"),)),
    "saved_model": ExportFormat("saved_model", "", ("none",), "tensorflow", ()),
}
"""``--format`` name -> format; ``saved_model`` needs only TensorFlow (always installed)."""


def export_format(name: str) -> ExportFormat:
    """The format called ``name`` (UsageError listing the formats otherwise)."""
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {name!r})") from None
