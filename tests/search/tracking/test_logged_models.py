"""StudyTracker's logged models on a real MLflow store: found while they exist, deleted with their files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from fer_core.model import build_model, get_preset
from search.tracking import StudyTracker


def test_a_logged_model_is_found_until_it_is_deleted_with_its_files(workdir_with_store: Path) -> None:
    tracker = StudyTracker("models")
    run_id = tracker.client.create_run(tracker.experiment_id).info.run_id
    logged = tracker.log_keras_model(run_id, build_model(get_preset("tiny")))

    found = tracker.find_logged_model(logged.model_id)
    assert found.model_id == logged.model_id and found.source_run_id == run_id
    files = Path(unquote(urlparse(found.artifact_location).path))
    assert files.exists()

    tracker.delete_logged_model(logged.model_id)
    assert tracker.find_logged_model(logged.model_id) is None
    assert not files.exists()
    tracker.delete_logged_model(logged.model_id)  # already deleted (another worker did): left alone


def test_no_id_or_an_unknown_id_finds_nothing(workdir_with_store: Path) -> None:
    tracker = StudyTracker("models")
    assert tracker.find_logged_model(None) is None
    assert tracker.find_logged_model("") is None
    assert tracker.find_logged_model("m-0123456789abcdef0123456789abcdef") is None
