"""notebooks/explore_study.ipynb: committed without outputs, and runs top to bottom on a smoke study."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tests.fixtures.studies import SMOKE_STUDY, SmokeStudy

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_study.ipynb"
STUDY = SMOKE_STUDY


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    dirty = [i for i, cell in enumerate(_code_cells(notebook)) if cell.outputs or cell.execution_count is not None]
    assert dirty == [], f"code cells {dirty} carry outputs or execution counts: clear them before committing"


def test_parameters_come_first() -> None:
    first = _code_cells(nbformat.read(NOTEBOOK, as_version=4))[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert "STUDY_NAME" in first.source and "TRACKING_URI" in first.source


@pytest.fixture
def smoke_study_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smoke_study: SmokeStudy) -> Path:
    """A working directory whose ./mlruns holds a private copy of the session's finished, test-scored smoke
    study (``tests/fixtures/studies.py``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("FER_SEARCH_CACHE", str(tmp_path / "cache"))
    smoke_study.copy_to(tmp_path)
    return tmp_path


def _figures(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    """The plotly figures the notebook displayed, by title."""
    figures = {}
    for cell in _code_cells(notebook):
        for output in cell.outputs:
            figure = output.get("data", {}).get("application/vnd.plotly.v1+json")
            if figure is not None:
                title = figure["layout"].get("title", {})
                figures[title.get("text", "") if isinstance(title, dict) else str(title)] = figure
    return figures


def _plotly_array(value: object) -> np.ndarray:
    """A plotly JSON array: a nested list, or a typed array ``{dtype, bdata (base64), shape}``."""
    if isinstance(value, dict) and "bdata" in value:
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value, dtype=float)


def _recorded_test_confusion(study: str) -> np.ndarray:
    import mlflow
    from mlflow import MlflowClient

    from search.paths import default_tracking_uri

    client = MlflowClient(default_tracking_uri())
    experiment = client.get_experiment_by_name(study)
    parent = client.search_runs([experiment.experiment_id], "tags.`fer.role` = 'study'")[0]
    mlflow.set_tracking_uri(default_tracking_uri())
    return np.asarray(json.loads(mlflow.artifacts.load_text(
        f"runs:/{parent.info.run_id}/test/score_1.json"))["confusion"])


def test_notebook_runs_on_a_smoke_study(smoke_study_dir: Path) -> None:
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = notebook.cells
    position = next(i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", []))
    cells.insert(position + 1, nbformat.v4.new_code_cell(f"STUDY_NAME = {STUDY!r}",
                                                         metadata={"tags": ["injected-parameters"]}))

    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(smoke_study_dir)}}).execute()

    texts = [json.dumps(output.get("data", {})) + output.get("text", "")
             for cell in _code_cells(notebook) for output in cell.outputs]
    assert any(f"**Study `{STUDY}`**" in text and "Selected model: trial #" in text for text in texts)
    assert not any("Downloading artifacts" in text for text in texts)
    figures = _figures(notebook)
    for expected in ("Images per class and split", "Learning curves of the", "on the test split",
                     "Validation accuracy vs parameters", "Hyperparameters of the complete trials",
                     "Optimisation history"):
        assert any(expected in title for title in figures), f"no figure titled {expected!r} in {list(figures)}"
    # The confusion matrix shown is the one `search test` recorded (row-normalized), not a recomputation.
    confusion = next(figure for title, figure in figures.items() if "on the test split" in title)
    shown = _plotly_array(confusion["data"][0]["z"])
    assert np.allclose(shown, _recorded_test_confusion(STUDY))
