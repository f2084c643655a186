"""``promote --max-latency-ms``: the selected model (with its TTA) is timed first and refused when too slow."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from search import main
from search.paths import default_tracking_uri
from tests.fixtures.studies import SmokeStudy

pytestmark = pytest.mark.integration


def _versions() -> list[str]:
    client = MlflowClient(default_tracking_uri())
    return sorted(v.version for v in client.search_model_versions("name='fer-emotion'"))


def test_a_slow_selected_model_is_refused_with_its_figure_and_the_fix(
        workdir: Path, smoke_study: SmokeStudy, capsys: pytest.CaptureFixture[str]) -> None:
    name = smoke_study.copy_to(workdir)
    before = _versions()
    capsys.readouterr()
    assert main(["promote", "--study", name, "--force", "--max-latency-ms", "0.0001"]) == 1
    err = capsys.readouterr().err
    assert "ms per face on this machine, over --max-latency-ms 0.0001; nothing was registered" in err
    assert "python -m search run --max-latency-ms 0.0001" in err and "best --pareto" in err
    assert _versions() == before

    assert main(["promote", "--study", name, "--force", "--max-latency-ms", "100000"]) == 0
    out = capsys.readouterr().out
    assert "Latency on this machine: " in out and "(limit 100000 ms per face)" in out
    assert len(_versions()) == len(before) + 1
