"""``python -m search export``: every format a small promoted model can take, float parity with the Keras model,
quantized agreement and accuracy on validation, logged on the registered version; ``predict`` runs each file.

Formats whose runtime is not installed (the ``[export]`` extra) are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from PIL import Image

from fer_core.data import make_demo_dataset
from fer_core.emotions import EMOTIONS
from fer_core.evaluate import predict_proba
from fer_core.predict import load_exported_model
from search import main
from search.errors import SearchError
from search.export import FLOAT_TOLERANCE, ExportFormat, ExportUnavailable
from search.paths import default_tracking_uri
from search.tracking import load_keras_model
from tests.fixtures.studies import SmokeStudy, working_copy

pytestmark = pytest.mark.integration

CHAMPION = "models:/fer-emotion@champion"
RUNTIMES = {"onnx": ("onnxruntime", "tf2onnx"), "litert": ("ai_edge_litert",), "saved_model": ()}
"""Modules each format needs beyond TensorFlow; a format lacking one is skipped (``pip install -e ".[export]"``)."""


def _needs(export_format: str) -> None:
    missing = [module for module in RUNTIMES[export_format] if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"--format {export_format} needs {', '.join(missing)}: pip install -e \".[export]\"")


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory, smoke_study: SmokeStudy) -> Iterator[Path]:
    """A private copy of the promoted smoke study, as the working directory of the module's tests."""
    with working_copy(smoke_study, tmp_path_factory.mktemp("export-study")) as folder:
        yield folder


@pytest.fixture(scope="module")
def exports(promoted: Path) -> dict[tuple[str, str], Path]:
    """Every (format, quantization) whose runtime is installed, exported once through the command."""
    made = {}
    for export_format, quantize in (("onnx", "none"), ("onnx", "int8"), ("litert", "none"), ("litert", "float16"),
                                    ("litert", "int8"), ("saved_model", "none")):
        if any(importlib.util.find_spec(module) is None for module in RUNTIMES[export_format]):
            continue
        suffix = {"onnx": ".onnx", "litert": ".tflite", "saved_model": ""}[export_format]
        out = promoted / "out" / f"{export_format}-{quantize}{suffix}"
        assert main(["export", "--format", export_format, "--quantize", quantize, "--out", str(out)]) == 0
        made[(export_format, quantize)] = out
    return made


def _version_tags() -> dict[str, str]:
    client = MlflowClient(default_tracking_uri())
    return dict(client.get_model_version_by_alias("fer-emotion", "champion").tags)


@pytest.mark.parametrize("export_format", ["onnx", "litert", "saved_model"])
def test_float_export_predicts_the_keras_probabilities(exports: dict, export_format: str) -> None:
    _needs(export_format)
    path = exports[(export_format, "none")]
    keras_model = load_keras_model(CHAMPION)
    faces = make_demo_dataset(143, seed=7).images[:1000]  # 1,000 demo faces, not those the command compared
    if export_format == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        exported = np.concatenate([np.asarray(loaded.serve(faces[i:i + 100][..., np.newaxis] if faces.ndim == 3
                                                           else faces[i:i + 100])) for i in range(0, 1000, 100)])
    else:
        exported = predict_proba(load_exported_model(path), faces, batch_size=64)
    assert np.abs(exported - predict_proba(keras_model, faces, batch_size=64)).max() <= FLOAT_TOLERANCE

    tags = _version_tags()
    prefix = f"export.{export_format}.none."
    assert float(tags[prefix + "max_abs_diff"]) <= FLOAT_TOLERANCE
    assert tags[prefix + "format"] == export_format and tags[prefix + "quantization"] == "none"
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
    assert int(tags[prefix + "size_bytes"]) == size
    assert float(tags[prefix + "latency_ms"]) > 0 and float(tags[prefix + "latency_batch64_ms"]) > 0
    assert 0 <= float(tags[prefix + "val_accuracy"]) <= 1 and float(tags[prefix + "top1_agreement"]) == 1.0
    # The file is an artifact of the registered version's run.
    run_id, artifact = tags[prefix + "artifact"].removeprefix("runs:/").split("/", 1)
    client = MlflowClient(default_tracking_uri())
    listed = {item.path for item in client.list_artifacts(run_id, f"exports/{export_format}-none")}
    assert artifact in listed


@pytest.mark.parametrize(("export_format", "quantize"), [("litert", "int8"), ("litert", "float16"), ("onnx", "int8")])
def test_quantized_export_reports_agreement_and_accuracy_on_validation(exports: dict, export_format: str,
                                                                      quantize: str) -> None:
    _needs(export_format)
    path = exports[(export_format, quantize)]
    tags = _version_tags()
    prefix = f"export.{export_format}.{quantize}."
    assert 0.0 <= float(tags[prefix + "top1_agreement"]) <= 1.0
    assert 0.0 <= float(tags[prefix + "val_accuracy"]) <= 1.0
    assert tags[prefix + "runtime"] == {"litert": "litert", "onnx": "onnxruntime"}[export_format]
    if export_format == "litert":
        from ai_edge_litert.interpreter import Interpreter

        dtypes = {detail["dtype"] for detail in Interpreter(model_path=str(path)).get_tensor_details()}
        assert (np.int8 if quantize == "int8" else np.float16) in dtypes  # really quantized
    else:
        import onnx

        ops = {node.op_type for node in onnx.load(str(path)).graph.node}
        assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    probabilities = predict_proba(load_exported_model(path), make_demo_dataset(10, seed=1).images)
    # An int8 output holds each probability in steps of 1/256: seven of them sum to 1 within 7/256.
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=7 / 256)


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """skimage's astronaut, a real colour photo of one frontal face, as a JPEG."""
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=95)
    return path


def _face(capsys: pytest.CaptureFixture[str], model: str, photo: Path) -> dict:
    capsys.readouterr()
    assert main(["predict", str(photo), "--model", model, "--format", "json"]) == 0
    (face,) = json.loads(capsys.readouterr().out)
    return face


def test_predict_runs_each_exported_file_on_a_real_photo(exports: dict, astronaut: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    files = {key: path for key, path in exports.items() if path.suffix in (".onnx", ".tflite")}
    if not files:
        pytest.skip('no .onnx or .tflite runtime installed: pip install -e ".[export]"')
    keras = _face(capsys, CHAMPION, astronaut)
    expected = np.array([keras["probabilities"][name] for name in EMOTIONS])
    top2 = np.sort(expected)[-2:]
    for (export_format, quantize), path in files.items():
        face = _face(capsys, str(path), astronaut)
        assert face["box"] == keras["box"]
        got = np.array([face["probabilities"][name] for name in EMOTIONS])
        tolerance = FLOAT_TOLERANCE if quantize == "none" else 0.03
        assert np.abs(got - expected).max() <= tolerance, (export_format, quantize)
        if top2[1] - top2[0] > 2 * tolerance:  # the emotion cannot flip within the tolerance
            assert face["emotion"] == keras["emotion"], (export_format, quantize)


def test_bad_requests_fail_with_the_rule_and_the_fix(promoted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["export", "--format", "saved_model", "--quantize", "int8"]) == 2
    assert "--format saved_model supports --quantize none (got 'int8')" in capsys.readouterr().err
    assert main(["export", "--format", "onnx", "--out", "model.tflite"]) == 2
    assert "--out of a --format onnx export must end in .onnx (got 'model.tflite')" in capsys.readouterr().err
    assert main(["export", "--format", "litert", "--model", "runs:/abc/model"]) == 2
    assert "--model must name a registered version" in capsys.readouterr().err
    assert main(["export", "--format", "litert", "--model", "models:/no-such-model@champion"]) == 1
    assert "No registered model version models:/no-such-model@champion" in capsys.readouterr().err


def test_a_missing_runtime_names_the_extra() -> None:
    absent = ExportFormat("demo", ".demo", ("none",), "demo-runtime", (("fer_no_such_module", "no-such-runtime"),))
    with pytest.raises(ExportUnavailable, match=r'needs no-such-runtime, not installed: run pip install -e "\.\[export\]"'):
        absent.check_installed()
    assert issubclass(ExportUnavailable, SearchError)


def test_the_parser_offers_the_formats_the_package_has() -> None:
    from search.cli._export import FORMAT_CHOICES, QUANTIZE_CHOICES
    from search.export import FORMATS, QUANTIZATIONS

    assert tuple(FORMATS) == FORMAT_CHOICES and QUANTIZE_CHOICES == QUANTIZATIONS
