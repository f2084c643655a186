"""``python -m search evaluate`` on the promoted smoke study: faces from elsewhere, end to end through MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core.data import load_dataset, load_labelled_folder, make_demo_dataset
from fer_core.emotions import EMOTIONS
from search import main
from tests.fixtures.data import write_fer_csv
from tests.fixtures.studies import SmokeStudy

FOLDER_NAMES = {"angry": "anger", "fear": "fearful", "happy": "Happiness", "sad": "sadness", "surprise": "surprised",
                "neutral": "neutral"}  # no disgust: a class the set lacks
N_SEEN = 2


def _elsewhere_folder(root: Path, small_csv: Path) -> Path:
    """Faces drawn by another seed and rendered otherwise (96 px, tinted colour, mirrored, JPEG), in folders named
    as other data sets name them, a `contempt` folder, and two faces copied from the study's training split."""
    faces = make_demo_dataset(4, seed=97)
    rng = np.random.default_rng(5)
    for index, (face, label) in enumerate(zip(faces.images[..., 0], faces.labels, strict=True)):
        emotion = EMOTIONS[int(label)]
        folder = root / FOLDER_NAMES.get(emotion, "contempt")
        folder.mkdir(parents=True, exist_ok=True)
        tint = rng.uniform(0.7, 1.0, size=3)
        colour = (np.repeat(face[:, ::-1, None], 3, axis=2) * tint).astype(np.uint8)
        Image.fromarray(colour).resize((96, 96)).save(folder / f"face{index}.jpg", quality=90)
    study_data = load_dataset(small_csv, use_cache=False)
    training = study_data.images[study_data.usage == 0]
    for index in range(N_SEEN):  # byte-identical to training faces: must be reported
        Image.fromarray(training[index, ..., 0]).save(root / "anger" / f"seen{index}.png")
    return root


def test_evaluate_scores_the_champion_on_faces_from_elsewhere_and_records_it(
        workdir: Path, smoke_study: SmokeStudy, capsys: pytest.CaptureFixture[str]) -> None:
    import mlflow
    from mlflow import MlflowClient

    from search.paths import default_tracking_uri

    study = smoke_study.copy_to(workdir)
    folder = _elsewhere_folder(workdir / "elsewhere", smoke_study.csv)
    capsys.readouterr()
    assert main(["evaluate", "--data", str(folder), "--name", "elsewhere", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert "Skipped folder 'contempt' (4 file(s)): not one of our emotions" in err
    assert "Absent from the set (no recall, left out of macro-F1): disgust" in err
    n_faces = 6 * 4 + N_SEEN
    assert f"Warning: {N_SEEN} of {n_faces} faces are identical to training faces of study 'smoke'" in err
    assert summary["n_samples"] == n_faces and summary["absent"] == ["disgust"]
    assert summary["training_overlap"] == N_SEEN and set(summary["skipped_folders"]) == {"contempt"}

    # The score is the champion's own accuracy on these faces (safe-mode load, independently recomputed).
    mlflow.set_tracking_uri(default_tracking_uri())
    client = MlflowClient()
    version = client.get_model_version_by_alias("fer-emotion", "champion")
    champion = mlflow.keras.load_model("models:/fer-emotion@champion", load_model_kwargs={"safe_mode": True})
    faces = load_labelled_folder(folder).dataset
    accuracy = float(np.mean(champion.predict(faces.images, verbose=0).argmax(axis=1) == faces.labels))
    assert summary["accuracy"] == pytest.approx(accuracy)
    low, high = summary["ci95"]
    assert low <= accuracy <= high and 0 < high - low < 0.5

    # Recorded: an evaluation run under the study's run, linked to the version, and tags on the version.
    run = client.get_run(summary["run_id"])
    tags = run.data.tags
    assert tags["fer.role"] == "evaluation" and tags["fer.eval_name"] == "elsewhere"
    assert (tags["fer.eval_model_name"], tags["fer.eval_model_version"]) == ("fer-emotion", str(version.version))
    assert tags["fer.eval_model_run_id"] == version.run_id and tags["fer.eval_training_overlap"] == str(N_SEEN)
    assert tags["mlflow.parentRunId"] == client.search_runs(
        [run.info.experiment_id], "tags.`fer.role` = 'study'")[0].info.run_id
    assert run.data.metrics["accuracy"] == pytest.approx(accuracy) and run.info.status == "FINISHED"
    assert "recall_disgust" not in run.data.metrics and "recall_angry" in run.data.metrics
    version_tags = client.get_model_version("fer-emotion", str(version.version)).tags
    assert version_tags["eval.elsewhere.accuracy"] == f"{accuracy:.6f}"
    assert version_tags["eval.elsewhere.n"] == str(n_faces)
    assert version_tags["eval.elsewhere.ci95"] == f"{low:.6f}-{high:.6f}"
    assert version_tags["eval.elsewhere.run_id"] == summary["run_id"]

    # Listed by best and promote, shown in the report.
    assert main(["best", "--study", study]) == 0
    assert "Evaluations on other data sets" in capsys.readouterr().out
    assert main(["promote", "--study", study, "--force"]) == 0
    listed = capsys.readouterr().out
    assert "Evaluations on other data sets" in listed and "elsewhere" in listed and f"{accuracy:.4f}" in listed
    report = workdir / "report.html"
    assert main(["report", "--study", study, "--out", str(report)]) == 0
    html = report.read_text()
    assert "Evaluations on other data sets" in html and "elsewhere" in html and f"{accuracy:.4f}" in html


def test_evaluate_reads_every_row_of_a_csv_and_refuses_bad_names(
        workdir: Path, smoke_study: SmokeStudy, capsys: pytest.CaptureFixture[str]) -> None:
    smoke_study.copy_to(workdir)
    other = make_demo_dataset(3, seed=41)
    keep = other.labels != EMOTIONS.index("surprise")
    csv = write_fer_csv(workdir / "other.csv", other.images[keep], other.labels[keep], other.usage[keep])
    capsys.readouterr()
    assert main(["evaluate", "--data", str(csv), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "other" and summary["n_samples"] == int(keep.sum())  # Usage ignored: all rows
    assert summary["absent"] == ["surprise"] and summary["data_kind"] == "csv"
    assert main(["evaluate", "--data", str(csv), "--name", "other-table"]) == 0
    table = capsys.readouterr().out
    assert f"models:/fer-emotion@champion on other-table ({int(keep.sum())} faces" in table
    assert "95% CI" in table and "(Wilson)" in table and "surprise  0" in table and "absent" in table
    assert "confusion (rows true, columns predicted):" in table and "tags eval.other-table.* on fer-emotion" in table

    assert main(["evaluate", "--data", str(csv), "--name", "a.b"]) == 2
    assert "--name must be 1 to 64 letters" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(workdir / "missing.csv")]) == 2
    assert main(["evaluate", "--data", str(csv), "--model", "models:/nope@champion"]) == 1
    assert "No registered model version models:/nope@champion" in capsys.readouterr().err
