"""Fixtures for the search tests: a small FER2013-style CSV and an isolated working directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

USAGE_NAMES = ("Training", "PublicTest", "PrivateTest")


def write_fer_csv(path: Path, images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> Path:
    """Writes images in the FER2013 challenge layout ``emotion,pixels,Usage``."""
    lines = ["emotion,pixels,Usage"]
    for image, label, code in zip(images.reshape(len(images), -1), labels, usage):
        lines.append(f"{int(label)},{' '.join(map(str, image.tolist()))},{USAGE_NAMES[int(code)]}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """420 synthetic faces (60 per class) with an official-style 80/10/10 Usage column."""
    from fer_core.data import make_demo_dataset

    dataset = make_demo_dataset(60, seed=3)
    return write_fer_csv(tmp_path_factory.mktemp("data") / "small.csv", dataset.images, dataset.labels,
                         dataset.usage)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory, so ./mlruns is private to the test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("FER_SEARCH_CACHE", str(tmp_path / "cache"))
    return tmp_path
