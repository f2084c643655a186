"""``export``: a registered model version to ONNX, LiteRT or SavedModel, checked, timed and logged on it.

The version's model (with its TTA inside when it was promoted with one) is converted, compared with the Keras
model (``_parity``), timed with the export's own runtime, and logged on the version's run as
``exports/<format>-<quantization>/<file>`` with the figures as version tags (``export.<format>.<quantization>.*``).
Int8 quantization is calibrated on the study's training faces; accuracy is measured on its validation split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import NotFoundError, UsageError
from search.export._convert import convert
from search.export._formats import export_format
from search.export._parity import Parity, check_float_parity, measure_parity
from search.export._runtime import open_exported

N_CALIBRATION_FACES = 200
CALIBRATION_SEED = 24
LATENCY_BUDGET_S = 1.0
DEFAULT_EXPORT_DIR = Path("exports")


@dataclass(frozen=True)
class ExportResult:
    """One export and what was measured.

    Args:
        path: The exported file (a directory for a SavedModel).
        export_format: ``onnx``, ``litert`` or ``saved_model``.
        quantize: ``none``, ``float16`` or ``int8``.
        runtime: What ran it for the figures below.
        size_bytes: Its size on disk.
        parity: Agreement with the Keras model and validation accuracy.
        latency: Its latency with its runtime (``fer_core.predict.Latency``).
        keras_latency: The Keras model's latency, measured the same way.
        version: ``name/version`` it was exported from.
        artifact_uri: Where it is logged (None when the version has no run).
    """

    path: Path
    export_format: str
    quantize: str
    runtime: str
    size_bytes: int
    parity: Parity
    latency: Any
    keras_latency: Any
    version: str
    artifact_uri: str | None


def export_registered_model(model_uri: str, format_name: str, quantize: str = "none", *, out: Path | None = None,
                            storage: str | None = None) -> ExportResult:
    """Exports the registered version ``model_uri`` (``models:/name@alias`` or ``models:/name/N``).

    Raises:
        UsageError: Not a registry URI, or a quantization the format does not support.
        ExportUnavailable: The format's converter or runtime is not installed.
        NotFoundError: No such version, or its study is not in ``storage``.
        ExportParityError: A float export drifts from the Keras model (nothing is logged).
    """
    from fer_core.predict import keras_predict_fn, measure_latency
    from search.tracking import EXPORTS_ARTIFACT_DIR, export_tag, load_keras_model, log_version_export

    fmt = export_format(format_name)
    fmt.check_quantization(quantize)
    fmt.check_installed()
    if out is not None and fmt.suffix and out.suffix != fmt.suffix:
        raise UsageError(f"--out of a --format {fmt.name} export must end in {fmt.suffix} (got {str(out)!r}): "
                         "predict and the runtimes pick the format by the suffix")
    version = _version(model_uri)
    data = _study_data(version, storage)
    model = load_keras_model(model_uri)
    target = out or DEFAULT_EXPORT_DIR / f"{_safe(version.name)}-v{version.version}-{fmt.name}-{quantize}{fmt.suffix}"
    convert(model, fmt, quantize, target, _calibration_faces(data.train.images))
    exported = open_exported(target, fmt)
    validation = data.splits.validation
    parity = measure_parity(model, exported, validation.images, validation.labels)
    if quantize == "none":
        check_float_parity(parity, f"The {fmt.name} export {target}")
    latency = measure_latency(exported.predict_on_batch, budget_s=LATENCY_BUDGET_S)
    keras_latency = measure_latency(keras_predict_fn(model), budget_s=LATENCY_BUDGET_S)
    size = _size_bytes(target)
    fields = {
        "format": fmt.name, "quantization": quantize, "runtime": fmt.runtime, "size_bytes": str(size),
        "latency_ms": f"{latency.single_ms:.4f}", "latency_batch64_ms": f"{latency.batch_ms:.4f}",
        "val_accuracy": f"{parity.val_accuracy:.6f}", "top1_agreement": f"{parity.top1_agreement:.6f}",
        "max_abs_diff": f"{parity.max_abs_diff:.3e}",
    }
    artifact_dir = f"{EXPORTS_ARTIFACT_DIR}/{fmt.name}-{quantize}"
    tags = {export_tag(fmt.name, quantize, key): value for key, value in fields.items()}
    uri = log_version_export(version, target, artifact_dir, tags)
    if uri is not None:
        log_version_export(version, target, artifact_dir, {export_tag(fmt.name, quantize, "artifact"): uri})
    return ExportResult(path=target, export_format=fmt.name, quantize=quantize, runtime=fmt.runtime, size_bytes=size,
                        parity=parity, latency=latency, keras_latency=keras_latency,
                        version=f"{version.name}/{version.version}", artifact_uri=uri)


def _version(model_uri: str) -> Any:
    from search.tracking import registered_version

    try:
        version = registered_version(model_uri)
    except Exception as error:  # noqa: BLE001 - MLflow's registry errors carry no type search may import
        reason = str(error).splitlines()[0]
        raise NotFoundError(f"No registered model version {model_uri} ({reason}); promote a study first "
                            "(`python -m search promote`) or pass --model models:/<name>/<version>") from None
    if version is None:
        raise UsageError(f"--model must name a registered version, models:/<name>@<alias> or models:/<name>/<n> "
                         f"(got {model_uri!r}): the export is logged on that version")
    return version


def _study_data(version: Any, storage: str | None) -> Any:
    """The data of the study the version came from (fingerprint checked), for calibration and validation."""
    from search.paths import default_study_storage
    from search.study import load_existing_study, open_scored_context, open_storage
    from search.tracking import VERSION_STUDY_TAG

    name = version.tags.get(VERSION_STUDY_TAG)
    if not name:
        raise NotFoundError(f"{version.name} version {version.version} has no '{VERSION_STUDY_TAG}' tag: it was not "
                            "promoted by `python -m search promote`, so its data is unknown")
    study = load_existing_study(open_storage(storage or default_study_storage()), name)
    return open_scored_context(study)[1]


def _calibration_faces(train_images: np.ndarray) -> np.ndarray:
    """Up to ``N_CALIBRATION_FACES`` training faces, drawn once with a fixed seed (uint8, N x 48 x 48 x 1)."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    chosen = rng.choice(len(train_images), size=min(N_CALIBRATION_FACES, len(train_images)), replace=False)
    faces = np.asarray(train_images[np.sort(chosen)], dtype=np.uint8)
    return faces[..., np.newaxis] if faces.ndim == 3 else faces


def _size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
