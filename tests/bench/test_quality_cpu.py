"""bench/quality_cpu.py: the reference network that sets its machine-independent budget."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

from fer_core.model import ArchitectureConfig, model_complexity

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import quality_cpu  # noqa: E402


def test_the_reference_network_has_about_fifty_thousand_parameters() -> None:
    complexity = model_complexity(ArchitectureConfig.from_dict(quality_cpu.REFERENCE, path="REFERENCE"))
    assert 45_000 <= complexity.n_params <= 55_000


def test_one_reference_epoch_is_timed_on_the_training_rows_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["emotion,pixels,Usage"]
    for usage, n_rows in (("Training", 192), ("PublicTest", 8), ("PrivateTest", 8)):
        for _ in range(n_rows):
            pixels = " ".join(str(value) for value in rng.integers(0, 256, 48 * 48))
            rows.append(f"{rng.integers(0, 7)},{pixels},{usage}")
    csv = tmp_path / "small.csv.gz"
    csv.write_bytes(gzip.compress("\n".join(rows).encode()))

    seconds, n_params, n_images = quality_cpu.reference_epoch_s(csv)

    assert n_images == 192
    assert n_params == model_complexity(ArchitectureConfig.from_dict(quality_cpu.REFERENCE, path="R")).n_params
    assert 0 < seconds < 60
