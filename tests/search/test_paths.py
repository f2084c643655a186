"""``search.paths``: study names checked wherever they become folders, and atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from search import paths
from search.errors import SettingsError


@pytest.mark.parametrize("name", [".", "..", "../../etc", "a/b", "/abs", "", "x" * 201])
def test_names_read_back_from_a_storage_are_checked_before_they_become_paths(name: str, workdir: Path) -> None:
    for folder in (paths.refit_dir, paths.keras_tuner_dir, paths.default_artifact_location):
        with pytest.raises(SettingsError, match=r"The study name .* must be 1-200 letters"):
            folder(name)


def test_a_valid_name_stays_inside_mlruns(workdir: Path) -> None:
    assert paths.refit_dir("smoke-demo.v2") == workdir / "mlruns" / "refit" / "smoke-demo.v2"
    assert paths.keras_tuner_dir("a_b") == workdir / "mlruns" / "keras_tuner" / "a_b"


def test_an_atomic_write_replaces_the_whole_file_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    paths.atomic_write_text(target, "old")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError), paths.atomic_write(target) as stream:
        stream.write("half a ne")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.html"]
    paths.atomic_write_text(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["report.html"]
    assert target.stat().st_mode & 0o777 == 0o640  # the file keeps its mode


def test_an_atomic_path_keeps_the_extension_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.weights.h5"
    with paths.atomic_path(target) as temporary:
        assert temporary.name.endswith("-checkpoint.weights.h5") and temporary.parent == tmp_path
        temporary.write_bytes(b"weights")
    assert target.read_bytes() == b"weights"
    with pytest.raises(OSError), paths.atomic_path(target) as temporary:
        temporary.write_bytes(b"trunc")
        raise OSError("killed")
    assert target.read_bytes() == b"weights" and os.listdir(tmp_path) == ["checkpoint.weights.h5"]


def test_the_storage_can_come_from_the_environment(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.default_study_storage() == f"sqlite:///{workdir / 'mlruns' / 'optuna.db'}"
    monkeypatch.setenv(paths.STUDY_STORAGE_ENV, "postgresql://fer:S3cret@db/x")
    assert paths.default_study_storage() == "postgresql://fer:S3cret@db/x"
