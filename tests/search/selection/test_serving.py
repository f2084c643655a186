"""Serving the promoted model: ``mlflow models serve -m models:/fer-emotion@champion`` answers what was scored."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from search import main
from search.paths import default_tracking_uri
from search.tracking import model_signature, port_is_free, stop_process_group

pytestmark = pytest.mark.integration

CHAMPION = "models:/fer-emotion@champion"
KERAS_INPUT_NAME = "image"  # the name fer_core.model's builder gives the model's input layer
START_TIMEOUT_S = 240.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _faces(n_per_class: int = 3) -> np.ndarray:
    from fer_core.data import make_demo_dataset

    return make_demo_dataset(n_per_class, seed=11).images


def _invoke(url: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}/invocations", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        pytest.fail(f"/invocations answered {error.code}: {error.read().decode()[-2000:]}")


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow models serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow models serve did not answer within {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")


def test_served_champion_predicts_what_its_test_score_measured(workdir_with_store: Path, small_csv: Path) -> None:
    """A champion test-scored with flip TTA carries it inside: the server answers the TTA-averaged probabilities."""
    import mlflow
    from mlflow import MlflowClient

    from fer_core.evaluate import log_probabilities, predict_proba, temperature_scaled

    assert main(["run", "--space", "smoke", "--data", str(small_csv), "--study", "serve", "--trials", "1",
                 "--epochs", "1", "--refit-top", "1", "--refit-epochs", "1"]) == 0
    assert main(["promote", "--study", "serve"]) == 0
    mlflow.set_tracking_uri(default_tracking_uri())
    version = MlflowClient().get_model_version_by_alias("fer-emotion", "champion")
    assert (version.tags["tta"], version.tags["tta_in_model"]) == ("flip", "true")
    faces = _faces()
    scored_model = mlflow.keras.load_model(version.tags["scored_model"], load_model_kwargs={"safe_mode": True})
    # ... with the temperature fitted on validation applied on top (softmax(log p / T)).
    temperature = _temperature("serve")
    expected = temperature_scaled(log_probabilities(predict_proba(scored_model, faces, tta="flip")), temperature)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir_with_store / "serve.log"
    env = {**os.environ, "MLFLOW_TRACKING_URI": default_tracking_uri()}
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", CHAMPION, "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_serving(process, url, log)
        served = np.asarray(_invoke(url, {"inputs": faces.tolist()})["predictions"], dtype=np.float32)
    finally:
        stop_process_group(process)
    assert port_is_free("127.0.0.1", port)

    assert served.shape == (len(faces), 7)
    np.testing.assert_allclose(served, expected, atol=1e-5)
    np.testing.assert_allclose(mlflow.pyfunc.load_model(CHAMPION).predict(faces), expected, atol=1e-5)
    assert not np.allclose(temperature_scaled(log_probabilities(scored_model.predict(faces, verbose=0)), temperature),
                           expected, atol=1e-5), "flip TTA must show"
    assert np.allclose(served.sum(axis=1), 1.0, atol=1e-4)


def test_signature_names_the_models_input_layer() -> None:
    """pyfunc (and so serving) feeds the model a dict keyed by the signature's input name."""
    from fer_core.model import build_model, get_preset

    model = build_model(get_preset("tiny"))
    assert model.layers[0].name == KERAS_INPUT_NAME
    assert model_signature().inputs.input_names() == [KERAS_INPUT_NAME]


def _temperature(study_name: str) -> float:
    """The calibration temperature the study recorded with its test score."""
    import optuna

    from search.paths import default_study_storage

    study = optuna.load_study(study_name=study_name, storage=default_study_storage())
    return float(study.user_attrs["fer.calibration"]["temperature"])
